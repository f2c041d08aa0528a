package headermutate

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
		tmpl, err := parseTemplate(c.template)
		if err != nil {
			t.Errorf("parseTemplate(%q): %v", c.template, err)
			continue
		}
		if got, f := tmpl.render(fakeRequest); got != c.want || !f.ok() {
			t.Errorf("render(%q) = %q (%v), want %q", c.template, got, f, c.want)
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
	}
	for _, c := range cases {
		_, err := parseTemplate(c.template)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseTemplate(%q) error = %v, want it to contain %q", c.template, err, c.want)
		}
	}
}
