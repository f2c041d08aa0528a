package policytest

import (
	"strings"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/prometheus"
)

// Metric is a metric the plugin defined, as the host holds it.
type Metric struct {
	// FullName is the name the plugin defined, tags encoded as Istio
	// encodes them: filter=.=ratelimit;.;decision=.=denied;.;policy_filter_decisions_total.
	FullName string
	// Name is the name without the tags (policy_filter_decisions_total),
	// and Tags the tags, in the order of the full name.
	Name string
	Tags [][2]string
	// Type is "counter", "gauge" or "histogram".
	Type string
	// Value is a counter's or a gauge's value.
	Value uint64
	// Count and Sum sum up the values recorded into a histogram.
	Count, Sum uint64
}

// splitName reads a full name: the tags key=.=value;.; and the name after
// them.
func splitName(full string) (name string, tags [][2]string) {
	rest := full
	for {
		tag, after, ok := strings.Cut(rest, ";.;")
		if !ok {
			return rest, tags
		}
		key, value, ok := strings.Cut(tag, "=.=")
		if !ok {
			return rest, tags
		}
		tags = append(tags, [2]string{key, value})
		rest = after
	}
}

func toMetric(m host.Metric) Metric {
	name, tags := splitName(m.Name)
	return Metric{FullName: m.Name, Name: name, Tags: tags, Type: m.Type.String(), Value: m.Value, Count: m.Count, Sum: m.Sum}
}

// Metrics ticks every VM (see Tick), then returns every metric the plugin
// defined, sorted by full name.
func (p *Plugin) Metrics() []Metric {
	p.Tick()
	return p.untickedMetrics()
}

// Counter ticks every VM (plugins built on this module's dispatcher send
// their counts on a tick), then returns the value of the counter name with
// the tags given as key, value pairs, in any order:
//
//	p.Counter("policy_filter_decisions_total", "filter", "ratelimit", "decision", "denied")
//
// A full name with its tags encoded, and no pairs, works too. The test
// fails if the plugin defined no such counter, and lists those it did.
func (p *Plugin) Counter(name string, tags ...string) uint64 {
	p.tb.Helper()
	return p.find("counter", name, tags).Value
}

// Gauge is Counter for a gauge.
func (p *Plugin) Gauge(name string, tags ...string) int64 {
	p.tb.Helper()
	return int64(p.find("gauge", name, tags).Value)
}

// Histogram is Counter for a histogram: the number of values recorded
// into it, and their sum.
func (p *Plugin) Histogram(name string, tags ...string) (count, sum uint64) {
	p.tb.Helper()
	m := p.find("histogram", name, tags)
	return m.Count, m.Sum
}

// Unflushed is Counter without the tick: the counter's value as the host
// holds it now, for a test that checks when the plugin sends its counts.
func (p *Plugin) Unflushed(name string, tags ...string) uint64 {
	p.tb.Helper()
	if p.native != nil {
		return p.nativeMetric("counter", name, tags)
	}
	return p.lookup("counter", name, tags, p.untickedMetrics()).Value
}

func (p *Plugin) untickedMetrics() []Metric {
	if p.native != nil {
		p.tb.Helper()
		p.failNative("Metrics")
	}
	var out []Metric
	for _, m := range p.host.Metrics() {
		out = append(out, toMetric(m))
	}
	return out
}

func (p *Plugin) find(kind, name string, pairs []string) Metric {
	p.tb.Helper()
	if p.native != nil {
		p.Tick()
		v := p.nativeMetric(kind, name, pairs)
		if kind == "histogram" {
			return Metric{Count: 1, Sum: v}
		}
		return Metric{Value: v}
	}
	return p.lookup(kind, name, pairs, p.Metrics())
}

func (p *Plugin) lookup(kind, name string, pairs []string, all []Metric) Metric {
	p.tb.Helper()
	if len(pairs)%2 != 0 {
		p.tb.Fatalf("policytest: the tags of %s are not key, value pairs: %q", name, pairs)
	}
	want := map[string]string{}
	for i := 0; i < len(pairs); i += 2 {
		want[pairs[i]] = pairs[i+1]
	}
	for _, m := range all {
		if m.Type != kind {
			continue
		}
		if len(pairs) == 0 && m.FullName == name {
			return m
		}
		if m.Name != name || len(m.Tags) != len(want) {
			continue
		}
		match := true
		for _, t := range m.Tags {
			if v, ok := want[t[0]]; !ok || v != t[1] {
				match = false
			}
		}
		if match {
			return m
		}
	}
	var names []string
	for _, m := range all {
		if m.Type == kind && (m.Name == name || len(names) < 20) {
			names = append(names, m.FullName)
		}
	}
	p.tb.Fatalf("the plugin defined no %s %s with the tags %q; its %ss include:\n%s", kind, name, pairs, kind, strings.Join(names, "\n"))
	return Metric{}
}

// Prometheus ticks every VM, then returns the metrics in the Prometheus
// text format, as Envoy's admin endpoint /stats/prometheus shows them when
// its stats_tags are those metrics.StatsTags generates for the library's
// keys (metrics.Keys) and every other key the metrics carry: the tags
// become labels, and the names lose the "wasmcustom" namespace Envoy files
// them under.
func (p *Plugin) Prometheus() string {
	p.tb.Helper()
	if p.native != nil {
		p.failNative("Prometheus")
	}
	p.Tick()
	var b strings.Builder
	if err := prometheus.Write(&b, p.host.Metrics()); err != nil {
		p.tb.Fatal(err)
	}
	return b.String()
}
