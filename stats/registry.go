package stats

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	"github.com/wasmpolicy/policy/internal/bridge"
)

// Kind is a metric type.
type Kind int

const (
	KindCounter Kind = iota
	KindGauge
	KindHistogram
)

func (k Kind) String() string {
	switch k {
	case KindCounter:
		return "counter"
	case KindGauge:
		return "gauge"
	}
	return "histogram"
}

// Metric describes a metric a registry defined.
type Metric struct {
	Kind Kind
	// Name is the name as the filter gave it, without the prefix.
	Name string
	Tags []Tag
	// FullName is the name the proxy knows the metric by: prefix, name and
	// tags encoded by Name.
	FullName string
}

// Registry defines each metric once and hands out cached handles. A plugin
// owns one registry; filters define their metrics when they are built, so no
// request defines a metric and the number of metrics is fixed by the
// configuration.
//
// Counters and gauges add up in the plugin's memory and reach the proxy when
// Flush runs (the dispatcher flushes on every tick, once a second by
// default, and when the plugin stops): a request costs no host call for
// them. Histogram observations are recorded at once.
type Registry struct {
	prefix   string
	byName   map[string]int // full name → index in metrics
	metrics  []entry
	keys     []string
	counters []*Counter
	gauges   []*Gauge
}

type entry struct {
	Metric
	id      uint32
	counter *Counter
	gauge   *Gauge
}

// NewRegistry returns a registry whose metric names start with prefix + "_"
// (no prefix if empty). Characters a metric name cannot hold become '_'.
func NewRegistry(prefix string) *Registry {
	if prefix != "" {
		prefix = Name(prefix)
	}
	return &Registry{prefix: prefix, byName: map[string]int{}}
}

// Prefix is the registry's name prefix.
func (r *Registry) Prefix() string { return r.prefix }

// Defined is the number of distinct metrics defined through r.
func (r *Registry) Defined() int { return len(r.metrics) }

// Metrics describes every metric defined through r, in the order they were
// defined.
func (r *Registry) Metrics() []Metric {
	out := make([]Metric, len(r.metrics))
	for i, e := range r.metrics {
		out[i] = e.Metric
	}
	return out
}

// TagKeys lists every tag key used by the metrics defined through r, in the
// order first used: the keys the proxy's stats_tags must extract.
func (r *Registry) TagKeys() []string { return append([]string(nil), r.keys...) }

// FullName is the name the proxy knows the metric name{tags} by.
func (r *Registry) FullName(name string, tags ...Tag) string {
	if r.prefix != "" {
		name = r.prefix + "_" + name
	}
	return Name(name, tags...)
}

// define returns the entry of name{tags}, defining it with the proxy the
// first time. It returns nil, after logging, if the name is already defined
// as another kind of metric.
func (r *Registry) define(kind Kind, name string, tags []Tag) *entry {
	full := r.FullName(name, tags...)
	if i, ok := r.byName[full]; ok {
		e := &r.metrics[i]
		if e.Kind != kind {
			proxywasm.LogError("policy: metric " + full + " is already defined as a " + e.Kind.String() + "; the " + kind.String() + " of that name counts nothing")
			return nil
		}
		return e
	}
	mt := uint32(2) // the ABI's metric types: counter 0, gauge 1, histogram 2
	switch kind {
	case KindCounter:
		mt = 0
	case KindGauge:
		mt = 1
	}
	id, err := bridge.DefineMetric(mt, full)
	if err != nil {
		// As the SDK does: the proxy refused a well-formed name.
		panic("policy: defining metric " + full + ": " + err.Error())
	}
	for _, t := range tags {
		r.addKey(t.Key)
	}
	r.byName[full] = len(r.metrics)
	r.metrics = append(r.metrics, entry{
		Metric: Metric{Kind: kind, Name: name, Tags: append([]Tag(nil), tags...), FullName: full},
		id:     id,
	})
	return &r.metrics[len(r.metrics)-1]
}

func (r *Registry) addKey(key string) {
	for _, k := range r.keys {
		if k == key {
			return
		}
	}
	r.keys = append(r.keys, key)
}

// Counter defines (once) and returns the counter name{tags}.
func (r *Registry) Counter(name string, tags ...Tag) *Counter {
	e := r.define(KindCounter, name, tags)
	if e == nil {
		return &Counter{} // detached: never flushed
	}
	if e.counter == nil {
		e.counter = &Counter{id: e.id}
		r.counters = append(r.counters, e.counter)
	}
	return e.counter
}

// Gauge defines (once) and returns the gauge name{tags}.
func (r *Registry) Gauge(name string, tags ...Tag) *Gauge {
	e := r.define(KindGauge, name, tags)
	if e == nil {
		return &Gauge{} // detached: never flushed
	}
	if e.gauge == nil {
		e.gauge = &Gauge{id: e.id}
		r.gauges = append(r.gauges, e.gauge)
	}
	return e.gauge
}

// Histogram defines (once) and returns the histogram name{tags}.
func (r *Registry) Histogram(name string, tags ...Tag) Histogram {
	e := r.define(KindHistogram, name, tags)
	if e == nil {
		return Histogram{}
	}
	return Histogram{id: e.id, live: true}
}

// Flush sends the counts and gauge changes gathered since the last flush to
// the proxy.
func (r *Registry) Flush() {
	for _, c := range r.counters {
		if c.pending > 0 {
			report(bridge.IncrementMetric(c.id, int64(c.pending)))
			c.pending = 0
		}
	}
	for _, g := range r.gauges {
		if g.pending != 0 {
			report(bridge.IncrementMetric(g.id, g.pending))
			g.pending = 0
		}
	}
}

// report logs a metric update the proxy refused; the SDK would panic, which
// would end the VM for a lost count.
func report(err error) {
	if err != nil {
		proxywasm.LogWarn("policy: updating a metric: " + err.Error())
	}
}

// Counter only goes up. Every worker VM of the proxy adds to the same
// counter.
type Counter struct {
	id      uint32
	pending uint64
}

// Inc adds one.
func (c *Counter) Inc() { c.pending++ }

// Add adds n.
func (c *Counter) Add(n uint64) { c.pending += n }

// Gauge goes up and down. Every worker VM of the proxy adds its changes to
// the same gauge, so a gauge holds a sum over workers (in-flight requests,
// say), never one worker's absolute value.
type Gauge struct {
	id      uint32
	pending int64
}

// Add adds delta, which may be negative.
func (g *Gauge) Add(delta int64) { g.pending += delta }

// Histogram records observations; the proxy computes the buckets. The zero
// Histogram records nothing.
type Histogram struct {
	id   uint32
	live bool
}

// Record records one observation.
func (h Histogram) Record(v uint64) {
	if h.live {
		report(bridge.RecordMetric(h.id, v))
	}
}
