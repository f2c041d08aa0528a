package authz_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/testdata/authzfunc/chain"
	"github.com/wasmpolicy/policy/internal/tinygo"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestGoAPI runs the chain of package chain (Go predicates, a typed Config,
// a panicking predicate, a predicate in shadow mode) natively and as
// build/authzfunc.wasm.
func TestGoAPI(t *testing.T) {
	key := [2]string{"x-api-key", "k"}
	cases := []struct {
		name   string
		req    req
		status uint32 // 0: allowed upstream
		body   string
		header [2]string // a header the reply carries, if set
	}{
		{"allowed", req{headers: [][2]string{key}}, 0, "", [2]string{}},
		{"predicate denies with headers", req{}, 401, "access denied\n", [2]string{"www-authenticate", `ApiKey realm="test"`}},
		{"predicate denies with a body", req{method: "DELETE", headers: [][2]string{key}}, 405, "use POST /archive instead\n", [2]string{}},
		{"typed config allows", req{path: "/internal/a", source: "10.1.1.1:4000", headers: [][2]string{key}}, 0, "", [2]string{}},
		{"typed config denies", req{path: "/internal/a", source: "192.0.2.1:4000", headers: [][2]string{key}}, 404, "not found\n", [2]string{}},
		{"shadow predicate only logs", req{headers: [][2]string{key, {"x-experiment", "block"}}}, 0, "", [2]string{}},
	}
	wasmtest.Both(t, "authzfunc", func() types.VMContext { return chain.Plugin() }, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, "")
		defer reset()
		for _, c := range cases {
			o := send(t, host, c.req)
			if o.status() != c.status {
				t.Errorf("%s: status %d, want %d (0 = allowed)", c.name, o.status(), c.status)
				continue
			}
			if c.body != "" && string(o.local.Data) != c.body {
				t.Errorf("%s: body %q, want %q", c.name, o.local.Data, c.body)
			}
			if h := c.header; h[0] != "" {
				if got := wasmtest.HeaderValues(o.local.Headers, h[0]); len(got) != 1 || got[0] != h[1] {
					t.Errorf("%s: reply header %s = %q, want %q", c.name, h[0], got, h[1])
				}
			}
		}
		if !wasmtest.AnyContains(host.GetInfoLogs(), "filter experiment would deny with 418 (shadow mode): experiment blocks it") {
			t.Errorf("no shadow log: %q", host.GetInfoLogs())
		}
		for _, c := range []struct {
			filter, decision string
			want             uint64
		}{
			{"apikey", "denied", 2}, {"apikey", "allowed", 4},
			{"typed", "denied", 1}, {"typed", "allowed", 3},
			{"experiment", "shadow_denied", 1},
		} {
			if got := decisions(t, host, c.filter, c.decision); got != c.want {
				t.Errorf("decisions{filter=%s, decision=%s} = %d, want %d", c.filter, c.decision, got, c.want)
			}
		}
		for rule, want := range map[string]uint64{"internal-from-mesh": 1, "internal": 1} {
			if got := counter(t, host, "authz_rule_matches_total", tag("filter", "typed"), tag("rule", rule)); got != want {
				t.Errorf("rule_matches{filter=typed, rule=%s} = %d, want %d", rule, got, want)
			}
		}
		t.Run("panicking predicate fails closed", func(t *testing.T) {
			tinygo.SkipIfCannot(t)
			if o := send(t, host, req{headers: [][2]string{key, {"x-panic", "1"}}}); o.status() != 500 {
				t.Errorf("status %d, want 500", o.status())
			}
			if !wasmtest.AnyContains(host.GetCriticalLogs(), "filter boom (authz) panicked") {
				t.Errorf("no critical log for the panic: %q", host.GetCriticalLogs())
			}
			if got := decisions(t, host, "boom", "error"); got != 1 {
				t.Errorf("decisions{filter=boom, decision=error} = %d, want 1", got)
			}
		})
	})
}
