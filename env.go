package policy

import (
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	"github.com/wasmpolicy/policy/internal/bridge"
	"github.com/wasmpolicy/policy/stats"
)

// Env is what a filter gets from its plugin when it is built.
type Env struct {
	// ID names the filter in logs and metrics.
	ID string
	// Mode is the filter's mode; the chain applies it, filters need not.
	Mode Mode

	pc  *pluginContext
	log Logger
}

// Now reads the plugin's clock.
func (e *Env) Now() time.Time { return e.pc.plugin.now() }

// SharedData is the proxy-wide store, shared by every worker VM.
func (e *Env) SharedData() SharedData {
	if e.pc.plugin.SharedData != nil {
		return e.pc.plugin.SharedData
	}
	return ProxySharedData{}
}

// Metrics is the plugin's metric registry.
func (e *Env) Metrics() *stats.Registry { return e.pc.metrics }

// Counter defines a counter for this filter: name{filter=ID, tags...}.
func (e *Env) Counter(name string, tags ...stats.Tag) *stats.Counter {
	return e.pc.metrics.Counter(name, e.tags(tags)...)
}

// Gauge defines a gauge for this filter: name{filter=ID, tags...}.
func (e *Env) Gauge(name string, tags ...stats.Tag) *stats.Gauge {
	return e.pc.metrics.Gauge(name, e.tags(tags)...)
}

// Histogram defines a histogram for this filter: name{filter=ID, tags...}.
func (e *Env) Histogram(name string, tags ...stats.Tag) stats.Histogram {
	return e.pc.metrics.Histogram(name, e.tags(tags)...)
}

func (e *Env) tags(tags []stats.Tag) []stats.Tag {
	return append([]stats.Tag{{Key: "filter", Value: e.ID}}, tags...)
}

// Guard runs f, a callback of the filter's own outside any request (the
// answer to an HTTP call it dispatched from OnTick with
// proxywasm.DispatchHttpCall), recovering a panic as the chain does for
// the filter's phases and ticks: the panic is logged once with the
// filter's name and counted (filter_panics_total{filter=ID}), and the VM
// keeps serving. Guard reports false if f panicked.
func (e *Env) Guard(f func()) (ok bool) {
	defer e.pc.recoverPlugin(e.ID, "a callback", &ok)
	f()
	return true
}

// MeasureChainTime asks the chain to time its filters on every request, for
// Exchange.ChainTime. It costs two clock readings per phase, so only filters
// that report the time ask for it.
func (e *Env) MeasureChainTime() { e.pc.measureTime = true }

// TickFilter is implemented by filters with periodic housekeeping; the chain
// calls OnTick about once a second.
type TickFilter interface {
	OnTick(now time.Time)
}

// SharedData is a proxy-wide key-value store with compare-and-swap.
type SharedData interface {
	// Get returns the value at key and its CAS token. A missing key returns
	// types.ErrorStatusNotFound.
	Get(key string) (value []byte, cas uint32, err error)
	// Set stores a copy of value at key if the key's CAS token is still cas
	// (0 stores unconditionally), else returns types.ErrorStatusCasMismatch.
	// The caller may reuse value afterwards.
	Set(key string, value []byte, cas uint32) error
}

// ProxySharedData is the proxy's shared data (proxy_get_shared_data and
// proxy_set_shared_data), visible to every VM of the proxy.
type ProxySharedData struct{}

// Get implements SharedData.
func (ProxySharedData) Get(key string) ([]byte, uint32, error) { return bridge.SharedData(key) }

// Set implements SharedData.
func (ProxySharedData) Set(key string, value []byte, cas uint32) error {
	return proxywasm.SetSharedData(key, value, cas)
}
