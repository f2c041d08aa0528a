package wasmtest

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

func TestClosedPluginFailsCleanly(t *testing.T) {
	vm := NewVM(t, Image(t, "hostprobe"))
	// A plugin that exits (a Go fatal error ends in proc_exit) is closed by
	// wazero, as Close does here.
	if err := vm.Module.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Without the guard this panics while holding the SDK's host lock,
	// and every later emulator test in the binary hangs.
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(vm))
	defer reset()
	if host.StartPlugin() != types.OnPluginStartStatusFailed {
		t.Fatal("a closed plugin started")
	}
}

// What a plugin hands the host (a local reply, its headers, a log line) is
// the emulator's own copy, as it is Envoy's: a plugin that reuses the memory
// afterwards, as every collector does sooner or later, does not change what
// the test reads back. Here the test plays the collector and overwrites every
// copy of the step's id left in linear memory.
func TestEmulatorKeepsCopies(t *testing.T) {
	vm := NewVM(t, Image(t, "testchain"))
	host, reset := Start(t, vm, Chain(`{"name":"step","id":"zqzq","config":{"action":"deny","status":403}}`))
	defer reset()
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}}, true)

	mem := vm.Module.Memory()
	all, _ := mem.Read(0, mem.Size())
	overwritten := bytes.Count(all, []byte("zqzq"))
	copy(all, bytes.ReplaceAll(all, []byte("zqzq"), []byte("XXXX")))
	if overwritten == 0 {
		t.Fatal("the step's id is nowhere in linear memory: the test overwrote nothing")
	}

	reply := host.GetSentLocalResponse(id)
	if reply == nil || string(reply.Data) != "denied by zqzq" {
		t.Fatalf("local reply %+v, want the body denied by zqzq", reply)
	}
	if got := HeaderValues(reply.Headers, "x-denied-by"); len(got) != 1 || got[0] != "zqzq" {
		t.Errorf("x-denied-by = %q, want zqzq", got)
	}
	if !AnyContains(Logs(host), "filter zqzq denied with 403") {
		t.Errorf("logs %q, want the denial's line naming zqzq", Logs(host))
	}
}
