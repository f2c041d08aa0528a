package host

import (
	"context"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// status is a proxy-wasm result code (WasmResult).
type status uint32

const (
	statusOK                  status = 0
	statusNotFound            status = 1
	statusBadArgument         status = 2
	statusInvalidMemoryAccess status = 6
	statusEmpty               status = 7
	statusCasMismatch         status = 8
)

// hostFunc implements one import of module "env". It reads its arguments
// from stack and returns the status the plugin gets.
type hostFunc func(vm *VM, stack []uint64) status

// The host functions: exactly the 29 the SDK imports (internal/bridge),
// with the types Envoy gives them. Every parameter is an i32 except the
// i64 value of proxy_increment_metric and proxy_record_metric; every result
// is an i32 status.
var abi = [numABI]struct {
	name   string
	params int
	i64    bool // the last parameter is an i64
	fn     hostFunc
}{
	{"proxy_log", 3, false, proxyLog},
	{"proxy_get_property", 4, false, proxyGetProperty},
	{"proxy_set_property", 4, false, proxySetProperty},
	{"proxy_send_local_response", 8, false, proxySendLocalResponse},
	{"proxy_get_shared_data", 5, false, proxyGetSharedData},
	{"proxy_set_shared_data", 5, false, proxySetSharedData},
	{"proxy_register_shared_queue", 3, false, proxyRegisterSharedQueue},
	{"proxy_resolve_shared_queue", 5, false, proxyResolveSharedQueue},
	{"proxy_dequeue_shared_queue", 3, false, proxyDequeueSharedQueue},
	{"proxy_enqueue_shared_queue", 3, false, proxyEnqueueSharedQueue},
	{"proxy_get_header_map_value", 5, false, proxyGetHeaderMapValue},
	{"proxy_add_header_map_value", 5, false, proxyAddHeaderMapValue},
	{"proxy_replace_header_map_value", 5, false, proxyReplaceHeaderMapValue},
	{"proxy_remove_header_map_value", 3, false, proxyRemoveHeaderMapValue},
	{"proxy_get_header_map_pairs", 3, false, proxyGetHeaderMapPairs},
	{"proxy_set_header_map_pairs", 3, false, proxySetHeaderMapPairs},
	{"proxy_continue_stream", 1, false, proxyContinueStream},
	{"proxy_close_stream", 1, false, proxyCloseStream},
	{"proxy_get_buffer_bytes", 5, false, proxyGetBufferBytes},
	{"proxy_set_buffer_bytes", 5, false, proxySetBufferBytes},
	{"proxy_http_call", 10, false, proxyHTTPCall},
	{"proxy_call_foreign_function", 6, false, proxyCallForeignFunction},
	{"proxy_set_tick_period_milliseconds", 1, false, proxySetTickPeriod},
	{"proxy_set_effective_context", 1, false, proxySetEffectiveContext},
	{"proxy_done", 0, false, proxyDone},
	{"proxy_define_metric", 4, false, proxyDefineMetric},
	{"proxy_increment_metric", 2, true, proxyIncrementMetric},
	{"proxy_record_metric", 2, true, proxyRecordMetric},
	{"proxy_get_metric", 2, false, proxyGetMetric},
}

// numABI is the number of host functions.
const numABI = 29

// abiNames[i] is abi[i].name: the keys of HostCalls.
var abiNames = func() (names [numABI]string) {
	for i, f := range abi {
		names[i] = f.name
	}
	return names
}()

// instantiateABI defines module "env" in r. The functions find their VM in
// the context the VM calls the plugin with, and count every call.
func instantiateABI(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder("env")
	for i, f := range abi {
		params := make([]api.ValueType, f.params)
		for j := range params {
			params[j] = api.ValueTypeI32
		}
		if f.i64 {
			params[len(params)-1] = api.ValueTypeI64
		}
		fn, i32s := f.fn, f.params
		if f.i64 {
			i32s--
		}
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
			vm := vmOf(ctx)
			vm.calls[i]++
			for j := range i32s {
				stack[j] = uint64(uint32(stack[j])) // the upper half of an i32 is undefined
			}
			stack[0] = uint64(fn(vm, stack))
		}), params, []api.ValueType{api.ValueTypeI32}).Export(f.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

func u32(v uint64) uint32 { return uint32(v) }

// bytes returns a copy of the plugin's memory at ptr, size bytes long.
func (vm *VM) bytes(ptr, size uint64) ([]byte, bool) {
	if size == 0 {
		return nil, true
	}
	b, ok := vm.mem.Read(u32(ptr), u32(size))
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

// str returns the plugin's memory at ptr, size bytes long, as a string.
func (vm *VM) str(ptr, size uint64) (string, bool) {
	if size == 0 {
		return "", true
	}
	b, ok := vm.mem.Read(u32(ptr), u32(size))
	return string(b), ok
}

// alloc allocates n bytes in the plugin, with its allocator. A failure
// panics, which wazero turns into a trap of the callback in progress.
func (vm *VM) alloc(n uint32) uint32 {
	vm.allocStack[0] = uint64(n)
	if err := vm.fn.malloc.fn.CallWithStack(vm.ctx, vm.allocStack[:]); err != nil {
		panic(err)
	}
	return uint32(vm.allocStack[0])
}

// reserve allocates n bytes in the plugin, writes their address and size
// where the plugin asked (ptrPtr, sizePtr), and returns them for the caller
// to fill. Nothing is allocated for 0 bytes: the plugin gets a null pointer.
func (vm *VM) reserve(n int, ptrPtr, sizePtr uint64) ([]byte, status) {
	var ptr uint32
	var buf []byte
	if n > 0 {
		ptr = vm.alloc(uint32(n))
		var ok bool
		if buf, ok = vm.mem.Read(ptr, uint32(n)); !ok {
			return nil, statusInvalidMemoryAccess
		}
	}
	if !vm.mem.WriteUint32Le(u32(ptrPtr), ptr) || !vm.mem.WriteUint32Le(u32(sizePtr), uint32(n)) {
		return nil, statusInvalidMemoryAccess
	}
	return buf, statusOK
}

// give copies data into the plugin's memory as the result of a call.
func (vm *VM) give(data []byte, ptrPtr, sizePtr uint64) status {
	buf, st := vm.reserve(len(data), ptrPtr, sizePtr)
	copy(buf, data)
	return st
}

func (vm *VM) giveString(s string, ptrPtr, sizePtr uint64) status {
	buf, st := vm.reserve(len(s), ptrPtr, sizePtr)
	copy(buf, s)
	return st
}

func (vm *VM) putU32(ptr uint64, v uint32) status {
	if !vm.mem.WriteUint32Le(u32(ptr), v) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}
