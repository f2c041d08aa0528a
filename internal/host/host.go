package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Config is what a Host gives its plugin.
type Config struct {
	// PluginConfig is the plugin configuration (Istio's pluginConfig, as
	// JSON), read by the plugin in proxy_on_configure. Nil means none.
	PluginConfig []byte
	// VMConfig is the VM configuration, read in proxy_on_vm_start.
	VMConfig []byte
	// Name is the plugin's name (the plugin_name property); "plugin" when
	// empty.
	Name string
	// Properties adds to or overrides the properties every stream sees,
	// keyed by their path with "." between segments ("node.id").
	// Per-stream values go in Request.Properties.
	Properties map[string][]byte

	// Log receives the plugin's log lines (proxy_log) and what it writes to
	// stdout (at LogInfo) and stderr (at LogError), and the host's own report
	// of a trap (at LogCritical). Nil discards them.
	Log func(level LogLevel, msg string)
	// Clock replaces the wall clock the plugin reads (WASI clock_time_get)
	// and the request.time property; nil is the real clock.
	Clock func() time.Time
	// HTTPCall performs the plugin's HTTP callouts (proxy_http_call). Nil
	// means the proxy has no clusters: every call is refused, as Envoy
	// refuses a call to an unknown cluster.
	HTTPCall func(ctx context.Context, c Callout) (*CalloutResponse, error)
	// PauseTimeout bounds how long a stream the plugin paused waits to be
	// resumed after the callouts it started have answered; the stream then
	// gets 504. Zero is 30 seconds.
	PauseTimeout time.Duration

	// CountWASI counts the plugin's WASI calls (clock_time_get, fd_write,
	// ...) in HostCalls besides its proxy-wasm calls, through a wazero
	// function listener that costs a little on every WASI call.
	CountWASI bool
	// Cache is the wazero compilation cache; nil is one shared by every
	// Host of the process, so that an image compiles once per process.
	Cache wazero.CompilationCache
}

// The cache shared by every Host whose Config.Cache is nil.
var processCache = wazero.NewCompilationCache()

// Host is one plugin image loaded into a wazero runtime, with the state
// Envoy shares between the VMs of one plugin. Its methods are safe for
// concurrent use.
type Host struct {
	cfg      Config
	runtime  wazero.Runtime
	compiled wazero.CompiledModule

	shared  sharedData
	queues  queues
	metrics metrics

	mu     sync.Mutex
	vms    []*VM
	nextVM atomic.Uint32
}

// New compiles wasm, a proxy-wasm ABI 0.2.0 plugin built as a WASI reactor
// (one that exports _initialize: -buildmode=c-shared), and makes the checks
// Envoy makes when it loads a plugin. Create its VMs with NewVM; Close
// releases everything.
func New(ctx context.Context, wasm []byte, cfg Config) (*Host, error) {
	if !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		start := wasm[:min(len(wasm), 8)]
		return nil, fmt.Errorf("not a WebAssembly module: a .wasm file starts with \"\\x00asm\", this one with %q", start)
	}
	if cfg.Cache == nil {
		cfg.Cache = processCache
	}
	if cfg.PauseTimeout == 0 {
		cfg.PauseTimeout = 30 * time.Second
	}
	h := &Host{cfg: cfg}
	h.runtime = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(cfg.Cache).
		WithMemoryLimitPages(16384)) // 1 GiB, Envoy's limit under V8
	wasiCtx := ctx
	if cfg.CountWASI {
		wasiCtx = experimental.WithFunctionListenerFactory(ctx, wasiCounter{})
	}
	if _, err := wasi_snapshot_preview1.Instantiate(wasiCtx, h.runtime); err != nil {
		h.runtime.Close(ctx)
		return nil, fmt.Errorf("instantiating WASI: %w", err)
	}
	if err := instantiateABI(ctx, h.runtime); err != nil {
		h.runtime.Close(ctx)
		return nil, fmt.Errorf("instantiating the proxy-wasm host functions: %w", err)
	}
	compiled, err := h.runtime.CompileModule(ctx, wasm)
	if err != nil {
		h.runtime.Close(ctx)
		return nil, fmt.Errorf("compiling the plugin: %w", err)
	}
	if err := checkModule(compiled); err != nil {
		h.runtime.Close(ctx)
		return nil, err
	}
	h.compiled = compiled
	return h, nil
}

// Close closes every VM (calling proxy_on_done and proxy_on_delete for
// their root contexts) and releases the runtime.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	vms := h.vms
	h.vms = nil
	h.mu.Unlock()
	var errs []error
	for _, vm := range vms {
		errs = append(errs, vm.close(ctx))
	}
	errs = append(errs, h.runtime.Close(ctx))
	return errors.Join(errs...)
}

// VMs returns the Host's open VMs, in the order they were created.
func (h *Host) VMs() []*VM {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*VM(nil), h.vms...)
}

// Metric returns the metric the plugin defined as name.
func (h *Host) Metric(name string) (Metric, bool) { return h.metrics.byNameCopy(name) }

// Metrics returns every metric the plugin defined, sorted by name.
func (h *Host) Metrics() []Metric { return h.metrics.all() }

// SharedData returns the value at key in the shared data and its CAS token.
func (h *Host) SharedData(key string) (value []byte, cas uint32, ok bool) {
	v, cas, ok := h.shared.get(key)
	return append([]byte(nil), v...), cas, ok
}

// SetSharedData stores value at key, as a plugin would with a CAS of 0.
func (h *Host) SetSharedData(key string, value []byte) { h.shared.set(key, value, 0) }

// HostCalls sums VM.HostCalls over the Host's VMs.
func (h *Host) HostCalls() map[string]uint64 {
	out := map[string]uint64{}
	for _, vm := range h.VMs() {
		for name, n := range vm.HostCalls() {
			out[name] += n
		}
	}
	return out
}

// RunTicks calls proxy_on_tick on every VM at the period its plugin set
// (to within 10 ms), until ctx is done.
func (h *Host) RunTicks(ctx context.Context) {
	last := map[*VM]time.Time{}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, vm := range h.VMs() {
				p := vm.TickPeriod()
				if p <= 0 || now.Sub(last[vm]) < p || vm.Err() != nil {
					continue
				}
				last[vm] = now
				vm.Tick(ctx) // a trap is reported through Log and VM.Err
			}
		}
	}
}

func (h *Host) now() time.Time {
	if h.cfg.Clock != nil {
		return h.cfg.Clock()
	}
	return time.Now()
}
