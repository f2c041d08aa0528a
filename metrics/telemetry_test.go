package metrics_test

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/testfilters"
	"github.com/wasmpolicy/policy/internal/tinygo"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/metrics"
)

// TestCountersAfterTraffic sends scripted traffic through chains of the
// metrics filter and two step filters, then reads back every counter the
// plugin defined: the metrics filter's and the dispatcher's per-filter
// decisions. A counter missing from want must be zero.
func TestCountersAfterTraffic(t *testing.T) {
	cases := []struct {
		name   string
		config string
		ids    []string
		script []request
		want   map[string]uint64
		// runs is how many chain phases the last request went through:
		// its chain time is that many clock steps.
		runs int
	}{
		{
			name:   "requests by method and code class",
			config: chain("", metricsFilter, step("a", `{}`), step("b", `{}`)),
			ids:    []string{"a", "b"},
			script: []request{
				{method: "GET", status: "200"}, {method: "POST", status: "201"}, {method: "DELETE", status: "404"},
				{method: "PATCH", status: "503"}, {method: "CONNECT", status: "101"}, {method: "OPTIONS", status: "301"},
				{method: "get", status: "200"},      // methods are case-sensitive: an extension method
				{method: "PROPFIND", status: "207"}, // not a standard method
				{method: "HEAD", status: ""},        // no response at all
				{method: "TRACE", status: "2000"},   // not a status code
				{method: "PUT", status: "204"},
			},
			want: map[string]uint64{
				requests("GET", "2xx"): 1, requests("POST", "2xx"): 1, requests("DELETE", "4xx"): 1,
				requests("PATCH", "5xx"): 1, requests("CONNECT", "1xx"): 1, requests("OPTIONS", "3xx"): 1,
				requests("other", "2xx"): 2, requests("HEAD", "none"): 1, requests("TRACE", "none"): 1,
				requests("PUT", "2xx"): 1, seen("a"): 11, decided("a", "allowed"): 11,
				seen("b"): 11, decided("b", "allowed"): 11,
				seen("metrics"): 11, decided("metrics", "allowed"): 11,
			},
			runs: 2,
		},
		{
			name:   "a denial is a local reply, counted once",
			config: chain("", metricsFilter, step("a", `{}`), step("b", `{"action":"deny","status":429}`)),
			ids:    []string{"a", "b"},
			script: []request{{method: "GET", status: "200"}, {method: "POST"}},
			want: map[string]uint64{
				requests("GET", "4xx"): 1, requests("POST", "4xx"): 1, localReplies("4xx"): 2,
				seen("a"): 2, decided("a", "allowed"): 2, seen("b"): 2, decided("b", "denied"): 2,
				seen("metrics"): 2, decided("metrics", "allowed"): 2,
			},
			runs: 2,
		},
		{
			name:   "shadow denials are counted and the request goes on",
			config: chain("", stepMode("a", "shadow", `{"action":"deny"}`), step("b", `{}`), metricsFilter),
			ids:    []string{"a", "b"},
			script: []request{{method: "GET", status: "200"}, {method: "GET", status: "502"}},
			want: map[string]uint64{
				requests("GET", "2xx"): 1, requests("GET", "5xx"): 1,
				seen("a"): 2, decided("a", "shadow_denied"): 2, seen("b"): 2, decided("b", "allowed"): 2,
				seen("metrics"): 2, decided("metrics", "allowed"): 2,
			},
			runs: 2,
		},
		{
			name:   "pauses on a callout, answered and failed",
			config: chain("", metricsFilter, step("a", `{"action":"pause","resume":"continue"}`), step("b", `{}`)),
			ids:    []string{"a", "b"},
			script: []request{
				{method: "POST", callout: "fail"}, // the step denies with 503
				{method: "GET", status: "200", callout: "ok"},
			},
			want: map[string]uint64{
				requests("POST", "5xx"): 1, localReplies("5xx"): 1, requests("GET", "2xx"): 1,
				seen("a"): 2, decided("a", "paused"): 2, decided("a", "denied"): 1, decided("a", "allowed"): 1,
				decided("a", "error"): 1, // the failed callout
				seen("b"):             1, decided("b", "allowed"): 1, seen("metrics"): 2, decided("metrics", "allowed"): 2,
			},
			runs: 3, // request headers up to the pause, the rest after it, response headers
		},
		{
			name:   "a panic is an error, answered with 500",
			config: chain("", metricsFilter, step("a", `{"action":"panic"}`), step("b", `{}`)),
			ids:    []string{"a", "b"},
			script: []request{{method: "DELETE", status: "200"}},
			want: map[string]uint64{
				requests("DELETE", "5xx"): 1, localReplies("5xx"): 1,
				seen("a"): 1, decided("a", "denied"): 1, decided("a", "error"): 1,
				seen("metrics"): 1, decided("metrics", "allowed"): 1,
			},
			runs: 2,
		},
		{
			name:   "a panic in shadow mode is an error that lets the request through",
			config: chain("", metricsFilter, stepMode("a", "shadow", `{"action":"panic"}`), step("b", `{}`)),
			ids:    []string{"a", "b"},
			script: []request{{method: "PUT", status: "200"}},
			want: map[string]uint64{
				requests("PUT", "2xx"): 1, seen("a"): 1, decided("a", "allowed"): 1, decided("a", "error"): 1,
				seen("b"): 1, decided("b", "allowed"): 1, seen("metrics"): 1, decided("metrics", "allowed"): 1,
			},
			runs: 2,
		},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tinygo.SkipIfCannot(t)
				host, reset := wasmtest.Start(t, r.VM, c.config)
				defer reset()
				all := expected(c.ids...)
				checkDefined(t, host, "policy", all)
				for _, rq := range c.script {
					send(t, r, host, rq)
				}
				if v := wasmtest.ReadCounter(t, host, requests("GET", "2xx")); v != 0 {
					t.Fatalf("a counter reached the proxy before the flush: %d", v)
				}
				host.Tick()
				for _, d := range all {
					if d.kind != metrics.KindCounter {
						continue
					}
					name := d.full("policy")
					if got, want := wasmtest.ReadCounter(t, host, name), c.want[name]; got != want {
						t.Errorf("%s = %d, want %d", name, got, want)
					}
				}
				checkChainTime(t, r, host, c.runs)
			})
		}
	})
}

