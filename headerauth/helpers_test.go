package headerauth_test

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// image is the compiled example every test also runs against.
const image = "headerauth"

func native() types.VMContext { return policy.Configured(headerauth.Kind) }

// pluginConfig wraps a headerauth "config" object into a plugin
// configuration, in mode ("" for enforce).
func pluginConfig(config, mode string) []byte {
	if mode == "" {
		mode = "enforce"
	}
	return []byte(`{"filters": [{"name": "headerauth", "mode": "` + mode + `", "config": ` + config + `}]}`)
}

// start makes an emulator running the plugin with config on r's VM and
// checks that the plugin starts.
func start(t *testing.T, r wasmtest.Runner, config []byte) (proxytest.HostEmulator, func()) {
	t.Helper()
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(r.VM).WithPluginConfiguration(config))
	if s := host.StartPlugin(); s != types.OnPluginStartStatusOK {
		reset()
		t.Fatalf("plugin did not start (%v); critical logs: %q", s, host.GetCriticalLogs())
	}
	return host, reset
}

// exchange is what became of one request.
type exchange struct {
	action   types.Action
	local    *proxytest.LocalHttpResponse // nil if the request went upstream
	upstream [][2]string                  // request headers after the chain
}

// send runs one request through host and completes its stream.
func send(host proxytest.HostEmulator, method, path string, headers [][2]string) exchange {
	id := host.InitializeHttpContext()
	all := append([][2]string{{":method", method}, {":path", path}, {":authority", "example.com"}}, headers...)
	var e exchange
	e.action = host.CallOnRequestHeaders(id, all, true)
	e.local = host.GetSentLocalResponse(id)
	e.upstream = host.GetCurrentRequestHeaders(id)
	host.CompleteHttpContext(id)
	return e
}

// allLogs is every line the plugin logged, at every level.
func allLogs(host proxytest.HostEmulator) []string {
	var out []string
	for _, get := range []func() []string{host.GetTraceLogs, host.GetDebugLogs, host.GetInfoLogs,
		host.GetWarnLogs, host.GetErrorLogs, host.GetCriticalLogs} {
		out = append(out, get()...)
	}
	return out
}

func anyContains(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func values(headers [][2]string, name string) []string {
	var out []string
	for _, h := range headers {
		if strings.EqualFold(h[0], name) {
			out = append(out, h[1])
		}
	}
	return out
}

// counter reads a counter of filter "headerauth" after flushing the
// metrics; a counter never incremented reads 0.
func counter(t *testing.T, host proxytest.HostEmulator, name string) uint64 {
	t.Helper()
	host.Tick()
	v, err := host.GetCounterMetric(name)
	if err != nil {
		t.Fatalf("counter %s: %v", name, err)
	}
	return v
}

func decisions(decision string) string {
	return "filter=.=headerauth;.;decision=.=" + decision + ";.;policy_filter_decisions_total"
}

const bypassedTotal = "filter=.=headerauth;.;policy_headerauth_bypassed_total"
