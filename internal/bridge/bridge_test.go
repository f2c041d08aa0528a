package bridge_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/testdata/probe/probe"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestBridge proves the upstream-Go bridge complete: the probe plugin makes
// every host call the SDK has and implements every callback, and each
// subtest, named after the import or export it proves, checks one of them
// through the host emulator. The "wasm" half runs build/probe.wasm, where
// every call crosses the bridge, so breaking any one import or export fails
// the subtest of that name; the "go" half runs the same checks natively.
func TestBridge(t *testing.T) {
	wasmtest.Both(t, "probe", probe.New, func(t *testing.T, r wasmtest.Runner) {
		runCases(t, r, hostCallCases())
		runCases(t, r, headerMapCases())
		runCases(t, r, bodyCases())
		runCases(t, r, callbackCases())
		runCases(t, r, connectionCases())
	})
}

func hostCallCases() []caseFunc {
	return []caseFunc{
		{"proxy_log", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("logs")
			levels := []struct {
				name string
				logs func() []string
			}{
				{"trace", e.host.GetTraceLogs}, {"debug", e.host.GetDebugLogs},
				{"info", e.host.GetInfoLogs}, {"warn", e.host.GetWarnLogs},
				{"error", e.host.GetErrorLogs}, {"critical", e.host.GetCriticalLogs},
			}
			for _, l := range levels {
				if !contains(l.logs(), "probe level "+l.name) {
					t.Errorf("%s logs %q lack %q", l.name, l.logs(), "probe level "+l.name)
				}
			}
		}},
		{"proxy_get_property", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("property")
			e.expect("property", "value=prop-value err=ok missing=not_found")
		}},
		{"proxy_set_property", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("property")
			e.expect("property", "set=ok readback=written readback_err=ok")
			if v, err := e.host.GetProperty([]string{"probe", "out"}); err != nil || string(v) != "written" {
				t.Errorf("host property probe.out = %q, %v; want written", v, err)
			}
		}},
		{"proxy_send_local_response", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			id, action := e.request("local_response")
			e.expect("local_response", "err=ok")
			if action != types.ActionPause {
				t.Errorf("action = %v, want Pause", action)
			}
			lr := e.host.GetSentLocalResponse(id)
			if lr == nil {
				t.Fatal("no local response")
			}
			if lr.StatusCode != 418 || string(lr.Data) != "teapot" || lr.GRPCStatus != -1 || !hasPair(lr.Headers, "x-local", "yes") {
				t.Errorf("local response = %d %q grpc %d headers %q; want 418 teapot grpc -1 with x-local: yes",
					lr.StatusCode, lr.Data, lr.GRPCStatus, lr.Headers)
			}
		}},
		{"proxy_get_shared_data", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("shared_data")
			// Value and CAS come back: a new key has CAS 1, an update 2.
			e.expect("shared_data", "missing=not_found get=v1/1/ok final=v2/2/ok")
		}},
		{"proxy_set_shared_data", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("shared_data")
			// Create, update with the current CAS, then a stale CAS that
			// the host must refuse without changing the value.
			e.expect("shared_data", "set=ok update=ok stale=cas_mismatch final=v2/2/ok")
		}},
		{"proxy_register_shared_queue", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.expect("plugin_setup", "queues=0,1 queue_errs=ok,ok")
		}},
		{"proxy_resolve_shared_queue", func(t *testing.T, r wasmtest.Runner) {
			// The emulator only acknowledges this call (status OK, id 0),
			// in its log.
			e := start(t, r, pluginConfig)
			e.request("queue_resolve")
			e.expect("queue_resolve", "err=ok")
			e.stdlogHas("ProxyResolveSharedQueue not implemented", 1)
		}},
		{"proxy_enqueue_shared_queue", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("queue_enqueue")
			e.expect("queue_enqueue", "queue=1 err=ok")
			if n := e.host.GetQueueSize(1); n != 1 {
				t.Errorf("queue 1 holds %d items, want 1", n)
			}
		}},
		{"proxy_dequeue_shared_queue", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("queue_dequeue")
			e.expect("queue_dequeue", "enqueue=ok,ok first=m1 err=ok empty=empty")
			if n := e.host.GetQueueSize(1); n != 1 {
				t.Errorf("queue 1 holds %d items, want 1 (m2)", n)
			}
		}},
		{"proxy_continue_stream", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			id := e.answeredCallout()
			e.expect("http_call_response", "resume=ok")
			if a := e.host.GetCurrentHttpStreamAction(id); a != types.ActionContinue {
				t.Errorf("stream action after resume = %v, want Continue", a)
			}
		}},
		{"proxy_close_stream", func(t *testing.T, r wasmtest.Runner) {
			// The emulator only acknowledges this call, in its log.
			e := start(t, r, pluginConfig)
			e.request("close")
			e.expect("close", "downstream=ok upstream=ok")
			e.stdlogHas("ProxyCloseStream not implemented", 2)
		}},
		{"proxy_get_buffer_bytes/vm_configuration", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.expect("vm_start", "config="+vmConfig+" err=ok")
		}},
		{"proxy_get_buffer_bytes/plugin_configuration", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.expect("plugin_start", "config="+pluginConfig+" err=ok")
		}},
		{"proxy_get_buffer_bytes/http_call_response", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.answeredCallout()
			e.expect("http_call_response", "body=resp-body part=sp- errs=ok,ok,ok,ok")
		}},
		{"proxy_http_call", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			id, action := e.request("http_call")
			if action != types.ActionPause {
				t.Errorf("action = %v, want Pause", action)
			}
			e.expect("http_call", "ids=0,1 errs=ok,ok")
			calls := e.host.GetCalloutAttributesFromContext(id)
			if len(calls) != 2 {
				t.Fatalf("%d callouts, want 2", len(calls))
			}
			if calls[0].Upstream != probe.CalloutDecoyCluster || calls[1].Upstream != probe.CalloutCluster {
				t.Errorf("callouts went to %q and %q", calls[0].Upstream, calls[1].Upstream)
			}
			c := calls[1]
			if !hasPair(c.Headers, ":path", "/check") || !hasPair(c.Headers, "x-call", "c1") ||
				string(c.Body) != "call-body" || !hasPair(c.Trailers, "x-call-trailer", "t1") {
				t.Errorf("callout = headers %q body %q trailers %q", c.Headers, c.Body, c.Trailers)
			}
			e.stdlogHas("[http callout to probe_cluster] timeout: 1234", 1)
		}},
		{"proxy_get_header_map_pairs/http_call_response", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.answeredCallout()
			e.expect("http_call_response", "headers=x-resp=r1 trailer_pairs=x-resp-trailer=rt")
		}},
		{"proxy_call_foreign_function", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.host.RegisterForeignFunction(probe.ForeignFunction, func(p []byte) []byte {
				return append([]byte("echo:"), p...)
			})
			e.request("foreign")
			e.expect("foreign", "ret=echo:ping err=ok")
		}},
		{"proxy_set_tick_period_milliseconds", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.expect("plugin_setup", "tick=ok")
			if p := e.host.GetTickPeriod(); p != probe.TickPeriodMillis {
				t.Errorf("tick period = %d, want %d", p, probe.TickPeriodMillis)
			}
		}},
		{"proxy_set_effective_context", func(t *testing.T, r wasmtest.Runner) {
			// On a tick the host's current context is the plugin's; the
			// probe switches to the request's before touching its headers
			// (without the switch the emulator has no stream to serve).
			e := start(t, r, pluginConfig)
			id, _ := e.request("tick")
			e.host.Tick()
			e.expectf("tick_effective", "target=%d err=ok op=tick get=ok add=ok", id)
			if hs := e.host.GetCurrentRequestHeaders(id); !hasPair(hs, "x-tick", "ticked") {
				t.Errorf("request headers %q lack x-tick: ticked", hs)
			}
		}},
		{"proxy_done", func(t *testing.T, r wasmtest.Runner) {
			// The emulator only acknowledges this call, in its log.
			e := start(t, r, pluginConfig)
			e.host.FinishVM()
			e.expect("plugin_done", "id=1")
			e.stdlogHas("ProxyDone not implemented", 1)
		}},
		{"proxy_define_metric", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.expect("plugin_setup", "metrics=0,1,2")
			e.request("metrics")
			// Each getter fails unless the metric exists with its type.
			if _, err := e.host.GetCounterMetric(probe.Counter); err != nil {
				t.Error(err)
			}
			if _, err := e.host.GetGaugeMetric(probe.Gauge); err != nil {
				t.Error(err)
			}
			if _, err := e.host.GetHistogramMetric(probe.Histogram); err != nil {
				t.Error(err)
			}
		}},
		{"proxy_increment_metric", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("metrics")
			if v, err := e.host.GetCounterMetric(probe.Counter); err != nil || v != 5 {
				t.Errorf("counter = %d, %v; want 5", v, err)
			}
			// 7 then -2: the offset is signed and 64 bits wide.
			if v, err := e.host.GetGaugeMetric(probe.Gauge); err != nil || v != 5 {
				t.Errorf("gauge = %d, %v; want 5", v, err)
			}
		}},
		{"proxy_record_metric", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("metrics")
			if v, err := e.host.GetHistogramMetric(probe.Histogram); err != nil || v != 42 {
				t.Errorf("histogram = %d, %v; want 42", v, err)
			}
		}},
		{"proxy_get_metric", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("metrics")
			e.expect("metrics", "counter=5 gauge=5 histogram=42")
		}},
	}
}

// answeredCallout runs op http_call and answers its second callout; it
// returns the stream's id.
func (e *probeEnv) answeredCallout() uint32 {
	e.t.Helper()
	id, _ := e.request("http_call")
	e.host.CallOnHttpCallResponse(1,
		[][2]string{{"x-resp", "r1"}}, [][2]string{{"x-resp-trailer", "rt"}}, []byte("resp-body"))
	if n := e.count("probe: http_call_decoy: answered"); n != 0 {
		e.t.Errorf("the unanswered callout's callback ran %d times", n)
	}
	return id
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
