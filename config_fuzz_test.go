package policy_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// FuzzPluginConfiguration feeds arbitrary plugin configurations to the
// dispatcher: it must start, or refuse with exactly one log line, and never
// panic.
//
//	go test -run '^$' -fuzz FuzzPluginConfiguration .
func FuzzPluginConfiguration(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `{"filters": []}`, `{"filters": [{"name": "step"}]}`,
		`{"fail_open": true, "metrics_prefix": "edge", "flush_interval": "250ms", "filters": [{"name": "step", "id": "a", "mode": "shadow", "config": {"action": "deny"}}]}`,
		`{"filters": [{"name": "step"}, {"name": "step"}]}`, `{"filters": [}`, `[1]`, `{"filters": [{"name": "nope"}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, config string) {
		host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().
			WithVMContext(nativeChain()).WithPluginConfiguration([]byte(config)))
		defer reset()
		if host.StartPlugin() == types.OnPluginStartStatusOK {
			return
		}
		if logs := host.GetCriticalLogs(); len(logs) != 1 {
			t.Fatalf("refused %q with %d critical lines: %q", config, len(logs), logs)
		}
	})
}
