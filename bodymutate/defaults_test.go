package bodymutate_test

import (
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/bodymutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// TestDefaultsGoAndJSON builds each case's filter twice, from a Go Config
// that sets only what the case needs and from the JSON that does the
// same, and runs the same requests through both: an invalid body passes
// by default, and DenyInvalid's replies are 400 and 502 with their
// default bodies, the same way in both.
func TestDefaultsGoAndJSON(t *testing.T) {
	ops := bodymutate.Ops{Set: []bodymutate.Field{{Path: "a", JSON: "1"}}}
	const opsJSON = `{"set": {"a": 1}}`
	jsonHeaders := [][2]string{{"content-type", "application/json"}}
	invalid := "{not json"
	for _, c := range []struct {
		name  string
		cfg   bodymutate.Config
		json  string
		check func(t *testing.T, p *policytest.Plugin) []string
	}{
		{
			name: "invalid bodies pass",
			cfg:  bodymutate.Config{Request: ops, Response: ops},
			json: `{"request": ` + opsJSON + `, "response": ` + opsJSON + `}`,
			check: func(t *testing.T, p *policytest.Plugin) []string {
				good := p.Do(policytest.Request{Method: "POST", Headers: jsonHeaders, Body: `{}`})
				if good.Forwarded == nil || good.Forwarded.Body != `{"a":1}` {
					t.Fatalf("a JSON body: forwarded %v, want it rewritten", good.Forwarded)
				}
				req := p.Do(policytest.Request{Method: "POST", Headers: jsonHeaders, Body: invalid})
				if req.Status != 200 || req.Forwarded == nil || req.Forwarded.Body != invalid {
					t.Errorf("an invalid request body: status %d, forwarded %v; want it passed on unchanged", req.Status, req.Forwarded)
				}
				resp := p.Do(policytest.Request{Upstream: &policytest.Response{Status: 200, Headers: jsonHeaders, Body: invalid}})
				if resp.Status != 200 || resp.Body != invalid {
					t.Errorf("an invalid response body: status %d, body %q; want it passed on unchanged", resp.Status, resp.Body)
				}
				for _, side := range []string{"request", "response"} {
					if got := p.Counter("policy_bodymutate_invalid_bodies_total", "filter", "bodymutate", "side", side); got != 1 {
						t.Errorf("invalid_bodies_total{side=%s} = %d, want 1", side, got)
					}
				}
				return []string{wasmtest.Describe(good), wasmtest.Describe(req), wasmtest.Describe(resp)}
			},
		},
		{
			name: "deny",
			cfg:  bodymutate.Config{Request: ops, Response: ops, InvalidBody: bodymutate.DenyInvalid},
			json: `{"request": ` + opsJSON + `, "response": ` + opsJSON + `, "invalid_body": "deny"}`,
			check: func(t *testing.T, p *policytest.Plugin) []string {
				req := p.Do(policytest.Request{Method: "POST", Headers: jsonHeaders, Body: invalid})
				if req.Status != 400 || req.Body != "invalid JSON body\n" || req.Forwarded != nil {
					t.Errorf("an invalid request body: status %d, body %q; want 400 %q, not forwarded", req.Status, req.Body, "invalid JSON body\n")
				}
				resp := p.Do(policytest.Request{Upstream: &policytest.Response{Status: 200, Headers: jsonHeaders, Body: invalid}})
				const body = "invalid JSON body from the upstream\n"
				if resp.Status != 502 || resp.Body != body {
					t.Errorf("an invalid response body: status %d, body %q; want 502 %q", resp.Status, resp.Body, body)
				}
				return []string{wasmtest.Describe(req), wasmtest.Describe(resp)}
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			goVM, jsonVM := policy.Static(bodymutate.Filter(c.cfg)), policy.Configured(bodymutate.Kind)
			wasmtest.GoAndJSON(t, goVM, jsonVM, wasmtest.FilterConfig("bodymutate", "", c.json), c.check)
		})
	}
}
