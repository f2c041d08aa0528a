package authz_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// sendBody runs a POST with body to the end: its headers (held while the
// chain waits for the body), then the body.
func sendBody(t *testing.T, host proxytest.HostEmulator, body string, headers ...[2]string) (outcome, types.Action) {
	t.Helper()
	id := host.InitializeHttpContext()
	all := append([][2]string{{":method", "POST"}, {":path", "/orders"}, {":authority", "example.com"}}, headers...)
	held := host.CallOnRequestHeaders(id, all, body == "")
	if body != "" {
		host.CallOnRequestBody(id, []byte(body), true)
	}
	return finish(t, host, id), held
}

// Rules on the request body: a deny rule applies when some parser reads
// the field its way, or the body cannot be read; an allow rule only when
// every parser does.
func TestBodyRules(t *testing.T) {
	wasmtest.Both(t, "authz", native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range []struct {
			name, config string
			cases        []struct {
				name, body string
				headers    [][2]string
				want       uint32
			}
		}{
			{"deny on a field", `{"rules": [{"action": "deny", "match": {"body": [{"path": "role", "equals": "admin"}]}}], "default": "allow"}`,
				[]struct {
					name, body string
					headers    [][2]string
					want       uint32
				}{
					{"another value", `{"role": "user"}`, nil, 0},
					{"the value", `{"role": "admin"}`, nil, 403},
					{"no body", "", nil, 0},
					{"a key given twice", `{"role": "user", "role": "admin"}`, nil, 403},
					{"a key in another case", `{"role": "user", "ROLE": "admin"}`, nil, 403},
					{"an escaped key", `{"r\u006fle": "admin"}`, nil, 403},
					{"not JSON", `role=admin`, nil, 403},
					{"trailing data", `{"role": "user"}{"role": "admin"}`, nil, 403},
					{"compressed", `{"role": "user"}`, [][2]string{{"content-encoding", "gzip"}}, 403},
				}},
			{"allow on a field", `{"rules": [{"action": "allow", "match": {"methods": ["POST"], "body": [{"path": "order.tenant", "equals": "acme"}]}}], "default": "deny"}`,
				[]struct {
					name, body string
					headers    [][2]string
					want       uint32
				}{
					{"the value", `{"order": {"tenant": "acme", "qty": 2}}`, nil, 0},
					{"another value", `{"order": {"tenant": "evil"}}`, nil, 403},
					{"a key given twice", `{"order": {"tenant": "acme", "tenant": "evil"}}`, nil, 403},
					{"an object given twice", `{"order": {"tenant": "acme"}, "order": {"tenant": "evil"}}`, nil, 403},
					{"not JSON", `tenant=acme`, nil, 403},
					{"no body", "", nil, 403},
				}},
		} {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(c.config, ""))
				defer reset()
				for _, q := range c.cases {
					o, held := sendBody(t, host, q.body, q.headers...)
					if got := o.status(); got != q.want {
						t.Errorf("%s: status %d, want %d (0: allowed)", q.name, got, q.want)
					}
					if q.body != "" && held != types.ActionPause {
						t.Errorf("%s: request headers %v, want pause (held for the body the rule reads)", q.name, held)
					}
				}
			})
		}
	})
}

// Without a rule on the body the filter reads no body, and the chain holds
// nothing for it.
func TestNoBodyRuleReadsNoBody(t *testing.T) {
	wasmtest.Both(t, "authz", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(`{"rules": [{"action": "deny", "match": {"path": {"prefix": "/admin/"}}}], "default": "allow"}`, ""))
		defer reset()
		id := host.InitializeHttpContext()
		if got := host.CallOnRequestHeaders(id, [][2]string{{":method", "POST"}, {":path", "/orders"}, {":authority", "a"}}, false); got != types.ActionContinue {
			t.Errorf("request headers with a body to come: %v, want continue", got)
		}
		if got := host.CallOnRequestBody(id, []byte("x"), false); got != types.ActionContinue {
			t.Errorf("a body chunk: %v, want continue (not buffered)", got)
		}
	})
}

// A body over the limit, failing open: a deny rule on it applies, since
// the body cannot be read.
func TestBodyRuleOverTheLimit(t *testing.T) {
	wasmtest.Both(t, "authz", native, func(t *testing.T, r wasmtest.Runner) {
		config := `{"failure_mode": "open", "body_limit": 16, "filters": [{"name": "authz", "config": ` +
			`{"rules": [{"action": "deny", "match": {"body": [{"path": "role", "equals": "admin"}]}}], "default": "allow"}}]}`
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		o, _ := sendBody(t, host, `{"role": "user", "pad": "xxxxxxxx"}`)
		if o.status() != 403 {
			t.Errorf("status %d, want 403: a body over the limit cannot be read, so the deny rule applies", o.status())
		}
	})
}
