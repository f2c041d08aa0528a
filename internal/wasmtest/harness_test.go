package wasmtest

import (
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
