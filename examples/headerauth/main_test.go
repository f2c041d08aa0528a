package main

import (
	"os"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestSeedExchange runs the exchange README.md shows with config.json:
// without "allow: true" a request gets 403 and a short body; with it, the
// request goes on to the backend.
func TestSeedExchange(t *testing.T) {
	config, err := os.ReadFile("config.json")
	if err != nil {
		t.Fatal(err)
	}
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
				host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().
					WithVMContext(r.VM).WithPluginConfiguration(config))
				defer reset()
				if s := host.StartPlugin(); s != types.OnPluginStartStatusOK {
					t.Fatalf("config.json did not start the plugin: %q", host.GetCriticalLogs())
				}
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
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var configs []string
	for _, block := range strings.Split(string(readme), "```json\n")[1:] {
		if config, _, _ := strings.Cut(block, "```"); strings.Contains(config, `"filters"`) {
			configs = append(configs, config)
		}
	}
	if len(configs) < 2 {
		t.Fatalf("found %d configurations in README.md, want at least 2", len(configs))
	}
	native := func() types.VMContext { return policy.Configured(headerauth.Kind) }
	wasmtest.Both(t, "headerauth", native, func(t *testing.T, r wasmtest.Runner) {
		for i, config := range configs {
			host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().
				WithVMContext(r.VM).WithPluginConfiguration([]byte(config)))
			if s := host.StartPlugin(); s != types.OnPluginStartStatusOK {
				t.Errorf("README configuration %d does not start: %q", i, host.GetCriticalLogs())
			}
			reset()
		}
	})
}
