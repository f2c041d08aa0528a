package wasmtest

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/metrics/metricstest"
)

// The helpers below are what every emulator test of a filter, an example or
// the dispatcher needs, whichever way its plugin runs: a started plugin, a
// plugin configuration, and reading back headers, logs and counters.

// Property is a proxy property (source.address, route_name, ...) the
// emulator holds before the plugin starts.
type Property struct {
	Path  []string
	Value []byte
}

// Emulator makes a host emulator running vm with the plugin configuration
// config and props, without starting the plugin: for tests that start it
// themselves and look at more than TryStart reports. The SDK's emulator is
// process-global: call reset, and only then make the next one.
func Emulator(vm types.VMContext, config string, props ...Property) (host proxytest.HostEmulator, reset func()) {
	opt := proxytest.NewEmulatorOption().WithVMContext(vm).WithPluginConfiguration([]byte(config))
	for _, p := range props {
		opt = opt.WithProperty(p.Path, p.Value)
	}
	return proxytest.NewHostEmulator(opt)
}

// Start is Emulator, then starts the plugin; the test fails, with the
// plugin's critical log lines, unless it starts. Defer reset.
func Start(t testing.TB, vm types.VMContext, config string, props ...Property) (host proxytest.HostEmulator, reset func()) {
	t.Helper()
	host, reset = Emulator(vm, config, props...)
	if host.StartPlugin() != types.OnPluginStartStatusOK {
		logs := host.GetCriticalLogs()
		reset()
		t.Fatalf("plugin did not start; critical logs: %q", logs)
	}
	return host, reset
}

// TryStart runs the plugin's start in a fresh emulator, as Start does, and
// reports whether it started, with the critical lines it logged: for tests
// of configurations that must be refused, or must all start. The emulator
// is reset before TryStart returns.
func TryStart(vm types.VMContext, config string, props ...Property) (started bool, critical []string) {
	host, reset := Emulator(vm, config, props...)
	defer reset()
	started = host.StartPlugin() == types.OnPluginStartStatusOK
	return started, host.GetCriticalLogs()
}

// Chain is a plugin configuration whose chain is the filter entries, each a
// JSON object such as {"name":"step","id":"a","config":{}}.
func Chain(entries ...string) string {
	return `{"filters":[` + strings.Join(entries, ",") + `]}`
}

// FilterConfig is a plugin configuration running one filter of kind, in
// mode ("" for enforce), with config as its "config" object.
func FilterConfig(kind, mode, config string) string {
	if mode == "" {
		mode = "enforce"
	}
	return Chain(`{"name":"` + kind + `","mode":"` + mode + `","config":` + config + `}`)
}

// HeaderValues is every value of the header name in headers, in order, or
// nil if there is none. Names compare case-insensitively, as HTTP's do, so
// a header a test expects gone cannot hide behind another spelling.
func HeaderValues(headers [][2]string, name string) []string {
	var out []string
	for _, h := range headers {
		if strings.EqualFold(h[0], name) {
			out = append(out, h[1])
		}
	}
	return out
}

// Logs is every line the plugin logged, at every level from trace to
// critical.
func Logs(host proxytest.HostEmulator) []string {
	var out []string
	for _, get := range []func() []string{host.GetTraceLogs, host.GetDebugLogs, host.GetInfoLogs,
		host.GetWarnLogs, host.GetErrorLogs, host.GetCriticalLogs} {
		out = append(out, get()...)
	}
	return out
}

// AnyContains reports whether any of lines contains sub.
func AnyContains(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// Counter flushes the plugin's metrics with a tick, then reads the counter
// fullName (tags encoded, as in "filter=.=a;.;policy_filter_requests_total").
// A counter the plugin defined but never incremented reads 0; one it never
// defined fails the test.
func Counter(t testing.TB, host proxytest.HostEmulator, fullName string) uint64 {
	t.Helper()
	host.Tick()
	return ReadCounter(t, host, fullName)
}

// ReadCounter reads the counter fullName as the host holds it now, without
// a tick: for tests that flush at a point of their own choosing. It is the
// public metricstest.Counter.
func ReadCounter(t testing.TB, host proxytest.HostEmulator, fullName string) uint64 {
	t.Helper()
	return metricstest.Counter(t, host, fullName)
}

// Send delivers a request on stream id as the proxy does: its headers,
// ending the stream if body is empty, then its body in one piece. It
// returns the action of the last call.
func Send(host proxytest.HostEmulator, id uint32, headers [][2]string, body string) types.Action {
	action := host.CallOnRequestHeaders(id, headers, body == "")
	if body != "" {
		action = host.CallOnRequestBody(id, []byte(body), true)
	}
	return action
}
