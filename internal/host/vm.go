package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// VM is one instance of the plugin, as Envoy runs one per worker thread.
// Its methods are safe for concurrent use; see the package documentation
// for how concurrent streams share it.
type VM struct {
	host *Host
	id   uint32
	ctx  context.Context // carries the VM to the host functions
	mod  api.Module
	mem  api.Memory
	fn   callbacks

	tickPeriod atomic.Int64 // nanoseconds; 0: no ticks

	// mu is held while the plugin runs, and guards everything below.
	mu         sync.Mutex
	err        error // the trap that failed the VM, or errClosed
	stack      [8]uint64
	allocStack [1]uint64
	root       uint32
	lastID     uint32
	streams    map[uint32]*stream
	cur        *stream          // the effective context; nil is the root context
	answer     *CalloutResponse // the callout answer being delivered
	pending    work             // left by the callback in progress
	lastCall   uint32           // the last callout id
	props      map[string][]byte
	calls      [numABI]uint64
	wasiCalls  map[string]uint64
	starting   bool
	startErr   string // the last error logged while starting
}

// TrapError reports that the plugin trapped, which failed its VM.
type TrapError struct {
	// VM is the failed VM's number (1 for the Host's first VM).
	VM uint32
	// Callback is the export that was running ("proxy_on_request_headers").
	Callback string
	Err      error
}

func (e *TrapError) Error() string {
	return "plugin VM " + strconv.Itoa(int(e.VM)) + " trapped in " + e.Callback + ": " + e.Err.Error()
}

func (e *TrapError) Unwrap() error { return e.Err }

var errClosed = errors.New("the VM is closed")

type vmKey struct{}

func vmOf(ctx context.Context) *VM { return ctx.Value(vmKey{}).(*VM) }

// NewVM instantiates the plugin and starts it: _initialize, then
// proxy_on_context_create for the root context, proxy_on_vm_start and
// proxy_on_configure. If the plugin refuses to start, the error is a
// *RefusedError, which says why with the last error the plugin logged.
func (h *Host) NewVM(ctx context.Context) (*VM, error) {
	vm := &VM{host: h, id: h.nextVM.Add(1), streams: map[uint32]*stream{}, wasiCalls: map[string]uint64{}}
	vm.ctx = context.WithValue(context.Background(), vmKey{}, vm)
	mc := wazero.NewModuleConfig().
		WithName("plugin-" + strconv.Itoa(int(vm.id))).
		WithStartFunctions(). // a reactor: _initialize is called below, never _start
		WithRandSource(rand.Reader).
		WithStdout(&lineWriter{vm: vm, level: LogInfo}).
		WithStderr(&lineWriter{vm: vm, level: LogError})
	if clock := h.cfg.Clock; clock != nil {
		mc = mc.WithWalltime(func() (int64, int32) {
			t := clock()
			return t.Unix(), int32(t.Nanosecond())
		}, sys.ClockResolution(time.Microsecond)).
			WithNanotime(func() int64 { return clock().UnixNano() }, sys.ClockResolution(1))
	} else {
		mc = mc.WithSysWalltime().WithSysNanotime().WithSysNanosleep()
	}
	mod, err := h.runtime.InstantiateModule(vm.ctx, h.compiled, mc)
	if err != nil {
		return nil, fmt.Errorf("instantiating the plugin: %w", err)
	}
	vm.mod, vm.mem = mod, mod.Memory()
	vm.fn = lookupCallbacks(mod)
	if err := vm.start(); err != nil {
		mod.Close(ctx)
		return nil, err
	}
	vm.mu.Lock()
	w := vm.takeWork() // callouts and enqueues made while starting
	vm.mu.Unlock()
	if err := vm.run(ctx, w); err != nil {
		mod.Close(ctx)
		return nil, err
	}
	h.mu.Lock()
	h.vms = append(h.vms, vm)
	h.mu.Unlock()
	return vm, nil
}

func (vm *VM) start() error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.starting = true
	defer func() { vm.starting = false }()
	if _, err := vm.invoke(vm.fn.initialize); err != nil {
		return err
	}
	vm.lastID++
	vm.root = vm.lastID
	if _, err := vm.invoke(vm.fn.contextCreate, uint64(vm.root), 0); err != nil {
		return err
	}
	if ok, err := vm.invoke(vm.fn.vmStart, uint64(vm.root), uint64(len(vm.host.cfg.VMConfig))); err != nil {
		return err
	} else if vm.fn.vmStart.fn != nil && ok == 0 {
		return vm.refused("proxy_on_vm_start")
	}
	if ok, err := vm.invoke(vm.fn.configure, uint64(vm.root), uint64(len(vm.host.cfg.PluginConfig))); err != nil {
		return err
	} else if vm.fn.configure.fn != nil && ok == 0 {
		return vm.refused("proxy_on_configure")
	}
	return nil
}

