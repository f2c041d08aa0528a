package policytest_test

import (
	"os"
	"slices"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/policytest"
)

// headerEdits removes x-rem, sets x-rep and adds to x-forwarded-for (an
// inline header in Envoy) and x-tag (not one) in the request, and adds to
// via (inline) and x-served (not) in the response, each of them present.
const headerEdits = `{
	"request":  {"remove": ["x-rem"], "set": {"x-rep": "new"}, "add": {"x-forwarded-for": "10.0.0.1", "x-tag": "b"}},
	"response": {"add": {"via": "policy", "x-served": "2"}}}`

var headersToEdit = policytest.Request{
	Headers:  [][2]string{{"x-forwarded-for", "192.0.2.1"}, {"x-tag", "a"}, {"x-rep", "1"}, {"x-rep", "2"}, {"x-rem", "1"}, {"x-rem", "2"}},
	Upstream: &policytest.Response{Headers: [][2]string{{"via", "1.1 upstream"}, {"x-served", "1"}}},
}

// TestHeaderEditsNativeAndCompiled runs headerEdits in the kit's host,
// which edits headers as Envoy does, and natively, where the SDK's
// emulator does what Native's documentation says.
func TestHeaderEditsNativeAndCompiled(t *testing.T) {
	type want struct{ forwardedFor, tag, rep, rem, via, served []string }
	check := func(t *testing.T, p *policytest.Plugin, w want) {
		t.Helper()
		res := p.Do(headersToEdit)
		if res.Err != nil || res.Forwarded == nil {
			t.Fatalf("err %v, forwarded %v", res.Err, res.Forwarded)
		}
		for _, c := range []struct {
			name      string
			got, want []string
		}{
			{"request x-forwarded-for", res.Forwarded.Values("x-forwarded-for"), w.forwardedFor},
			{"request x-tag", res.Forwarded.Values("x-tag"), w.tag},
			{"request x-rep", res.Forwarded.Values("x-rep"), w.rep},
			{"request x-rem", res.Forwarded.Values("x-rem"), w.rem},
			{"response via", res.Values("via"), w.via},
			{"response x-served", res.Values("x-served"), w.served},
		} {
			if !slices.Equal(c.got, c.want) {
				t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
			}
		}
	}
	t.Run("wasm", func(t *testing.T) {
		dir := "build"
		if d := os.Getenv("POLICY_BUILD_DIR"); d != "" {
			dir = d
		}
		p := policytest.Start(t, policytest.Load(t, "../"+dir+"/headermutate.wasm"), headerEdits)
		check(t, p, want{
			forwardedFor: []string{"192.0.2.1,10.0.0.1"}, // inline: one entry, a comma
			tag:          []string{"a", "b"},             // two entries
			rep:          []string{"new"},
			rem:          nil,
			via:          []string{"1.1 upstream,policy"},
			served:       []string{"1", "2"},
		})
	})
	t.Run("go", func(t *testing.T) {
		p := policytest.Native(t, policy.Configured(headermutate.Kind), headerEdits)
		check(t, p, want{
			forwardedFor: []string{"192.0.2.110.0.0.1"}, // joined to the first entry, nothing between
			tag:          []string{"ab"},
			rep:          []string{"new", "2"}, // the first entry replaced
			rem:          []string{"2"},        // the first entry removed
			via:          []string{"1.1 upstreampolicy"},
			served:       []string{"12"},
		})
	})
}

// TestNativeHeaderMaps pins each way Native's documentation says the SDK's
// emulator treats header maps unlike Envoy, with a plugin written on the
// SDK that makes the calls directly.
func TestNativeHeaderMaps(t *testing.T) {
	seen := &headerCalls{}
	p := policytest.Native(t, &headerVM{seen: seen}, "")
	res := p.Do(policytest.Request{Authority: "a.example", Headers: [][2]string{
		{"x-space", "  v  "}, {"x-empty", ""}, {"x-add", "a"}, {"x-rep", "1"}, {"x-rep", "2"}, {"x-rem", "1"}, {"x-rem", "2"}}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, c := range []struct{ what, got, want string }{
		// Envoy returns the value as it is, and finds an empty one.
		{"reading x-space", seen.space, "v"},
		{"reading x-empty", seen.empty, "not found"},
		// Envoy reads :authority.
		{"reading host", seen.host, "not found"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want the emulator's %q", c.what, c.got, c.want)
		}
	}
	want := [][2]string{
		{":method", "GET"}, {":path", "/"}, {":authority", "a.example"}, {":scheme", "http"},
		{"x-space", "  v  "}, {"x-empty", ""},
		{"x-add", "ab"},                  // Envoy: a second entry (a comma for an inline header)
		{"x-rep", "new"}, {"x-rep", "2"}, // Envoy: one entry
		{"x-rem", "2"},             // Envoy: none
		{":added", "1"},            // Envoy: after the other pseudo-headers
		{"X-Set", "1"},             // Envoy: in lower case
		{"via", "a"}, {"via", "b"}, // Envoy: one entry, "a,b"
	}
	if !slices.Equal(res.Forwarded.Headers, want) {
		t.Errorf("forwarded\n %q\nwant the emulator's\n %q", res.Forwarded.Headers, want)
	}
}

// headerCalls is what headerVM's plugin read.
type headerCalls struct{ space, empty, host string }

// headerVM is a plugin on the SDK alone whose request phase reads, adds,
// replaces and removes headers, then sets the whole map with two more
// pairs.
type headerVM struct {
	types.DefaultVMContext
	seen *headerCalls
}

func (v *headerVM) NewPluginContext(uint32) types.PluginContext { return &headerPlugin{seen: v.seen} }

type headerPlugin struct {
	types.DefaultPluginContext
	seen *headerCalls
}

func (p *headerPlugin) NewHttpContext(uint32) types.HttpContext { return &headerStream{seen: p.seen} }

type headerStream struct {
	types.DefaultHttpContext
	seen *headerCalls
}

func (s *headerStream) OnHttpRequestHeaders(int, bool) types.Action {
	read := func(name string) string {
		v, err := proxywasm.GetHttpRequestHeader(name)
		if err != nil {
			return "not found"
		}
		return v
	}
	s.seen.space, s.seen.empty, s.seen.host = read("x-space"), read("x-empty"), read("host")
	proxywasm.AddHttpRequestHeader("x-add", "b")
	proxywasm.ReplaceHttpRequestHeader("x-rep", "new")
	proxywasm.RemoveHttpRequestHeader("x-rem")
	proxywasm.AddHttpRequestHeader(":added", "1")
	all, _ := proxywasm.GetHttpRequestHeaders()
	proxywasm.ReplaceHttpRequestHeaders(append(all, [2]string{"X-Set", "1"}, [2]string{"via", "a"}, [2]string{"via", "b"}))
	return types.ActionContinue
}
