package headermutate_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// A request denied by another filter still carries the response headers:
// Envoy sends the local reply back through the plugin's response phase,
// which the tests emulate by calling the response headers callback with the
// reply's headers.
func TestLocalReplyCarriesResponseHeaders(t *testing.T) {
	deny := filter("step", "deny", `{"action": "deny", "status": 403}`)
	mutation := mutate(`{
		"request":  {"set": {"x-hello": "Hello world from %REQ(:authority)%"}},
		"response": {"set": {"who-am-i": "wasm-extension", "injected-by": "istio-api!", "x-host": "%REQ(:authority)%"}}}`)
	cases := []struct {
		name      string
		filters   []string
		wantHello string // x-hello on the request; "" when headermutate's request phase did not run
	}{
		{"denied before headermutate", []string{deny, mutation}, ""},
		{"denied after headermutate", []string{mutation, deny}, "Hello world from example.com"},
	}
	wasmtest.Both(t, mutateChainImage, nativeMutateChain, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(c.filters...))
				defer reset()
				id := host.InitializeHttpContext()
				if got := host.CallOnRequestHeaders(id, request, false); got != types.ActionPause {
					t.Fatalf("request action = %v, want pause after the local reply", got)
				}
				reply := host.GetSentLocalResponse(id)
				if reply == nil || reply.StatusCode != 403 {
					t.Fatalf("local reply = %+v, want 403", reply)
				}
				if got, _ := header(host.GetCurrentRequestHeaders(id), "x-hello"); got != c.wantHello {
					t.Errorf("request x-hello = %q, want %q", got, c.wantHello)
				}

				sent := with([][2]string{{":status", "403"}}, reply.Headers...)
				if got := host.CallOnResponseHeaders(id, sent, false); got != types.ActionContinue {
					t.Fatalf("response action = %v, want continue", got)
				}
				checkHeaders(t, "local reply", host.GetCurrentResponseHeaders(id), with(sent,
					[2]string{"who-am-i", "wasm-extension"},
					[2]string{"injected-by", "istio-api!"},
					[2]string{"x-host", "example.com"}))
				host.CompleteHttpContext(id)
			})
		}
	})
}
