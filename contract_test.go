package policy_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/testdata/contract/contract"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// Filters written as a user writes them, natively and compiled
// (build/contract.wasm): a filter defined with policy.Define and the public
// conf and DenyResponse helpers gets the same strict configuration errors
// as the built-in ones; a hand-written Kind gets its unread fields reported;
// a filter that implements no phase, or a constructor that returns none,
// fails the start naming the filter.
func TestFilterContract(t *testing.T) {
	native := func() types.VMContext { return contract.Plugin() }
	refused := []struct{ name, config, want string }{
		{"unknown field", `{"filters": [{"name": "tenant", "config": {"header": "x-tenant", "tenant": "acme", "tenants": []}}]}`,
			`filters[0] (tenant): config.tenants: unknown field (known fields: deny, header, tenant)`},
		{"unknown nested field", `{"filters": [{"name": "tenant", "config": {"header": "x-tenant", "tenant": "acme", "deny": {"satus": 404}}}]}`,
			`filters[0] (tenant): config.deny.satus: unknown field (known fields: body, content_type, headers, status)`},
		{"missing field", `{"filters": [{"name": "tenant", "config": {"header": "x-tenant"}}]}`,
			`filters[0] (tenant): config.tenant: is required`},
		{"bad deny status", `{"filters": [{"name": "tenant", "config": {"header": "x-tenant", "tenant": "a", "deny": {"status": 200}}}]}`,
			`filters[0] (tenant): config.deny.status: must be an HTTP status code from 300 to 599, not 200`},
		{"duplicate key", `{"filters": [{"name": "tenant", "config": {"header": "x-tenant", "tenant": "a", "tenant": "b"}}]}`,
			`filters[0] (tenant): config.tenant: is given twice`},
		{"a hand-written kind's unread field", `{"filters": [{"name": "lax", "config": {"limits": {"rps": 1, "burst": 2}}}]}`,
			`filters[0] (lax): config.limits.burst: unknown field (known fields: rps)`},
		{"no phase", `{"filters": [{"name": "misspelt"}]}`,
			`filters[0] (misspelt): contract.misspelt implements no phase of a filter (OnRequestHeaders, OnRequestBody, OnResponseHeaders, OnResponseBody, OnResponseChunk, OnStreamDone or OnTick); check the methods' names and signatures`},
		{"no filter", `{"filters": [{"name": "nothing"}]}`,
			`filters[0] (nothing): the filter's constructor returned no filter`},
	}
	wasmtest.Both(t, "contract", native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range refused {
			started, logs := wasmtest.TryStart(r.VM, c.config)
			want := "policy: invalid plugin configuration: " + c.want
			if started || len(logs) != 1 || logs[0] != want {
				t.Errorf("%s: started = %v, logs = %q\nwant %q", c.name, started, logs, want)
			}
		}
		host, reset := wasmtest.Start(t, r.VM, `{"filters": [{"name": "tenant", "config": {"header": "X-Tenant", "tenant": "acme", "deny": {"status": 404, "body": "no such tenant\n"}}}]}`)
		defer reset()
		for _, c := range []struct {
			tenant string
			status uint32
		}{{"acme", 0}, {"other", 404}} {
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}, {"x-tenant", c.tenant}}, true)
			resp := host.GetSentLocalResponse(id)
			switch {
			case c.status == 0 && resp != nil:
				t.Errorf("tenant %s: denied with %d", c.tenant, resp.StatusCode)
			case c.status != 0 && (resp == nil || resp.StatusCode != c.status || string(resp.Data) != "no such tenant\n"):
				t.Errorf("tenant %s: local reply %+v, want %d", c.tenant, resp, c.status)
			}
			host.CompleteHttpContext(id)
		}
	})
}
