package policy_test

import (
	"strings"
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
		`{"failure_mode": "closed", "status_on_error": 503, "filters": [{"name": "step"}]}`, `{"action": "deny"}`,
		// Duplicate keys, deep nesting, bad UTF-8.
		`{"filters": [{"name": "step"}], "filters": []}`, `{"filters": [{"name": "step", "name": "x"}]}`,
		`{"filters": [{"name": "step", "config": {"status": 403, "status": 200}}]}`,
		`{"filters": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		`{"filters": [{"name": "step", "config": ` + strings.Repeat(`{"a": `, 70) + `1` + strings.Repeat("}", 70) + `}]}`,
		"{\"filters\": [{\"name\": \"st\xffep\"}]}",
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
