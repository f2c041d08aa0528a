package stats

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

func TestName(t *testing.T) {
	cases := []struct {
		name string
		tags []Tag
		want string
	}{
		{"policy_requests_total", nil, "policy_requests_total"},
		{"policy_filter_decisions_total", []Tag{{"filter", "ratelimit"}, {"decision", "denied"}},
			"filter=.=ratelimit;.;decision=.=denied;.;policy_filter_decisions_total"},
		{"x", []Tag{{"filter", "team-a/limit_1"}}, "filter=.=team-a/limit_1;.;x"},
		// Delimiters inside keys, values and names are replaced, so no tag
		// can be read as two or run into the next.
		{"a.b", []Tag{{"k=.=", "v;.;w=.=x"}}, "k___=.=v___w___x;.;a_b"},
		{"", []Tag{{"", ""}}, "_=.=;.;_"},
		{"p_ü", nil, "p___"}, // a two-byte letter: one '_' per byte
	}
	for _, c := range cases {
		if got := Name(c.name, c.tags...); got != c.want {
			t.Errorf("Name(%q, %v) = %q, want %q", c.name, c.tags, got, c.want)
		}
	}
}

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{"ratelimit": true, "team-a/x_1": true, "": false, "a.b": false, "a=b": false, "a;b": false, "a b": false} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{"policy": true, "_x9": true, "code_class": true, "9x": false, "a-b": false, "a/b": false, "": false} {
		if got := ValidName(s); got != want {
			t.Errorf("ValidName(%q) = %v", s, got)
		}
	}
}

func newHost(t *testing.T) proxytest.HostEmulator {
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(&types.DefaultVMContext{}))
	t.Cleanup(reset)
	return host
}

func TestRegistryDefinesOnceAndBatches(t *testing.T) {
	host := newHost(t)
	r := NewRegistry("policy")
	tag := Tag{"filter", "a"}
	c := r.Counter("hits_total", tag)
	if again := r.Counter("hits_total", tag); again != c {
		t.Fatal("a second definition returned a new handle")
	}
	other := r.Counter("hits_total", Tag{"filter", "b"})
	g := r.Gauge("inflight", tag)
	h := r.Histogram("time_us", tag)
	if r.Defined() != 4 {
		t.Fatalf("Defined = %d, want 4", r.Defined())
	}

	c.Inc()
	c.Add(4)
	other.Inc()
	g.Add(3)
	g.Add(-1)
	h.Record(250)
	if v, _ := host.GetCounterMetric("filter=.=a;.;policy_hits_total"); v != 0 {
		t.Fatalf("counter reached the host before a flush: %d", v)
	}
	if v, _ := host.GetHistogramMetric("filter=.=a;.;policy_time_us"); v != 250 {
		t.Fatalf("histogram = %d, want 250 recorded at once", v)
	}
	r.Flush()
	r.Flush() // nothing pending: adds nothing
	for name, want := range map[string]uint64{"filter=.=a;.;policy_hits_total": 5, "filter=.=b;.;policy_hits_total": 1} {
		if v, err := host.GetCounterMetric(name); err != nil || v != want {
			t.Errorf("%s = %d, %v; want %d", name, v, err, want)
		}
	}
	if v, err := host.GetGaugeMetric("filter=.=a;.;policy_inflight"); err != nil || v != 2 {
		t.Errorf("gauge = %d, %v; want 2", v, err)
	}
	c.Inc()
	r.Flush()
	if v, _ := host.GetCounterMetric("filter=.=a;.;policy_hits_total"); v != 6 {
		t.Errorf("after a second flush: %d, want 6", v)
	}
}

func TestRegistryDescribesMetrics(t *testing.T) {
	newHost(t)
	r := NewRegistry("my-prefix")
	if r.Prefix() != "my_prefix" {
		t.Errorf("Prefix = %q, want the prefix made a valid name", r.Prefix())
	}
	r.Counter("a_total", Tag{"filter", "f"}, Tag{"decision", "denied"})
	r.Histogram("b_us", Tag{"filter", "f"}, Tag{"method", "GET"})
	r.Counter("a_total", Tag{"filter", "f"}, Tag{"decision", "denied"})
	got := r.Metrics()
	if len(got) != 2 || got[0].Kind != KindCounter || got[1].Kind != KindHistogram ||
		got[1].FullName != "filter=.=f;.;method=.=GET;.;my_prefix_b_us" || got[1].Name != "b_us" || len(got[1].Tags) != 2 {
		t.Fatalf("Metrics = %+v", got)
	}
	keys := r.TagKeys()
	if len(keys) != 3 || keys[0] != "filter" || keys[1] != "decision" || keys[2] != "method" {
		t.Errorf("TagKeys = %v", keys)
	}
}

func TestRegistryKindConflict(t *testing.T) {
	host := newHost(t)
	r := NewRegistry("")
	c := r.Counter("x")
	g := r.Gauge("x")
	h := r.Histogram("x")
	c.Inc()
	g.Add(7)
	h.Record(9)
	r.Flush()
	if v, err := host.GetCounterMetric("x"); err != nil || v != 1 {
		t.Errorf("counter x = %d, %v; want 1, untouched by the conflicting gauge", v, err)
	}
	if r.Defined() != 1 {
		t.Errorf("Defined = %d, want 1", r.Defined())
	}
	if logs := host.GetErrorLogs(); len(logs) != 2 {
		t.Errorf("error logs = %q, want one per conflicting definition", logs)
	}
	var zero Histogram
	zero.Record(5) // records nothing, and must not call the host with id 0
	if v, _ := host.GetCounterMetric("x"); v != 1 {
		t.Errorf("the zero histogram wrote to metric 0: %d", v)
	}
}
