package metrics_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/wasmpolicy/policy/conf"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testfilters"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/metrics/metricstest"
)

// TestRequestValuesDefineNoMetric sends a thousand requests whose paths,
// header values, methods and status codes are all different and shows that
// the plugin defines no metric after it starts.
//
// The number of metric names is counted the same way for both runs, through
// the emulator: every expected name can be read back, and a probe name
// defined by the test gets the next free ID, which the emulator hands out in
// order (metricstest.NextMetricID). A probe before the traffic gets ID n,
// the number of names the plugin defined; a probe after it gets n+1 only if
// nothing was defined in between. The native run also checks the plugin's
// own registry (Registry.Defined).
func TestRequestValuesDefineNoMetric(t *testing.T) {
	var registry *metrics.Registry
	capture := policy.Kind{Name: metrics.Kind.Name, Build: func(config *conf.Object, env *policy.Env) (policy.Filter, error) {
		registry = env.Metrics()
		return metrics.Kind.Build(config, env)
	}}
	nativeCapture := func() types.VMContext { return policy.Configured(capture, testfilters.Kind) }

	wasmtest.Both(t, image, nativeCapture, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, chain("", metricsFilter, step("a", `{}`), stepMode("b", "shadow", `{"action":"deny"}`)))
		defer reset()
		all := expected("a", "b")
		before := checkDefined(t, host, "policy", all)
		if r.Wasm == nil && registry.Defined() != len(all) {
			t.Fatalf("Registry.Defined = %d, want %d", registry.Defined(), len(all))
		}

		const n = 1000
		standard := metrics.Methods()
		otherNone := uint64(0) // requests with an extension method and no status class
		for i := 0; i < n; i++ {
			method := standard[i%(len(standard)-1)]
			if i%4 == 0 {
				method = "EXT" + strconv.Itoa(i) // a new extension method every time
			}
			status := strconv.Itoa(100 + i%500) // every code from 100 to 599
			if i%9 == 0 {
				status = strconv.Itoa(600 + i) // not a status code
				if i%4 == 0 {
					otherNone++
				}
			}
			send(t, r, host, request{
				method: method,
				status: status,
				path:   fmt.Sprintf("/items/%d?session=%x", i, i*7919),
				headers: [][2]string{
					{"x-user", fmt.Sprintf("user-%d", i)},
					{"user-agent", fmt.Sprintf("client/%d.%d", i/100, i%100)},
					{fmt.Sprintf("x-custom-%d", i), "v"},
				},
			})
		}
		host.Tick()

		if after := metricstest.NextMetricID(); after != before+1 {
			t.Errorf("after %d distinct requests the next metric ID is %d, want %d: %d new names were defined", n, after, before+1, after-before-1)
		}
		if r.Wasm == nil && registry.Defined() != len(all) {
			t.Errorf("Registry.Defined = %d after the traffic, want %d", registry.Defined(), len(all))
		}
		var total uint64
		for _, m := range metrics.Methods() {
			for _, c := range metrics.CodeClasses() {
				total += wasmtest.ReadCounter(t, host, requests(m, c))
			}
		}
		if got := wasmtest.ReadCounter(t, host, requests("other", "none")); total != n || got != otherNone {
			t.Errorf("requests counted = %d (other/none %d), want %d (%d)", total, got, n, otherNone)
		}
		if v := wasmtest.ReadCounter(t, host, decided("b", "shadow_denied")); v != n {
			t.Errorf("b shadow-denied %d, want %d", v, n)
		}
	})
}
