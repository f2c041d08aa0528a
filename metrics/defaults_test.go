package metrics_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/metrics"
)

// TestDefaultsGoAndJSON builds the filter in Go and from JSON and runs the
// same request through each: the zero Config is what JSON without
// "chain_time" (or without a config object) gets, the chain time
// histogram included; NoChainTime is "chain_time": false.
func TestDefaultsGoAndJSON(t *testing.T) {
	for _, c := range []struct {
		name      string
		cfg       metrics.Config
		jsons     []string // the filter's chain entry
		chainTime bool     // the histogram is defined
	}{
		{"zero Config", metrics.Config{}, []string{`{"name":"metrics"}`, `{"name":"metrics","config":{}}`, `{"name":"metrics","config":{"chain_time":true}}`}, true},
		{"NoChainTime", metrics.Config{NoChainTime: true}, []string{`{"name":"metrics","config":{"chain_time":false}}`}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			type run struct {
				name, config string
				vm           *policy.Plugin
			}
			runs := []run{{"go", "", policy.Static(metrics.Filter(c.cfg))}}
			for i, entry := range c.jsons {
				runs = append(runs, run{"json" + strconv.Itoa(i), chain("", entry), policy.Configured(metrics.Kind)})
			}
			seen := make([]string, len(runs))
			for i, run := range runs {
				t.Run(run.name, func(t *testing.T) {
					start, n := time.Unix(1_700_000_000, 0), 0
					run.vm.Clock = func() time.Time { n++; return start.Add(time.Duration(n) * clockStep) }
					host, reset := wasmtest.Start(t, run.vm, run.config)
					defer reset()
					send(t, wasmtest.Runner{}, host, request{method: "GET", status: "200"})
					host.Tick()
					got := wasmtest.ReadCounter(t, host, requests("GET", "2xx"))
					if got != 1 {
						t.Errorf("requests_total{GET,2xx} = %d, want 1", got)
					}
					seen[i] = "requests " + strconv.FormatUint(got, 10)
					v, err := host.GetHistogramMetric(chainTime)
					switch {
					case err != nil && c.chainTime:
						t.Errorf("the chain time histogram: %v", err)
					case err == nil && !c.chainTime:
						t.Errorf("the chain time histogram is defined (%dµs)", v)
					case err == nil:
						seen[i] += ", chain time " + strconv.FormatUint(v, 10) + "µs"
					}
				})
			}
			if t.Failed() {
				return
			}
			for i := 1; i < len(runs); i++ {
				if seen[i] != seen[0] {
					t.Errorf("built in Go, the filter gave %q; configured with %s, %q", seen[0], c.jsons[i-1], seen[i])
				}
			}
		})
	}
}
