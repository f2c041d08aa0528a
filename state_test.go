package policy_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
)

type tenant struct{ name string }

// tenantEcho notes the request's x-tenant in its state and returns it on
// the response, with the number of its calls that found the state new.
type tenantEcho struct{ fresh *int }

func (f tenantEcho) OnRequestHeaders(x *policy.Exchange) policy.Result {
	st := policy.State[tenant](x)
	if st.name == "" {
		*f.fresh++
	}
	st.name, _ = x.RequestHeader("x-tenant")
	return policy.Continue()
}

func (f tenantEcho) OnResponseHeaders(x *policy.Exchange) policy.Result {
	x.SetResponseHeader("x-tenant", policy.State[tenant](x).name)
	return policy.Continue()
}

// State is per filter and per request: two filters keep their own, a
// request starts with a zero one, and the response phase sees what the
// request phase wrote.
func TestState(t *testing.T) {
	var freshA, freshB int
	plugin := policy.Static(policy.Use("a", tenantEcho{&freshA}), policy.Use("b", tenantEcho{&freshB}).WithID("b"))
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(plugin))
	defer reset()
	if host.StartPlugin() != types.OnPluginStartStatusOK {
		t.Fatalf("start: %q", host.GetCriticalLogs())
	}
	for _, name := range []string{"acme", "globex", "acme"} {
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, [][2]string{{":path", "/"}, {"x-tenant", name}}, true)
		host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, true)
		if got := header(host.GetCurrentResponseHeaders(id), "x-tenant"); got != name {
			t.Errorf("x-tenant on the response %q, want %q", got, name)
		}
		host.CompleteHttpContext(id)
	}
	if freshA != 3 || freshB != 3 {
		t.Errorf("fresh states: a %d, b %d; want 3 each (one per request)", freshA, freshB)
	}
}
