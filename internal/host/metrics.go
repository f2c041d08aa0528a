package host

import (
	"sort"
	"sync"
)

// MetricType is the type of a metric defined with proxy_define_metric.
type MetricType uint32

// The proxy-wasm metric types.
const (
	Counter MetricType = iota
	Gauge
	Histogram
)

func (t MetricType) String() string {
	switch t {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Histogram:
		return "histogram"
	}
	return "unknown"
}

// Metric is a metric's value as the plugin last left it. Names are as the
// plugin defined them, tags included (Istio's "key=.=value;.;name").
type Metric struct {
	Name string
	Type MetricType
	// Value is a counter's or a gauge's value.
	Value uint64
	// Count and Sum summarize the values recorded into a histogram, and
	// Buckets[i] counts the values at most HistogramBuckets[i], as Envoy's
	// cumulative buckets do.
	Count, Sum uint64
	Buckets    []uint64
}

// HistogramBuckets are the upper bounds of the buckets Envoy keeps for a
// histogram by default (stats_config.histogram_bucket_settings unset).
var HistogramBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
	30000, 60000, 300000, 600000, 1800000, 3600000}

// metrics is a Host's metric registry, shared by its VMs: the same name
// defined by several VMs is one metric, as in Envoy's stats store.
type metrics struct {
	mu     sync.Mutex
	byName map[string]uint32
	list   []*Metric // id-1 indexes list
}

func (m *metrics) define(t MetricType, name string) (uint32, status) {
	if t > Histogram || name == "" {
		return 0, statusBadArgument
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.byName[name]; ok {
		if m.list[id-1].Type != t {
			return 0, statusBadArgument
		}
		return id, statusOK
	}
	if m.byName == nil {
		m.byName = map[string]uint32{}
	}
	m.list = append(m.list, &Metric{Name: name, Type: t})
	id := uint32(len(m.list))
	m.byName[name] = id
	return id, statusOK
}

func (m *metrics) lookup(id uint32) *Metric {
	if id == 0 || int(id) > len(m.list) {
		return nil
	}
	return m.list[id-1]
}

// increment adds offset, as Envoy does: counters only grow, gauges move
// either way, histograms take no increments.
func (m *metrics) increment(id uint32, offset int64) status {
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.lookup(id)
	switch {
	case x == nil:
		return statusNotFound
	case x.Type == Counter && offset > 0, x.Type == Gauge:
		x.Value += uint64(offset)
		return statusOK
	}
	return statusBadArgument
}

// record adds value to a counter, sets a gauge, or records a histogram
// sample, as Envoy does.
func (m *metrics) record(id uint32, value uint64) status {
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.lookup(id)
	switch {
	case x == nil:
		return statusNotFound
	case x.Type == Counter:
		x.Value += value
	case x.Type == Gauge:
		x.Value = value
	default:
		x.Count++
		x.Sum += value
		if x.Buckets == nil {
			x.Buckets = make([]uint64, len(HistogramBuckets))
		}
		for i, bound := range HistogramBuckets {
			if float64(value) <= bound {
				x.Buckets[i]++
			}
		}
	}
	return statusOK
}

func (m *metrics) get(id uint32) (uint64, status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.lookup(id)
	switch {
	case x == nil:
		return 0, statusNotFound
	case x.Type == Histogram:
		return 0, statusBadArgument
	}
	return x.Value, statusOK
}

func (m *metrics) byNameCopy(name string) (Metric, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.byName[name]
	if !ok {
		return Metric{}, false
	}
	return m.list[id-1].copy(), true
}

func (x *Metric) copy() Metric {
	c := *x
	c.Buckets = append([]uint64(nil), x.Buckets...)
	return c
}

func (m *metrics) all() []Metric {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Metric, len(m.list))
	for i, x := range m.list {
		out[i] = x.copy()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
