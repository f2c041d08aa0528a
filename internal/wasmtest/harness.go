// Package wasmtest runs compiled plugin images in wazero through the SDK's
// host emulator, so that one table of test cases can run against the plugin
// compiled into the test binary and against the .wasm users deploy. It also
// holds what those tests share, either way: starting a plugin in the
// emulator, building plugin configurations, and reading back headers, logs,
// counters and the examples' files.
package wasmtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Root returns the module's root directory (the one holding go.mod).
func Root() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("wasmtest: no go.mod above " + dir)
		}
		dir = parent
	}
}

// BuildDir is the directory, relative to the module's root, that the
// compiled images are read from: build, where `make` writes the upstream Go
// images, or $POLICY_BUILD_DIR when set (`make test TOOLCHAIN=tinygo` sets
// it to build/tinygo).
func BuildDir() string {
	if dir := os.Getenv("POLICY_BUILD_DIR"); dir != "" {
		return filepath.FromSlash(dir)
	}
	return "build"
}

// ImagePath is where `make` writes the image called name.
func ImagePath(name string) string { return filepath.Join(Root(), BuildDir(), name+".wasm") }

// Image reads the image called name (build/<name>.wasm). A missing image
// fails the test with the command that builds it: the compiled half of a
// test is never skipped.
func Image(tb testing.TB, name string) []byte {
	tb.Helper()
	wasm, err := os.ReadFile(ImagePath(name))
	if err != nil {
		tb.Fatalf("compiled plugin missing: %v\nbuild it with: make %s (or make test, which builds every image)",
			err, filepath.ToSlash(filepath.Join(BuildDir(), name+".wasm")))
	}
	return wasm
}

// VM is a compiled plugin instantiated in wazero and driven through
// proxytest: pass it to proxytest.NewEmulatorOption().WithVMContext.
type VM struct {
	proxytest.WasmVMContext
	// Module is the plugin's instance, for reading its memory or calling
	// exports proxytest does not call (proxy_on_delete).
	Module api.Module
}

var vmCount atomic.Uint64

// NewVM instantiates wasm, running its _initialize as Envoy does, and closes
// it when the test ends.
func NewVM(tb testing.TB, wasm []byte) *VM {
	tb.Helper()
	vm, err := newVM(wasm)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { vm.Close() })
	return vm
}

func newVM(wasm []byte) (*VM, error) {
	name := fmt.Sprintf("plugin-%d", vmCount.Add(1))
	patched, err := withReactorStart(wasm, name)
	if err != nil {
		return nil, err
	}
	wvm, mod, err := newCopyingVM(patched, name)
	if err != nil {
		return nil, err
	}
	return &VM{WasmVMContext: wvm, Module: mod}, nil
}

// runtimeOf reads the wazero runtime proxytest keeps in an unexported field.
func runtimeOf(vm proxytest.WasmVMContext) wazero.Runtime {
	f := reflect.ValueOf(vm).Elem().FieldByName("runtime")
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(wazero.Runtime)
}

// NewPluginContext implements types.VMContext. A plugin that trapped has
// been closed by wazero; proxytest would then panic while holding the SDK's
// host lock and hang every later emulator test, so a closed plugin gets a
// plugin context that refuses to start instead, and the test fails cleanly.
func (vm *VM) NewPluginContext(contextID uint32) types.PluginContext {
	if vm.Module.IsClosed() {
		return &closedPlugin{}
	}
	return vm.WasmVMContext.NewPluginContext(contextID)
}

type closedPlugin struct{ types.DefaultPluginContext }

func (*closedPlugin) OnPluginStart(int) types.OnPluginStartStatus {
	return types.OnPluginStartStatusFailed
}

// MemoryBytes is the size of the plugin's linear memory.
func (vm *VM) MemoryBytes() uint32 { return vm.Module.Memory().Size() }

// Delete calls proxy_on_delete for a finished context, as Envoy does after
// the stream ends; proxytest never does, so long-running tests call it to
// keep the plugin's context table from growing.
func (vm *VM) Delete(contextID uint32) {
	if _, err := vm.Module.ExportedFunction("proxy_on_delete").Call(context.Background(), uint64(contextID)); err != nil {
		panic(err)
	}
}

// Runner names the two ways a test case runs.
type Runner struct {
	Name string
	// VM is the VMContext to hand to proxytest.
	VM types.VMContext
	// Wasm is set for the compiled run.
	Wasm *VM
}

// Both runs test twice: as "go" with the plugin compiled into the test
// binary (native), and as "wasm" with build/<image>.wasm.
func Both(t *testing.T, image string, native func() types.VMContext, test func(t *testing.T, r Runner)) {
	t.Helper()
	t.Run("go", func(t *testing.T) { test(t, Runner{Name: "go", VM: native()}) })
	t.Run("wasm", func(t *testing.T) {
		vm := NewVM(t, Image(t, image))
		test(t, Runner{Name: "wasm", VM: vm, Wasm: vm})
	})
}
