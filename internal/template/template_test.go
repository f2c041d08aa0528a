package template

import (
	"strings"
	"testing"
)

// fakeSource is a request for rendering templates without a proxy.
type fakeSource map[string]string

func (f fakeSource) RequestHeader(name string) (string, bool) { v, ok := f[name]; return v, ok }
func (f fakeSource) SourceAddress() string                    { return f["@source"] }
func (f fakeSource) SourceIP() string                         { return strings.Split(f["@source"], ":")[0] }
func (f fakeSource) RouteName() string                        { return f["@route"] }
func (f fakeSource) RequestID() string                        { return f["x-request-id"] }
func (f fakeSource) Value(key any) any                        { return nil }

var fakeRequest = fakeSource{
	":authority": "example.com", ":path": "/a?b=c", ":method": "POST", "x-user": "alice",
	"x-request-id": "req-1", "@source": "10.0.0.9:4711", "@route": "default",
}

func TestRenderTemplate(t *testing.T) {
	cases := []struct{ template, want string }{
		{"", ""},
		{"plain", "plain"},
		{"Hello world from %REQ(:authority)%", "Hello world from example.com"},
		{"%REQ(:METHOD)% %REQ(:path)%", "POST /a?b=c"},
		{"%REQ(x-user)%@%DOWNSTREAM_REMOTE_ADDRESS%", "alice@10.0.0.9:4711"},
		{"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "10.0.0.9"},
		{"route=%ROUTE_NAME%;id=%REQUEST_ID%", "route=default;id=req-1"},
		{"%REQ(x-missing)%", ""},
		{"[%REQ(x-missing)%]", "[]"},
		{"100%%", "100%"},
		{"%%REQ(x-user)%%", "%REQ(x-user)%"},
		{"%REQ(x%y)%", ""}, // a header name may contain '%'
		{"你好 %REQ(x-user)%", "你好 alice"},
	}
	for _, c := range cases {
		tmpl, err := Parse(c.template)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.template, err)
			continue
		}
		if got, f := tmpl.Header(fakeRequest); got != c.want || !f.OK() {
			t.Errorf("Header(%q) = %q (%v), want %q", c.template, got, f, c.want)
		}
	}
}

func TestParseTemplateErrors(t *testing.T) {
	cases := []struct{ template, want string }{
		{"%", "at offset 0: '%' starts a placeholder"},
		{"a%b", "at offset 1: '%' starts a placeholder"},
		{"%%%", "at offset 2: '%' starts a placeholder"},
		{"%FOO%", `at offset 0: unknown placeholder "%FOO%"`},
		{"%req(x)%", `unknown placeholder "%req(x)%"`},
		{"%route_name%", `unknown placeholder "%route_name%"`},
		{"ab%REQ(x", "at offset 2: %REQ( must be closed by )%"},
		{"%REQ(x):5%", "%REQ( must be closed by )%"},
		{"%REQ(x):5% %REQ(y)%", "at offset 0: %REQ( must be closed by )%"},
		{"%REQ()%", `needs a header name without CR, LF or NUL, not ""`},
		{"%CLAIM(sub", "at offset 0: %CLAIM( must be closed by )%"},
		{"%CLAIM()%", `needs a claim's gjson path without CR, LF or NUL, not ""`},
		{"%claim(sub)%", `unknown placeholder "%claim(sub)%"`},
	}
	for _, c := range cases {
		_, err := Parse(c.template)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", c.template, err, c.want)
		}
	}
}

// Text tells a missing value from an empty one: a template whose
// placeholders all lack a value is missing, whatever literal text it has;
// a template of literal text alone is present.
func TestText(t *testing.T) {
	cases := []struct {
		template string
		want     string
		ok       bool
	}{
		{"", "", true},
		{"plain", "plain", true},
		{"%REQ(x-user)%", "alice", true},
		{"%REQ(x-missing)%", "", false},
		{"id-%REQ(x-missing)%", "id-", false},
		{"%REQ(x-missing)%/%REQ(x-user)%", "/alice", true},
		{"%REQ(x-empty)%", "", true},     // a header with an empty value is present
		{"%REQ(x-ctl)%", "a\r\nb", true}, // no header checks: the value is encoded where it goes
		{"%CLAIM(sub)%", "", false},      // no verified claims
	}
	src := fakeSource{"x-user": "alice", "x-empty": "", "x-ctl": "a\r\nb"}
	for _, c := range cases {
		tmpl, err := Parse(c.template)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.template, err)
		}
		if got, ok := tmpl.Text(src); got != c.want || ok != c.ok {
			t.Errorf("Text(%q) = %q, %v; want %q, %v", c.template, got, ok, c.want, c.ok)
		}
	}
	if p, ok := mustParse(t, "%CLAIM(org.id)%").Claim(); !ok || p != "org.id" {
		t.Errorf("Claim() = %q, %v; want org.id, true", p, ok)
	}
	for _, s := range []string{"x%CLAIM(sub)%", "%REQ(x)%", "%CLAIM(a)%%CLAIM(b)%"} {
		if _, ok := mustParse(t, s).Claim(); ok {
			t.Errorf("Claim() of %q is a whole claim", s)
		}
	}
}

func mustParse(t *testing.T, s string) Template {
	t.Helper()
	tmpl, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return tmpl
}
