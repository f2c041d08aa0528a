package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/metrics/metricstest"
)

// traffic is the README's scripted traffic: method and upstream status (""
// for a request that never got a response).
var traffic = [][2]string{
	{"GET", "200"}, {"GET", "200"}, {"GET", "200"}, {"GET", "404"},
	{"POST", "201"}, {"POST", "201"}, {"DELETE", "503"},
	{"PROPFIND", "207"}, {"HEAD", ""},
}

// TestReadme runs the README's traffic through the example, with its
// config.json, and checks that the README shows exactly the Prometheus
// series of the counters that are not zero, and the generated Envoy and
// Istio configuration.
func TestReadme(t *testing.T) {
	readme := wasmtest.ReadFile(t, "README.md")
	config := wasmtest.ReadFile(t, "config.json")
	keys := metrics.Keys()
	tags, err := metrics.StatsTags(keys...)
	if err != nil {
		t.Fatal(err)
	}

	native := func() types.VMContext {
		p := plugin()
		t0, n := time.Unix(1_700_000_000, 0), 0
		p.Clock = func() time.Time { n++; return t0.Add(time.Duration(n) * 40 * time.Microsecond) }
		return p
	}
	wasmtest.Both(t, "metrics", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		// The README says the plugin defines 60 + 6 + 1 + 6 metrics.
		if n := metricstest.NextMetricID(); n != 73 {
			t.Errorf("the plugin defined %d metric names, the README says 73", n)
		}
		for _, req := range traffic {
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, [][2]string{{":method", req[0]}, {":path", "/"}, {":authority", "httpbin"}}, true)
			if req[1] != "" {
				host.CallOnResponseHeaders(id, [][2]string{{":status", req[1]}}, true)
			}
			host.CompleteHttpContext(id)
		}
		host.Tick()

		var b strings.Builder
		family := func(name string, values func(emit func(fullName string))) {
			b.WriteString("# TYPE " + name + " counter\n")
			values(func(fullName string) {
				v := metricstest.Counter(t, host, fullName)
				if v == 0 {
					return
				}
				series, err := metricstest.Series(fullName, tags)
				if err != nil {
					t.Fatal(err)
				}
				b.WriteString(series + " " + strconv.FormatUint(v, 10) + "\n")
			})
		}
		family("policy_requests_total", func(emit func(string)) {
			for _, m := range metrics.Methods() {
				for _, c := range metrics.CodeClasses() {
					emit(metrics.Name("policy_requests_total", metrics.Tag{Key: "filter", Value: "metrics"},
						metrics.Tag{Key: "method", Value: m}, metrics.Tag{Key: "code_class", Value: c}))
				}
			}
		})
		want := b.String()
		if !strings.Contains(readme, "```text\n"+want+"```\n") {
			t.Errorf("README.md does not show the series; the block should read:\n%s", want)
		}
		if v, err := host.GetHistogramMetric("filter=.=metrics;.;policy_chain_time_microseconds"); err != nil || v == 0 {
			t.Errorf("chain time = %d, %v; want a recorded time", v, err)
		}
	})

	envoy, err := metrics.EnvoyStatsConfig(keys...)
	if err != nil {
		t.Fatal(err)
	}
	mesh, err := metrics.IstioMeshConfig("policy", keys...)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := metrics.IstioProxyConfig("policy", keys...)
	if err != nil {
		t.Fatal(err)
	}
	annotation := "    proxy.istio.io/config: |\n" + indent(proxy, "      ")
	for what, text := range map[string]string{"Envoy stats_config": envoy, "Istio meshConfig": mesh, "Istio annotation": annotation} {
		if !strings.Contains(readme, text) {
			t.Errorf("README.md does not show the generated %s:\n%s", what, text)
		}
	}
}

func indent(s, by string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "")
}
