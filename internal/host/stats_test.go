package host

import (
	"strings"
	"testing"
)

var libraryTags = []StatsTag{
	{"filter", `[.;](filter=\.=([^;]*);\.;)`},
	{"decision", `[.;](decision=\.=([^;]*);\.;)`},
}

// Envoy's /stats/prometheus: counters, then gauges, then histograms; the
// families sorted by name and their series by stat name; the labels in the
// order of the stats_tags, whatever the order of the tags in the name; a
// tag no stats_tags entry takes left in the name, its delimiters made '_';
// a name starting with a digit left out.
func TestWritePrometheus(t *testing.T) {
	var m metrics
	define := func(typ MetricType, name string) uint32 {
		id, st := m.define(typ, name)
		if st != statusOK {
			t.Fatalf("define %s: %v", name, st)
		}
		return id
	}
	b := define(Counter, "filter=.=b;.;decision=.=denied;.;policy_filter_decisions_total")
	a := define(Counter, "decision=.=denied;.;filter=.=a;.;policy_filter_decisions_total")
	define(Counter, "filter=.=a;.;decision=.=allowed;.;policy_filter_decisions_total")
	g := define(Gauge, "plain_gauge")
	h := define(Histogram, "filter=.=a;.;policy_time_us")
	define(Counter, "rule=.=r1;.;policy_rule_hits") // a tag no stats_tags entry takes
	define(Counter, "9lives")                       // Envoy leaves it out
	m.increment(a, 3)
	m.increment(b, 1)
	m.record(g, 7)
	for _, v := range []uint64{1, 7, 4000000} {
		m.record(h, v)
	}

	var out strings.Builder
	if err := WritePrometheus(&out, m.all(), libraryTags); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString(`# TYPE policy_filter_decisions_total counter
policy_filter_decisions_total{filter="a",decision="denied"} 3
policy_filter_decisions_total{filter="a",decision="allowed"} 0
policy_filter_decisions_total{filter="b",decision="denied"} 1

# TYPE rule___r1___policy_rule_hits counter
rule___r1___policy_rule_hits{} 0

# TYPE plain_gauge gauge
plain_gauge{} 7

# TYPE policy_time_us histogram
`)
	for _, c := range []struct{ le, n string }{
		{"0.5", "0"}, {"1", "1"}, {"5", "1"}, {"10", "2"}, {"25", "2"}, {"50", "2"}, {"100", "2"}, {"250", "2"},
		{"500", "2"}, {"1000", "2"}, {"2500", "2"}, {"5000", "2"}, {"10000", "2"}, {"30000", "2"}, {"60000", "2"},
		{"300000", "2"}, {"600000", "2"}, {"1800000", "2"}, {"3600000", "2"}, {"+Inf", "3"},
	} {
		want.WriteString(`policy_time_us_bucket{filter="a",le="` + c.le + `"} ` + c.n + "\n")
	}
	want.WriteString("policy_time_us_sum{filter=\"a\"} 4000008\npolicy_time_us_count{filter=\"a\"} 3\n\n")
	if out.String() != want.String() {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want.String())
	}

	out.Reset()
	if err := WriteStats(&out, m.all()); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"wasmcustom.decision=.=denied;.;filter=.=a;.;policy_filter_decisions_total: 3\n",
		"wasmcustom.filter=.=a;.;policy_time_us: count=3 sum=4000008\n",
		"wasmcustom.plain_gauge: 7\n",
		"wasmcustom.9lives: 0\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("/stats lacks %q:\n%s", line, out.String())
		}
	}

	if err := WritePrometheus(&out, nil, []StatsTag{{"x", "x=("}}); err == nil {
		t.Error("a bad regex was accepted")
	}
	if err := WritePrometheus(&out, nil, []StatsTag{{"x", "x=.*"}}); err == nil {
		t.Error("a regex without a group was accepted")
	}
}

func TestTagKeys(t *testing.T) {
	got := TagKeys([]Metric{{Name: "filter=.=a;.;decision=.=d;.;n"}, {Name: "rule=.=r;.;filter=.=b;.;n"}, {Name: "plain"}})
	if strings.Join(got, ",") != "filter,decision,rule" {
		t.Errorf("TagKeys = %q", got)
	}
}