// checkChainTime checks the chain time recorded for the last request (the
// emulator keeps a histogram's last observation): runs clock steps of the
// native plugin's clock, or whole milliseconds of wazero's, at least one
// per phase.
func checkChainTime(t *testing.T, r wasmtest.Runner, host proxytest.HostEmulator, runs int) {
	t.Helper()
	got, err := host.GetHistogramMetric(chainTime)
	if err != nil {
		t.Fatal(err)
	}
	if r.Wasm == nil {
		if want := uint64(runs) * uint64(clockStep.Microseconds()); got != want {
			t.Errorf("chain time = %dµs, want %dµs (%d phases)", got, want, runs)
		}
	} else if got < uint64(runs)*1000 || got%1000 != 0 {
		t.Errorf("chain time = %dµs, want whole milliseconds, at least %d", got, runs)
	}
}

func TestConfiguration(t *testing.T) {
	errors := []struct{ config, want string }{
		{chain("", `{"name":"metrics","config":{"chain_time":"yes"}}`),
			"filters[0] (metrics): config.chain_time: must be true or false, not a string"},
		{chain("", step("a", `{}`), `{"name":"metrics","config":{"histogram":true}}`),
			"filters[1] (metrics): config.histogram: unknown field (known fields: chain_time)"},
		{chain("", `{"name":"metrics","config":[]}`),
			"filters[0].config: must be an object, not an array"},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		t.Run("errors name the field", func(t *testing.T) {
			for _, c := range errors {
				started, critical := wasmtest.TryStart(r.VM, c.config)
				logs := strings.Join(critical, "\n")
				if started {
					t.Errorf("%s: the plugin started", c.config)
					continue
				}
				if !strings.Contains(logs, c.want) {
					t.Errorf("%s:\ncritical log %q\nwant it to contain %q", c.config, logs, c.want)
				}
			}
		})
		t.Run("chain_time false defines no histogram", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, chain("", `{"name":"metrics","config":{"chain_time":false}}`))
			defer reset()
			var without []defined
			for _, d := range expected() {
				if d.kind != metrics.KindHistogram {
					without = append(without, d)
				}
			}
			checkDefined(t, host, "policy", without)
			if _, err := host.GetHistogramMetric(chainTime); err == nil {
				t.Error("the chain time histogram is defined although chain_time is false")
			}
			send(t, r, host, request{method: "GET", status: "200"})
			host.Tick()
			if v := wasmtest.ReadCounter(t, host, requests("GET", "2xx")); v != 1 {
				t.Errorf("requests = %d, want 1", v)
			}
		})
		t.Run("metrics_prefix renames every metric", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, chain(`,"metrics_prefix":"edge"`, metricsFilter, step("a", `{}`)))
			defer reset()
			checkDefined(t, host, "edge", expected("a"))
			send(t, r, host, request{method: "GET", status: "200"})
			host.Tick()
			if v := wasmtest.ReadCounter(t, host, "filter=.=metrics;.;method=.=GET;.;code_class=.=2xx;.;edge_requests_total"); v != 1 {
				t.Errorf("edge_requests_total = %d, want 1", v)
			}
		})
	})
}

// TestGoComposition builds the chain in Go natively (metrics.Filter) and
// from JSON in the compiled plugin: both count the same.
func TestGoComposition(t *testing.T) {
	static := func() types.VMContext {
		return policy.Static(metrics.Filter(metrics.DefaultConfig()), policy.Spec{Kind: "step", ID: "a",
			Build: func(env *policy.Env) (policy.Filter, error) {
				return testfilters.Kind.Build(conf.New("", gjson.Parse(`{"action":"deny","status":401}`)), env)
			}})
	}
	wasmtest.Both(t, image, static, func(t *testing.T, r wasmtest.Runner) {
		config := `{"flush_interval":"2s"}`
		if r.Wasm != nil {
			config = chain(`,"flush_interval":"2s"`, metricsFilter, step("a", `{"action":"deny","status":401}`))
		}
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		checkDefined(t, host, "policy", expected("a"))
		send(t, r, host, request{method: "PATCH"})
		host.Tick()
		for name, want := range map[string]uint64{requests("PATCH", "4xx"): 1, localReplies("4xx"): 1, decided("a", "denied"): 1} {
			if got := wasmtest.ReadCounter(t, host, name); got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
		if got := host.GetTickPeriod(); got != 2000 {
			t.Errorf("tick period = %dms, want the flush_interval", got)
		}
	})
}
