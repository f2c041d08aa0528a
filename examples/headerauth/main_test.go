package main

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestReadmeExchange runs the exchange README.md shows with config.json:
// without "allow: true" a request gets 403 and a short body; with it, the
// request goes on to the backend.
func TestReadmeExchange(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	const body = "access forbidden: send the header allow: true\n"
	cases := []struct {
		name    string
		headers [][2]string
		status  uint32 // 0: forwarded
	}{
		{"no header", nil, 403},
		{"allow: false", [][2]string{{"allow", "false"}}, 403},
		{"allow: true", [][2]string{{"allow", "true"}}, 0},
	}
	native := func() types.VMContext { return policy.Configured(headerauth.Kind) }
	wasmtest.Both(t, "headerauth", native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, config)
				defer reset()
				id := host.InitializeHttpContext()
				headers := append([][2]string{{":method", "GET"}, {":path", "/productpage"}, {":authority", "bookinfo.example"}}, c.headers...)
				action := host.CallOnRequestHeaders(id, headers, true)
				local := host.GetSentLocalResponse(id)
				switch {
				case c.status == 0 && (local != nil || action != types.ActionContinue):
					t.Errorf("the request did not go upstream: action %v, local reply %+v", action, local)
				case c.status != 0 && local == nil:
					t.Errorf("the request went upstream, want %d", c.status)
				case c.status != 0 && (local.StatusCode != c.status || string(local.Data) != body):
					t.Errorf("local reply %d %q, want %d %q", local.StatusCode, local.Data, c.status, body)
				}
			})
		}
	})
}

// TestReadmeConfigs starts the plugin with every JSON configuration in
// README.md that lists filters, so the documentation cannot drift from the
// code.
func TestReadmeConfigs(t *testing.T) {
	var configs []string
	for _, block := range wasmtest.FencedBlocks(wasmtest.ReadFile(t, "README.md"), "json") {
		if strings.Contains(block, `"filters"`) {
			configs = append(configs, block)
		}
	}
	if len(configs) < 2 {
		t.Fatalf("found %d configurations in README.md, want at least 2", len(configs))
	}
	native := func() types.VMContext { return policy.Configured(headerauth.Kind) }
	wasmtest.Both(t, "headerauth", native, func(t *testing.T, r wasmtest.Runner) {
		for i, config := range configs {
			if started, logs := wasmtest.TryStart(r.VM, config); !started {
				t.Errorf("README configuration %d does not start: %q", i, logs)
			}
		}
	})
}
