// Package template parses and renders the value templates of the filters
// that write values taken from the request: headermutate's header values
// and bodymutate's JSON values. One parser, one set of placeholders, and one
// meaning for each, wherever a value is written.
package template

import (
	"errors"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz/claims"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/internal/text"
)

// Source is what a template reads from the request; *policy.Exchange is
// one. Tests render templates from a fake.
type Source interface {
	RequestHeader(name string) (string, bool)
	SourceAddress() string
	SourceIP() string
	RouteName() string
	RequestID() string
	// Value holds the verified claims (package authz/claims).
	Value(key any) any
}

// Template is a parsed value: literal text and placeholders.
type Template struct {
	parts []part
}

// part is literal text, or a placeholder when from is set; text is then
// the placeholder as written in the configuration, for the log. claim is
// the claim's path for %CLAIM(path)%.
type part struct {
	text  string
	from  func(Source) (string, bool)
	claim string
}

// placeholders are the %NAME% placeholders besides %REQ(name)% and
// %CLAIM(path)%, with Envoy's names where Envoy has one.
var placeholders = [...]struct {
	name string
	from func(Source) (string, bool)
}{
	{"DOWNSTREAM_REMOTE_ADDRESS", func(s Source) (string, bool) { return present(s.SourceAddress()) }},
	{"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", func(s Source) (string, bool) { return present(s.SourceIP()) }},
	{"ROUTE_NAME", func(s Source) (string, bool) { return present(s.RouteName()) }},
	{"REQUEST_ID", func(s Source) (string, bool) { return present(s.RequestID()) }},
}

func present(s string) (string, bool) { return s, s != "" }

// The placeholders that take an argument.
const (
	reqPrefix   = "%REQ("
	claimPrefix = "%CLAIM("
)

// Parse parses a value. Its errors give the byte offset of the problem in s.
func Parse(s string) (Template, error) {
	var t Template
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
			return Template{}, text.Errorf("at offset %d: %w", i, err)
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
		from := func(src Source) (string, bool) { return src.RequestHeader(name) }
		return part{text: reqPrefix + name + ")%", from: from}, end + 2, nil
	}
	if strings.HasPrefix(s, claimPrefix) {
		end := strings.Index(s, ")%")
		if end < 0 {
			return part{}, 0, errors.New(`%CLAIM( must be closed by )%, as in %CLAIM(sub)%`)
		}
		path := s[len(claimPrefix):end]
		if path == "" || strings.ContainsAny(path, "\r\n\x00") {
			return part{}, 0, text.Errorf("%%CLAIM(...)%% needs a claim's gjson path without CR, LF or NUL, not %q", path)
		}
		from := func(src Source) (string, bool) {
			c, ok := claim(src, path)
			if !ok {
				return "", false
			}
			return claims.Text(c)
		}
		return part{text: claimPrefix + path + ")%", from: from, claim: path}, end + 2, nil
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

// claim returns the claim at path of the request's verified token.
func claim(src Source, path string) (gjson.Result, bool) {
	v, ok := claims.From(src)
	if !ok || !v.Payload.Exists() {
		return gjson.Result{}, false
	}
	c := v.Payload.Get(path)
	return c, c.Exists()
}

func knownPlaceholders() string {
	names := []string{"%REQ(header)%", "%CLAIM(path)%"}
	for _, p := range placeholders {
		names = append(names, "%"+p.name+"%")
	}
	return strings.Join(names, ", ")
}

// Literal returns the template's literal text, and whether it is all
// literal text.
func (t Template) Literal() (string, bool) {
	var b strings.Builder
	literal := true
	for _, p := range t.parts {
		if p.from != nil {
			literal = false
			continue
		}
		b.WriteString(p.text)
	}
	return b.String(), literal
}

// Claim returns the path of the claim the template consists of, when it is
// one %CLAIM(path)% alone: a JSON value can then take the claim's own JSON
// value (a number, an array) rather than its text.
func (t Template) Claim() (string, bool) {
	if len(t.parts) == 1 && t.parts[0].claim != "" {
		return t.parts[0].claim, true
	}
	return "", false
}

// ClaimJSON returns the raw JSON of the claim at path of the request's
// verified token; ok is false when there is no verified token or it has no
// such claim.
func ClaimJSON(src Source, path string) (raw string, ok bool) {
	c, ok := claim(src, path)
	return c.Raw, ok
}

// Text renders the template as text, with no check on what placeholders
// give: for values that are encoded before they are sent (a JSON string).
// ok is false when the template has placeholders and none of them has a
// value (a missing header or claim, an empty address): the value is then
// missing, not empty text.
func (t Template) Text(src Source) (v string, ok bool) {
	if len(t.parts) == 1 {
		return t.parts[0].eval(src)
	}
	var b strings.Builder
	placeholders, found := false, false
	for _, p := range t.parts {
		s, has := p.eval(src)
		if p.from != nil {
			placeholders, found = true, found || has
		}
		b.WriteString(s)
	}
	return b.String(), found || !placeholders
}

func (p part) eval(src Source) (string, bool) {
	if p.from != nil {
		return p.from(src)
	}
	return p.text, true
}

// Fault says why a rendered value cannot be sent as a header value, without
// holding the value: the placeholder whose value has a control character
// other than tab (and the character), or the rendered length when it is
// more than policy.MaxHeaderValue. The zero Fault means the value is valid.
type Fault struct {
	placeholder string
	char        byte
	length      int
}

// OK reports whether the value was valid.
func (f Fault) OK() bool { return f.placeholder == "" && f.length == 0 }

func (f Fault) String() string {
	if f.placeholder != "" {
		const hex = "0123456789abcdef"
		return "the value of " + f.placeholder + " holds the control character 0x" + string([]byte{hex[f.char>>4], hex[f.char&15]})
	}
	return text.Sprintf("the value renders to %d bytes, more than the limit of %d", f.length, policy.MaxHeaderValue)
}

// Header renders the template as a header value for one request. A
// placeholder whose value is missing renders as "". A value that cannot be
// sent as a header value (a placeholder's value holds a control character
// other than tab, or the value is longer than policy.MaxHeaderValue) is not
// built: Header returns "" and the fault. Literal text is checked when the
// template is configured.
func (t Template) Header(src Source) (string, Fault) {
	switch len(t.parts) {
	case 0:
		return "", Fault{}
	case 1:
		p := t.parts[0]
		v, _ := p.eval(src)
		if f := p.check(v); !f.OK() {
			return "", f
		}
		if len(v) > policy.MaxHeaderValue {
			return "", Fault{length: len(v)}
		}
		return v, Fault{}
	}
	// Evaluate and check first, so that the value is allocated once, at its
	// size, and only if it is valid.
	var buf [8]string
	vals, n := buf[:0], 0
	for _, p := range t.parts {
		v, _ := p.eval(src)
		if f := p.check(v); !f.OK() {
			return "", f
		}
		vals = append(vals, v)
		n += len(v)
	}
	if n > policy.MaxHeaderValue {
		return "", Fault{length: n}
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range vals {
		b.WriteString(v)
	}
	return b.String(), Fault{}
}

// check reports a control character in a placeholder's value v.
func (p part) check(v string) Fault {
	if p.from == nil {
		return Fault{}
	}
	if i := httptoken.ControlChar(v); i >= 0 {
		return Fault{placeholder: p.text, char: v[i]}
	}
	return Fault{}
}