// RefusedError reports that the plugin refused to start: its
// proxy_on_vm_start or proxy_on_configure returned false.
type RefusedError struct {
	// Callback is the callback that returned false ("proxy_on_configure").
	Callback string
	// Message is the last line the plugin logged at LogError or above
	// while starting, which says why; empty if it logged none. The line
	// also went to Config.Log.
	Message string
}

func (e *RefusedError) Error() string {
	if e.Message != "" {
		return "the plugin refused to start (" + e.Callback + " failed): " + e.Message
	}
	return "the plugin refused to start (" + e.Callback + " failed)"
}

func (vm *VM) refused(callback string) error {
	return &RefusedError{Callback: callback, Message: vm.startErr}
}

// invoke calls cb with args; the caller holds mu. A trap fails the VM. A
// callback the plugin does not export returns 0 (Continue).
func (vm *VM) invoke(cb callback, args ...uint64) (uint64, error) {
	if vm.err != nil {
		return 0, vm.err
	}
	if cb.fn == nil {
		return 0, nil
	}
	copy(vm.stack[:], args)
	if err := cb.fn.CallWithStack(vm.ctx, vm.stack[:]); err != nil {
		return 0, vm.fail(cb.name, err)
	}
	return uint64(uint32(vm.stack[0])), nil // every callback result is an i32
}

// fail marks the VM failed and wakes every stream waiting on it.
func (vm *VM) fail(callback string, err error) error {
	trap := &TrapError{VM: vm.id, Callback: callback, Err: err}
	vm.err = trap
	vm.log(LogCritical, "host: "+trap.Error()+"; every later stream on this VM gets 503")
	for _, s := range vm.streams {
		s.wakeUp()
	}
	return trap
}

// call runs cb as context s (nil: the root context), then the work it left.
func (vm *VM) call(ctx context.Context, s *stream, cb callback, args ...uint64) (uint64, error) {
	vm.mu.Lock()
	vm.cur = s
	r, err := vm.invoke(cb, args...)
	vm.cur = nil
	w := vm.takeWork()
	vm.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return r, vm.run(ctx, w)
}

// Err returns the trap that failed the VM, or nil.
func (vm *VM) Err() error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.err == errClosed {
		return nil
	}
	return vm.err
}

// ID is the VM's number within its Host, from 1.
func (vm *VM) ID() uint32 { return vm.id }

// Tick calls proxy_on_tick, as the proxy does at the period the plugin set.
func (vm *VM) Tick(ctx context.Context) error {
	_, err := vm.call(ctx, nil, vm.fn.tick, uint64(vm.root))
	return err
}

// TickPeriod is the period the plugin asked for with
// proxy_set_tick_period_milliseconds; 0 if none.
func (vm *VM) TickPeriod() time.Duration { return time.Duration(vm.tickPeriod.Load()) }

// MemoryBytes is the size of the plugin's linear memory.
func (vm *VM) MemoryBytes() uint64 { return uint64(vm.mem.Size()) }

// HostCalls counts the plugin's calls into the host since the VM started
// (or since ResetHostCalls), by import name: the proxy-wasm functions
// always, the WASI functions with Config.CountWASI.
func (vm *VM) HostCalls() map[string]uint64 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	out := map[string]uint64{}
	for i, n := range vm.calls {
		if n > 0 {
			out[abiNames[i]] = n
		}
	}
	for name, n := range vm.wasiCalls {
		out[name] = n
	}
	return out
}

// ResetHostCalls zeroes the counts HostCalls reports.
func (vm *VM) ResetHostCalls() {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.calls = [numABI]uint64{}
	clear(vm.wasiCalls)
}

// Close ends the VM: proxy_on_done and proxy_on_delete for the root
// context (a plugin flushes its metrics in proxy_on_done), then the
// instance is released. Streams served afterwards fail.
func (vm *VM) Close(ctx context.Context) error {
	h := vm.host
	h.mu.Lock()
	for i, x := range h.vms {
		if x == vm {
			h.vms = append(h.vms[:i:i], h.vms[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	return vm.close(ctx)
}

func (vm *VM) close(ctx context.Context) error {
	vm.mu.Lock()
	if vm.err == nil {
		vm.invoke(vm.fn.done, uint64(vm.root))
		vm.invoke(vm.fn.delete, uint64(vm.root))
	}
	if vm.err == nil {
		vm.err = errClosed
	}
	vm.mu.Unlock()
	return vm.mod.Close(ctx)
}

func (vm *VM) log(level LogLevel, msg string) {
	if vm.starting && level >= LogError {
		vm.startErr = msg
	}
	if f := vm.host.cfg.Log; f != nil {
		f(level, msg)
	}
	if s := vm.cur; s != nil && s.req.Log != nil {
		s.req.Log(level, msg)
	}
}
