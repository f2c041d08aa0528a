package wasmtest

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"unsafe"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// The SDK's wasm runner (proxytest.NewWasmVMContext) hands its host
// emulator the plugin's own memory: what a plugin logs, sends as a local
// reply, sets as a header or stores as shared data is kept by the emulator
// as a string or slice that points into the plugin's linear memory. Envoy
// copies all of these when the call is made; the emulator does not, so once
// the plugin's allocator reuses that memory, what a test reads back has
// changed under it (a log line ends in a later request's headers). Upstream
// Go's allocator rarely reuses memory soon enough for a test to notice;
// TinyGo's collectors do.
//
// newCopyingVM runs the plugin with the SDK's own host functions, in a
// runtime of its own, but each of those functions sees the plugin through
// copyingModule, whose memory reads return copies: the emulator then keeps
// nothing that points into linear memory.

// guestExports are the fields of the SDK's vmContext.abi and the plugin
// exports they hold.
var guestExports = map[string]string{
	"proxyOnVMStart":          "proxy_on_vm_start",
	"proxyOnContextCreate":    "proxy_on_context_create",
	"proxyOnConfigure":        "proxy_on_configure",
	"proxyOnDone":             "proxy_on_done",
	"proxyOnQueueReady":       "proxy_on_queue_ready",
	"proxyOnTick":             "proxy_on_tick",
	"proxyOnRequestHeaders":   "proxy_on_request_headers",
	"proxyOnRequestBody":      "proxy_on_request_body",
	"proxyOnRequestTrailers":  "proxy_on_request_trailers",
	"proxyOnResponseHeaders":  "proxy_on_response_headers",
	"proxyOnResponseBody":     "proxy_on_response_body",
	"proxyOnResponseTrailers": "proxy_on_response_trailers",
	"proxyOnLog":              "proxy_on_log",
}

// emptyModule is the smallest valid wasm module: the SDK instantiates it to
// give us its host functions.
var emptyModule = []byte("\x00asm\x01\x00\x00\x00")

// newCopyingVM instantiates wasm (already named name) and returns the SDK's
// WasmVMContext driving it, and the instance.
func newCopyingVM(wasm []byte, name string) (proxytest.WasmVMContext, api.Module, error) {
	ctx := context.Background()
	// The SDK's runner around an empty module: its runtime holds the SDK's
	// host functions, and its vmContext is the one the emulator will drive,
	// once pointed at the plugin below.
	vm, err := proxytest.NewWasmVMContext(emptyModule)
	if err != nil {
		return nil, nil, err
	}
	sdk := runtimeOf(vm)
	env := sdk.Module("env")
	if env == nil {
		vm.Close()
		return nil, nil, fmt.Errorf("the SDK's runner has no env module")
	}

	r := wazero.NewRuntime(ctx)
	fail := func(err error) (proxytest.WasmVMContext, api.Module, error) {
		r.Close(ctx)
		vm.Close()
		return nil, nil, err
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		return fail(err)
	}
	b := r.NewHostModuleBuilder("env")
	for export, def := range env.ExportedFunctionDefinitions() {
		f := b.NewFunctionBuilder().WithParameterNames(def.ParamNames()...)
		switch fn := def.GoFunction().(type) {
		case api.GoModuleFunction: // reads or writes the plugin's memory
			f = f.WithGoModuleFunction(copyingFunction{fn}, def.ParamTypes(), def.ResultTypes())
		case api.GoFunction: // takes numbers only
			f = f.WithGoFunction(fn, def.ParamTypes(), def.ResultTypes())
		default:
			return fail(fmt.Errorf("the SDK's env.%s is not a Go function", export))
		}
		f.Export(export)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fail(err)
	}
	config := wazero.NewModuleConfig().WithName(name).WithStdout(os.Stderr).WithStderr(os.Stderr)
	mod, err := r.InstantiateWithConfig(ctx, wasm, config)
	if err != nil {
		return fail(fmt.Errorf("instantiating plugin: %w", err))
	}

	// Point the SDK's vmContext at the plugin: its runtime (closed by
	// Close) and the exports it calls.
	v := reflect.ValueOf(vm).Elem()
	settable(v.FieldByName("runtime")).Set(reflect.ValueOf(r))
	abi := v.FieldByName("abi")
	for field, export := range guestExports {
		f := abi.FieldByName(field)
		if !f.IsValid() {
			return fail(fmt.Errorf("the SDK's runner has no %s", field))
		}
		if fn := mod.ExportedFunction(export); fn != nil {
			settable(f).Set(reflect.ValueOf(fn))
		} else {
			settable(f).Set(reflect.Zero(f.Type()))
		}
	}
	sdk.Close(ctx) // the empty module's runtime: only its functions were needed
	return vm, mod, nil
}

// settable makes an unexported field of an addressable struct settable.
func settable(f reflect.Value) reflect.Value {
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// copyingFunction calls one of the SDK's host functions with the plugin seen
// through copyingModule.
type copyingFunction struct{ fn api.GoModuleFunction }

func (c copyingFunction) Call(ctx context.Context, mod api.Module, stack []uint64) {
	c.fn.Call(ctx, &copyingModule{Module: mod}, stack)
}

// copyingModule is the plugin as the SDK's host functions see it: its
// memory's reads are copies, except the one read of a block the host
// function has just allocated in the plugin (by calling
// proxy_on_memory_allocate) to copy a result into, which must be the memory
// itself.
type copyingModule struct {
	api.Module
	// allocated is the address of the block proxy_on_memory_allocate last
	// returned, until it is read.
	allocated uint32
	pending   bool
}

func (m *copyingModule) Memory() api.Memory { return copyingMemory{m.Module.Memory(), m} }

func (m *copyingModule) ExportedFunction(name string) api.Function {
	fn := m.Module.ExportedFunction(name)
	if name == "proxy_on_memory_allocate" && fn != nil {
		return allocFunction{fn, m}
	}
	return fn
}

// allocFunction notes the address each allocation returns.
type allocFunction struct {
	api.Function
	m *copyingModule
}

func (a allocFunction) Call(ctx context.Context, params ...uint64) ([]uint64, error) {
	res, err := a.Function.Call(ctx, params...)
	if err == nil && len(res) == 1 {
		a.m.allocated, a.m.pending = uint32(res[0]), true
	}
	return res, err
}

type copyingMemory struct {
	api.Memory
	m *copyingModule
}

func (c copyingMemory) Read(offset, byteCount uint32) ([]byte, bool) {
	b, ok := c.Memory.Read(offset, byteCount)
	if !ok {
		return nil, false
	}
	if c.m.pending && offset == c.m.allocated {
		c.m.pending = false
		return b, true // the destination of a result
	}
	return append([]byte(nil), b...), true
}
