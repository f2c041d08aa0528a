package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The probe (internal/testdata/probe) reports what it observed as info logs
// "probe: <what>: k=v k=v ..."; these helpers drive it through the SDK's host
// emulator and read the reports back.

const (
	vmConfig     = "probe-vm-config"
	pluginConfig = "probe"
)

// probeEnv is one host emulator around the runner's VM.
type probeEnv struct {
	t    *testing.T
	r    wasmtest.Runner
	host proxytest.HostEmulator
	// stdlog is what the emulator wrote to the standard logger: for host
	// calls it only acknowledges (proxy_close_stream, proxy_done,
	// proxy_resolve_shared_queue) and the callout timeout, the only trace
	// that the call reached the host.
	stdlog *bytes.Buffer
}

// emulatorStuck is set once proxytest.NewHostEmulator has panicked: it
// then holds the SDK's host lock for good, and any later emulator would
// wait for it forever.
var emulatorStuck bool

// newEnv sets up an emulator without starting the VM or the plugin.
//
// A compiled plugin that trapped (a bridge bug can make the SDK panic inside
// the VM) may have exited; proxytest would then panic while creating the
// emulator, holding its lock, and every later test would hang. newEnv checks
// the VM first so that such a failure stays a failure of the subtests.
func newEnv(t *testing.T, r wasmtest.Runner, config string, opts ...func(*proxytest.EmulatorOption)) *probeEnv {
	t.Helper()
	if emulatorStuck {
		t.Fatal("the host emulator is locked by an earlier failure; see the first failing subtest")
	}
	if r.Wasm != nil {
		// proxy_on_log of an unknown context does nothing in a live VM.
		if _, err := r.Wasm.Module.ExportedFunction("proxy_on_log").Call(context.Background(), 0); err != nil {
			t.Fatalf("the compiled plugin no longer runs after an earlier failure: %v", err)
		}
	}
	var buf bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&buf)
	t.Cleanup(func() {
		log.SetOutput(prev)
		if t.Failed() {
			t.Logf("emulator log:\n%s", buf.String())
		}
	})
	opt := proxytest.NewEmulatorOption().WithVMContext(r.VM).
		WithVMConfiguration([]byte(vmConfig)).
		WithPluginConfiguration([]byte(config)).
		WithProperty([]string{"probe", "in"}, []byte("prop-value"))
	for _, o := range opts {
		o(opt)
	}
	emulatorStuck = true
	host, reset := proxytest.NewHostEmulator(opt)
	emulatorStuck = false
	t.Cleanup(reset)
	return &probeEnv{t: t, r: r, host: host, stdlog: &buf}
}

// start sets up an emulator and starts the VM and the plugin.
func start(t *testing.T, r wasmtest.Runner, config string, opts ...func(*proxytest.EmulatorOption)) *probeEnv {
	t.Helper()
	e := newEnv(t, r, config, opts...)
	if !e.host.StartVM() {
		t.Fatal("OnVMStart failed")
	}
	if !e.host.StartPlugin() {
		t.Fatal("OnPluginStart failed")
	}
	return e
}

// caseFunc is one named check, run on a fresh emulator.
type caseFunc struct {
	name string
	run  func(t *testing.T, r wasmtest.Runner)
}

// runCases runs each case as a subtest. A panic (a trap in the compiled
// plugin, or a host call the emulator could not serve) fails that subtest
// alone.
func runCases(t *testing.T, r wasmtest.Runner, cases []caseFunc) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("panic: %v", p)
				}
			}()
			c.run(t, r)
		})
	}
}

// request starts an HTTP stream whose request headers carry op in x-probe,
// plus headers.
func (e *probeEnv) request(op string, headers ...[2]string) (uint32, types.Action) {
	id := e.host.InitializeHttpContext()
	hs := append([][2]string{{"x-probe", op}}, headers...)
	return id, e.host.CallOnRequestHeaders(id, hs, false)
}

// fields is a parsed report.
type fields map[string]string

func parseFields(s string) fields {
	f := fields{}
	for _, kv := range strings.Fields(s) {
		k, v, _ := strings.Cut(kv, "=")
		f[k] = v
	}
	return f
}

// report returns the last report about what, failing the test if there is
// none.
func (e *probeEnv) report(what string) fields {
	e.t.Helper()
	prefix := "probe: " + what + ": "
	logs := e.host.GetInfoLogs()
	for i := len(logs) - 1; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(logs[i], prefix); ok {
			return parseFields(rest)
		}
	}
	e.t.Fatalf("the probe reported no %q; its info logs: %q", what, logs)
	return nil
}

// count is how many info logs are exactly line.
func (e *probeEnv) count(line string) int {
	n := 0
	for _, l := range e.host.GetInfoLogs() {
		if l == line {
			n++
		}
	}
	return n
}

// expect checks that the last report about what has the fields of want
// ("k=v k=v"; other fields are not checked).
func (e *probeEnv) expect(what, want string) {
	e.t.Helper()
	got := e.report(what)
	for k, v := range parseFields(want) {
		if g, ok := got[k]; !ok || g != v {
			e.t.Errorf("probe report %q: %s=%q, want %q (report: %v)", what, k, g, v, got)
		}
	}
}

// expectf is expect with a format.
func (e *probeEnv) expectf(what, format string, args ...any) {
	e.t.Helper()
	e.expect(what, fmt.Sprintf(format, args...))
}

// stdlogHas checks that the emulator wrote s to the standard logger at
// least n times.
func (e *probeEnv) stdlogHas(s string, n int) {
	e.t.Helper()
	if got := strings.Count(e.stdlog.String(), s); got < n {
		e.t.Errorf("emulator noted %q %d times, want at least %d", s, got, n)
	}
}

// call calls an export of the compiled plugin directly, for callbacks
// proxytest does not drive.
func call(t *testing.T, vm *wasmtest.VM, name string, args ...uint64) uint64 {
	t.Helper()
	f := vm.Module.ExportedFunction(name)
	if f == nil {
		t.Fatalf("the plugin does not export %s", name)
	}
	res, err := f.Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(res) == 0 {
		return 0
	}
	return res[0]
}

// joinPairs writes headers as the probe does: k=v,k=v without x-probe.
func joinPairs(pairs [][2]string) string {
	var parts []string
	for _, kv := range pairs {
		if kv[0] != "x-probe" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, ",")
}

func hasPair(pairs [][2]string, k, v string) bool {
	for _, kv := range pairs {
		if kv[0] == k && kv[1] == v {
			return true
		}
	}
	return false
}
