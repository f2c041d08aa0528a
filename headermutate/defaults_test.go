package headermutate_test

import (
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// TestDefaultsGoAndJSON builds each case's filter twice, from a Go Config
// that sets only what the case needs and from the JSON that does the
// same, and runs the same requests through both: each default must show
// the same way in both.
func TestDefaultsGoAndJSON(t *testing.T) {
	bad := [][2]string{{"x-foo", "a\x01b"}} // renders an invalid value
	for _, c := range []struct {
		name  string
		cfg   headermutate.Config
		json  string
		check func(t *testing.T, p *policytest.Plugin) []string
	}{
		{
			// An invalid value is dropped: counted, logged, and the request
			// goes on without the header.
			name: "invalid value",
			cfg:  headermutate.Config{Request: headermutate.Ops{Set: [][2]string{{"x-copy", "%REQ(x-foo)%"}}}},
			json: `{"request": {"set": {"x-copy": "%REQ(x-foo)%"}}}`,
			check: func(t *testing.T, p *policytest.Plugin) []string {
				good := p.Do(policytest.Request{Headers: [][2]string{{"x-foo", "foo"}}})
				if good.Forwarded == nil || good.Forwarded.Header("x-copy") != "foo" {
					t.Fatalf("a good value: forwarded %v, want x-copy: foo", good.Forwarded)
				}
				res := p.Do(policytest.Request{Headers: bad})
				if res.Status != 200 || res.Forwarded == nil || res.Forwarded.Values("x-copy") != nil {
					t.Errorf("an invalid value: status %d, forwarded %v; want 200 upstream without x-copy", res.Status, res.Forwarded)
				}
				if !p.Logged("(invalid_value drop)") {
					t.Errorf("the invalid value was not logged as dropped: %q", p.Logs())
				}
				if got := p.Counter("policy_headermutate_invalid_values_total", "filter", "headermutate"); got != 1 {
					t.Errorf("invalid_values_total = %d, want 1", got)
				}
				return []string{wasmtest.Describe(good), wasmtest.Describe(res)}
			},
		},
		{
			// The reply of DenyInvalid is 400 "invalid header value\n".
			name: "deny",
			cfg:  headermutate.Config{Request: headermutate.Ops{Set: [][2]string{{"x-copy", "%REQ(x-foo)%"}}}, InvalidValue: headermutate.DenyInvalid},
			json: `{"request": {"set": {"x-copy": "%REQ(x-foo)%"}}, "invalid_value": "deny"}`,
			check: func(t *testing.T, p *policytest.Plugin) []string {
				res := p.Do(policytest.Request{Headers: bad})
				if res.Status != 400 || res.Body != "invalid header value\n" || res.Forwarded != nil {
					t.Errorf("an invalid value: status %d, body %q; want 400 %q, not forwarded", res.Status, res.Body, "invalid header value\n")
				}
				return []string{wasmtest.Describe(res)}
			},
		},
		{
			// A header operation appends when the header is present and
			// adds it when absent; an empty value skips it.
			name: "header operation",
			cfg: headermutate.Config{Request: headermutate.Ops{Headers: []headermutate.Header{
				{Name: "x-a", Value: "two"}, {Name: "x-b", Value: "%REQ(x-missing)%"},
			}}},
			json: `{"request": {"headers": [{"name": "x-a", "value": "two"}, {"name": "x-b", "value": "%REQ(x-missing)%"}]}}`,
			check: func(t *testing.T, p *policytest.Plugin) []string {
				present := p.Do(policytest.Request{Headers: [][2]string{{"x-a", "one"}, {"x-b", "one"}}})
				absent := p.Do(policytest.Request{})
				// The emulator joins an added value onto the entry there
				// without a separator: "onetwo".
				if f := present.Forwarded; f == nil || f.Header("x-a") != "onetwo" || f.Header("x-b") != "one" {
					t.Errorf("with the headers present: forwarded %v, want x-a: two added to one, x-b left alone", f)
				}
				if f := absent.Forwarded; f == nil || f.Header("x-a") != "two" || f.Values("x-b") != nil {
					t.Errorf("with the headers absent: forwarded %v, want x-a: two and no x-b", f)
				}
				return []string{wasmtest.Describe(present), wasmtest.Describe(absent)}
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			goVM, jsonVM := policy.Static(headermutate.Filter(c.cfg)), policy.Configured(headermutate.Kind)
			wasmtest.GoAndJSON(t, goVM, jsonVM, wasmtest.FilterConfig("headermutate", "", c.json), c.check)
		})
	}
}
