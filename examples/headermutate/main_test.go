package main

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The exchange the README shows, with config.json as the plugin
// configuration, natively and against build/headermutate.wasm.
func TestReadmeExchange(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	native := func() types.VMContext { return policy.Configured(headermutate.Kind) }
	wasmtest.Both(t, "headermutate", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		id := host.InitializeHttpContext()
		request := [][2]string{{":authority", "bookinfo.example.com"}, {":method", "GET"}, {":path", "/productpage"}}
		if got := host.CallOnRequestHeaders(id, request, true); got != types.ActionContinue {
			t.Fatalf("request action = %v", got)
		}
		expect(t, "request", host.GetCurrentRequestHeaders(id), "x-hello", "Hello world from bookinfo.example.com")

		response := [][2]string{{":status", "200"}, {"content-type", "text/html"}}
		if got := host.CallOnResponseHeaders(id, response, false); got != types.ActionContinue {
			t.Fatalf("response action = %v", got)
		}
		headers := host.GetCurrentResponseHeaders(id)
		expect(t, "response", headers, "who-am-i", "wasm-extension")
		expect(t, "response", headers, "injected-by", "istio-api!")
		host.CompleteHttpContext(id)
	})
}

func expect(t *testing.T, side string, headers [][2]string, name, want string) {
	t.Helper()
	for _, h := range headers {
		if h[0] == name {
			if h[1] != want {
				t.Errorf("%s header %s = %q, want %q", side, name, h[1], want)
			}
			return
		}
	}
	t.Errorf("%s header %s missing, want %q (headers: %q)", side, name, want, headers)
}
