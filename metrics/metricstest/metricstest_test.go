package metricstest

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/metrics"
)

func TestSeries(t *testing.T) {
	tags, err := metrics.StatsTags(metrics.Keys()...)
	if err != nil {
		t.Fatal(err)
	}
	for full, want := range map[string]string{
		"filter=.=a;.;decision=.=denied;.;policy_filter_decisions_total": `policy_filter_decisions_total{filter="a",decision="denied"}`,
		"decision=.=denied;.;filter=.=a;.;policy_filter_decisions_total": `policy_filter_decisions_total{filter="a",decision="denied"}`,
		"policy_up": "policy_up",
	} {
		if got, err := Series(full, tags); err != nil || got != want {
			t.Errorf("Series(%s) = %s, %v; want %s", full, got, err, want)
		}
	}
	// A tag no regex extracts stays in the name, which is then not a
	// Prometheus name.
	if got, err := Series("rule=.=r1;.;policy_hits_total", tags); err == nil {
		t.Errorf("an unextracted tag gave %s", got)
	}
	for _, bad := range []metrics.StatsTag{{TagName: "x", Regex: "x=("}, {TagName: "x", Regex: "x=.*"}} {
		if _, _, err := Extract("wasmcustom.x=.=1;.;n", []metrics.StatsTag{bad}); err == nil {
			t.Errorf("regex %s accepted", bad.Regex)
		}
	}
}

func TestNextMetricID(t *testing.T) {
	_, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(&types.DefaultVMContext{}))
	defer reset()
	first := NextMetricID()
	proxywasm.DefineCounterMetric("a")
	proxywasm.DefineCounterMetric("a") // defined again: no new name
	if next := NextMetricID(); next != first+2 {
		t.Errorf("after one new name the next ID is %d, want %d", next, first+2)
	}
	if next := NextMetricID(); next != first+3 {
		t.Errorf("with nothing defined in between the next ID is %d, want %d", next, first+3)
	}
}
