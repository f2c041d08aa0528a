package main

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestReadmeExchange runs the exchange shown in README.md with config.json,
// natively and as build/authz.wasm, and checks that every JSON plugin
// configuration in the README starts the plugin.
func TestReadmeExchange(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	blocks := wasmtest.FencedBlocks(wasmtest.ReadFile(t, "README.md"), "json")
	if len(blocks) != 2 {
		t.Fatalf("README has %d JSON blocks, want 2 (the example's and the remote service's)", len(blocks))
	}
	cases := []struct {
		method, path string
		headers      [][2]string
		status       uint32 // 0: forwarded upstream
	}{
		{"GET", "/status/200", nil, 0},
		{"GET", "/status/418?x=1", nil, 0},
		{"POST", "/status/200", nil, 403},
		{"GET", "/status/200/extra", nil, 403},
		{"GET", "/admin", nil, 403},
		{"GET", "/admin/users", [][2]string{{"x-role", "user"}}, 403},
		{"GET", "/admin", [][2]string{{"x-role", "admin"}}, 0},
		{"DELETE", "/admin/users/7", [][2]string{{"x-role", "admin"}}, 0},
		{"GET", "/administrator", [][2]string{{"x-role", "admin"}}, 403},
		{"GET", "/", nil, 403},
		{"GET", "/status/..;/admin", nil, 403},
		{"get", "/status/200", nil, 0},
		{"GET", "/Admin", [][2]string{{"x-role", "admin"}}, 403},
		{"GET", "/admin", [][2]string{{"x-role", "admin"}, {"x-role", "user"}}, 403},
	}
	native := func() types.VMContext { return policy.Configured(authz.Kind) }
	wasmtest.Both(t, "authz", native, func(t *testing.T, r wasmtest.Runner) {
		// One emulator at a time: the SDK's emulator is process-global.
		for i, b := range blocks {
			if started, logs := wasmtest.TryStart(r.VM, b); !started {
				t.Errorf("README JSON block %d does not start the plugin: %q", i, logs)
			}
		}
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for _, c := range cases {
			id := host.InitializeHttpContext()
			headers := append([][2]string{{":method", c.method}, {":path", c.path}, {":authority", "example.com"}}, c.headers...)
			action := host.CallOnRequestHeaders(id, headers, true)
			local := host.GetSentLocalResponse(id)
			switch {
			case c.status == 0 && (action != types.ActionContinue || local != nil):
				t.Errorf("%s %s %v: action %v, reply %v; want forwarded", c.method, c.path, c.headers, action, local)
			case c.status != 0 && (local == nil || local.StatusCode != c.status || string(local.Data) != "access denied\n"):
				t.Errorf("%s %s %v: reply %v; want %d \"access denied\\n\"", c.method, c.path, c.headers, local, c.status)
			}
			host.CompleteHttpContext(id)
		}
	})
}
