package headermutate

import (
	"errors"
	"strings"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/internal/text"
)

// source is what a template reads from the request; *policy.Exchange is one.
// Tests render templates from a fake.
type source interface {
	RequestHeader(name string) (string, bool)
	SourceAddress() string
	SourceIP() string
	RouteName() string
	RequestID() string
}

// template is a parsed header value: literal text and placeholders.
type template struct {
	parts []part
}

// part is literal text, or a placeholder when from is set; text is then
// the placeholder as written in the configuration, for the log.
type part struct {
	text string
	from func(source) string
}

// placeholders are the %NAME% placeholders besides %REQ(name)%, with
// Envoy's names where Envoy has one.
var placeholders = [...]struct {
	name string
	from func(source) string
}{
	{"DOWNSTREAM_REMOTE_ADDRESS", func(s source) string { return s.SourceAddress() }},
	{"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", func(s source) string { return s.SourceIP() }},
	{"ROUTE_NAME", func(s source) string { return s.RouteName() }},
	{"REQUEST_ID", func(s source) string { return s.RequestID() }},
}

const reqPrefix = "%REQ("

// parseTemplate parses a header value. Its errors give the byte offset of
// the problem in s.
func parseTemplate(s string) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "%%") {
			lit.WriteByte('%')
			i += 2
			continue
		}
		p, n, err := parsePlaceholder(s[i:])
		if err != nil {
			return template{}, text.Errorf("at offset %d: %w", i, err)
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{text: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, p)
		i += n
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{text: lit.String()})
	}
	return t, nil
}

// parsePlaceholder parses the placeholder at the start of s (which starts
// with '%') and returns it with its length.
func parsePlaceholder(s string) (part, int, error) {
	if strings.HasPrefix(s, reqPrefix) {
		// ')' cannot appear in a header name, so the first one closes.
		end := strings.IndexByte(s, ')')
		if end < 0 || !strings.HasPrefix(s[end:], ")%") {
			return part{}, 0, errors.New(`%REQ( must be closed by )%, as in %REQ(x-user)%`)
		}
		name := policy.HeaderName(s[len(reqPrefix):end])
		if name == "" || strings.ContainsAny(name, "\r\n\x00") {
			return part{}, 0, text.Errorf("%%REQ(...)%% needs a header name without CR, LF or NUL, not %q", name)
		}
		from := func(src source) string { v, _ := src.RequestHeader(name); return v }
		return part{text: reqPrefix + name + ")%", from: from}, end + 2, nil
	}
	end := strings.IndexByte(s[1:], '%')
	if end < 0 {
		return part{}, 0, errors.New(`'%' starts a placeholder that never ends; write %% for a literal '%'`)
	}
	name := s[1 : 1+end]
	for _, p := range placeholders {
		if p.name == name {
			return part{text: "%" + name + "%", from: p.from}, end + 2, nil
		}
	}
	return part{}, 0, text.Errorf("unknown placeholder %q; known: %s; write %%%% for a literal '%%'", "%"+name+"%", knownPlaceholders())
}

func knownPlaceholders() string {
	names := []string{"%REQ(header)%"}
	for _, p := range placeholders {
		names = append(names, "%"+p.name+"%")
	}
	return strings.Join(names, ", ")
}

// MaxValueLength is the longest value, in bytes, the filter sends as a
// header value: the limit every filter keeps to, policy.MaxHeaderValue.
const MaxValueLength = policy.MaxHeaderValue

// fault says why a rendered value cannot be sent as a header value, without
// holding the value: the placeholder whose value has a control character
// other than tab (and the character), or the rendered length when it is
// more than MaxValueLength. The zero fault means the value is valid.
type fault struct {
	placeholder string
	char        byte
	length      int
}

func (f fault) ok() bool { return f.placeholder == "" && f.length == 0 }

func (f fault) String() string {
	if f.placeholder != "" {
		const hex = "0123456789abcdef"
		return "the value of " + f.placeholder + " holds the control character 0x" + string([]byte{hex[f.char>>4], hex[f.char&15]})
	}
	return text.Sprintf("the value renders to %d bytes, more than the limit of %d", f.length, MaxValueLength)
}

// render computes the value for one request. A placeholder whose value is
// missing renders as "". A value that cannot be sent as a header value (a
// placeholder's value holds a control character other than tab, or the
// value is longer than MaxValueLength) is not built: render returns "" and
// the fault. Literal text was checked when the template was configured.
func (t template) render(src source) (string, fault) {
	switch len(t.parts) {
	case 0:
		return "", fault{}
	case 1:
		p := t.parts[0]
		v := p.eval(src)
		if f := p.check(v); !f.ok() {
			return "", f
		}
		if len(v) > MaxValueLength {
			return "", fault{length: len(v)}
		}
		return v, fault{}
	}
	// Evaluate and check first, so that the value is allocated once, at its
	// size, and only if it is valid.
	var buf [8]string
	vals, n := buf[:0], 0
	for _, p := range t.parts {
		v := p.eval(src)
		if f := p.check(v); !f.ok() {
			return "", f
		}
		vals = append(vals, v)
		n += len(v)
	}
	if n > MaxValueLength {
		return "", fault{length: n}
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range vals {
		b.WriteString(v)
	}
	return b.String(), fault{}
}

func (p part) eval(src source) string {
	if p.from != nil {
		return p.from(src)
	}
	return p.text
}

// check reports a control character in a placeholder's value v.
func (p part) check(v string) fault {
	if p.from == nil {
		return fault{}
	}
	if i := httptoken.ControlChar(v); i >= 0 {
		return fault{placeholder: p.text, char: v[i]}
	}
	return fault{}
}

// literal is the template's literal text, placeholders left out, and
// whether it has no placeholders.
func (t template) literal() (string, bool) {
	var b strings.Builder
	only := true
	for _, p := range t.parts {
		if p.from != nil {
			only = false
			continue
		}
		b.WriteString(p.text)
	}
	return b.String(), only
}
