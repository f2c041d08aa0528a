// Package stats defines proxy metrics once per plugin and names them with
// tags that Envoy's stats_tags regexes can turn into Prometheus labels. The
// public face of this package is the metrics package; the dispatcher uses it
// directly.
package stats

import (
	"strings"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
)

// Tag is one label of a metric. Its value must come from configuration or
// from a closed set (a decision, a status class), never from request data:
// every distinct value is a new metric in the proxy's memory.
type Tag struct{ Key, Value string }

// Name encodes a metric's tags and name the way Istio does:
//
//	filter=.=ratelimit;.;decision=.=denied;.;policy_filter_requests_total
//
// Each tag is KEY=.=VALUE;.; and the name comes last. A stats_tags regex
// (KEY=\.=(.+?);\.;) matches exactly one tag: the delimiters cannot occur in
// keys and values, which Valid checks, so no tag can swallow the next.
func Name(name string, tags ...Tag) string {
	var b strings.Builder
	for _, t := range tags {
		b.WriteString(t.Key)
		b.WriteString("=.=")
		b.WriteString(t.Value)
		b.WriteString(";.;")
	}
	b.WriteString(name)
	return b.String()
}

// Valid reports whether s may be used as a metric name part, tag key or tag
// value: non-empty, and only letters, digits, '_', '-' and '/' (no '.', '=' or
// ';', which delimit tags).
func Valid(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '/':
		default:
			return false
		}
	}
	return true
}

// Kind is a metric type.
type Kind int

const (
	KindCounter Kind = iota
	KindGauge
	KindHistogram
)

// Registry defines each metric once and hands out cached handles. A plugin
// owns one registry; filters define their metrics when they are built, so no
// request defines a metric.
//
// Counters and gauges add up in the plugin's memory and reach the proxy when
// Flush runs (the dispatcher flushes on every tick, once a second by
// default): a request costs no host call for them. Histogram observations
// are recorded at once.
type Registry struct {
	prefix   string
	ids      map[string]uint32
	counters []*Counter
	gauges   []*Gauge
}

// NewRegistry returns a registry whose metric names start with prefix + "_"
// (no prefix if empty).
func NewRegistry(prefix string) *Registry {
	return &Registry{prefix: prefix, ids: map[string]uint32{}}
}

// Prefix is the registry's name prefix.
func (r *Registry) Prefix() string { return r.prefix }

// Defined is the number of distinct metrics defined through r.
func (r *Registry) Defined() int { return len(r.ids) }

// FullName is the name the proxy knows the metric name{tags} by.
func (r *Registry) FullName(name string, tags ...Tag) string {
	if r.prefix != "" {
		name = r.prefix + "_" + name
	}
	return Name(name, tags...)
}

func (r *Registry) define(kind Kind, name string, tags []Tag) (id uint32, existed bool) {
	full := r.FullName(name, tags...)
	if id, ok := r.ids[full]; ok {
		return id, true
	}
	switch kind {
	case KindCounter:
		id = uint32(proxywasm.DefineCounterMetric(full))
	case KindGauge:
		id = uint32(proxywasm.DefineGaugeMetric(full))
	default:
		id = uint32(proxywasm.DefineHistogramMetric(full))
	}
	r.ids[full] = id
	return id, false
}

// Counter defines (once) and returns the counter name{tags}.
func (r *Registry) Counter(name string, tags ...Tag) *Counter {
	id, existed := r.define(KindCounter, name, tags)
	if existed {
		for _, c := range r.counters {
			if c.id == id {
				return c
			}
		}
	}
	c := &Counter{id: id}
	r.counters = append(r.counters, c)
	return c
}

// Gauge defines (once) and returns the gauge name{tags}.
func (r *Registry) Gauge(name string, tags ...Tag) *Gauge {
	id, existed := r.define(KindGauge, name, tags)
	if existed {
		for _, g := range r.gauges {
			if g.id == id {
				return g
			}
		}
	}
	g := &Gauge{id: id}
	r.gauges = append(r.gauges, g)
	return g
}

// Histogram defines (once) and returns the histogram name{tags}.
func (r *Registry) Histogram(name string, tags ...Tag) Histogram {
	id, _ := r.define(KindHistogram, name, tags)
	return Histogram(id)
}

// Flush sends the counts and gauge changes gathered since the last flush to
// the proxy.
func (r *Registry) Flush() {
	for _, c := range r.counters {
		if c.pending > 0 {
			proxywasm.MetricCounter(c.id).Increment(c.pending)
			c.pending = 0
		}
	}
	for _, g := range r.gauges {
		if g.pending != 0 {
			proxywasm.MetricGauge(g.id).Add(g.pending)
			g.pending = 0
		}
	}
}

// Counter only goes up.
type Counter struct {
	id      uint32
	pending uint64
}

// Inc adds one.
func (c *Counter) Inc() { c.pending++ }

// Add adds n.
func (c *Counter) Add(n uint64) { c.pending += n }

// Gauge goes up and down.
type Gauge struct {
	id      uint32
	pending int64
}

// Add adds delta, which may be negative.
func (g *Gauge) Add(delta int64) { g.pending += delta }

// Histogram records observations; Envoy computes the buckets.
type Histogram uint32

// Record records one observation.
func (h Histogram) Record(v uint64) { proxywasm.MetricHistogram(h).Record(v) }
