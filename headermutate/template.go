package headermutate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wasmpolicy/policy"
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

// part is literal text, or a placeholder when from is set.
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
			return template{}, fmt.Errorf("at offset %d: %w", i, err)
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
			return part{}, 0, fmt.Errorf("%%REQ(...)%% needs a header name without CR, LF or NUL, not %q", name)
		}
		return part{from: func(src source) string { v, _ := src.RequestHeader(name); return v }}, end + 2, nil
	}
	end := strings.IndexByte(s[1:], '%')
	if end < 0 {
		return part{}, 0, errors.New(`'%' starts a placeholder that never ends; write %% for a literal '%'`)
	}
	name := s[1 : 1+end]
	for _, p := range placeholders {
		if p.name == name {
			return part{from: p.from}, end + 2, nil
		}
	}
	return part{}, 0, fmt.Errorf("unknown placeholder %q; known: %s; write %%%% for a literal '%%'", "%"+name+"%", knownPlaceholders())
}

func knownPlaceholders() string {
	names := []string{"%REQ(header)%"}
	for _, p := range placeholders {
		names = append(names, "%"+p.name+"%")
	}
	return strings.Join(names, ", ")
}

// render computes the value for one request. A placeholder whose value is
// missing renders as "".
func (t template) render(src source) string {
	switch len(t.parts) {
	case 0:
		return ""
	case 1:
		return t.parts[0].eval(src)
	}
	// Evaluate first, so that the value is allocated once, at its size.
	var buf [8]string
	vals, n := buf[:0], 0
	for _, p := range t.parts {
		v := p.eval(src)
		vals = append(vals, v)
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range vals {
		b.WriteString(v)
	}
	return b.String()
}

func (p part) eval(src source) string {
	if p.from != nil {
		return p.from(src)
	}
	return p.text
}

// literal returns the template's text if it has no placeholders.
func (t template) literal() (string, bool) {
	for _, p := range t.parts {
		if p.from != nil {
			return "", false
		}
	}
	return t.render(nil), true
}
