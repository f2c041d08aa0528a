// Command hostprobe is the test plugin of the proxy-wasm host in
// internal/host. It is written directly on the SDK, without the dispatcher,
// so that it reaches every kind of host call and can trap: its behaviour is
// chosen by the request path.
//
//	/trap      panics in the request headers phase (nothing recovers: a trap)
//	/deny      answers 418 itself
//	/callout   calls cluster "backend" and copies the answer into the request
//	/enqueue   puts the request body on the shared queue "probe"
//	/pause     pauses the request and never resumes it
//	/close     closes the stream
//
// Every request gets, in the response, the properties the plugin read and
// a count of requests kept in shared data.
package main

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	_ "github.com/wasmpolicy/policy/internal/bridge"
)

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

type plugin struct {
	types.DefaultPluginContext
	queue           uint32
	requests, ticks proxywasm.MetricCounter
	inflight        proxywasm.MetricGauge
	bodySizes       proxywasm.MetricHistogram
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, _ := proxywasm.GetPluginConfiguration()
	if string(cfg) == "refuse" {
		proxywasm.LogCritical("hostprobe: configured to refuse")
		return types.OnPluginStartStatusFailed
	}
	proxywasm.LogInfof("hostprobe: configured with %q", cfg)
	p.requests = proxywasm.DefineCounterMetric("hostprobe_requests_total")
	p.ticks = proxywasm.DefineCounterMetric("hostprobe_ticks_total")
	p.inflight = proxywasm.DefineGaugeMetric("hostprobe_inflight")
	p.bodySizes = proxywasm.DefineHistogramMetric("hostprobe_body_bytes")
	p.queue, _ = proxywasm.RegisterSharedQueue("probe")
	if err := proxywasm.SetTickPeriodMilliSeconds(250); err != nil {
		return types.OnPluginStartStatusFailed
	}
	return types.OnPluginStartStatusOK
}

func (p *plugin) OnTick() { p.ticks.Increment(1) }

func (p *plugin) OnQueueReady(id uint32) {
	for {
		item, err := proxywasm.DequeueSharedQueue(id)
		if err != nil {
			return
		}
		proxywasm.LogInfof("hostprobe: dequeued %q", item)
		proxywasm.SetSharedData("hostprobe/dequeued", item, 0)
	}
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &stream{p: p} }

type stream struct {
	types.DefaultHttpContext
	p     *plugin
	path  string
	count int
}

func property(path ...string) string {
	v, err := proxywasm.GetProperty(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(v)
}

// countRequest increments the shared request count with CAS, retrying on
// a conflict with another VM.
func countRequest() int {
	for {
		v, cas, err := proxywasm.GetSharedData("hostprobe/count")
		n := 0
		if err == nil {
			n, _ = strconv.Atoi(string(v))
		}
		n++
		if proxywasm.SetSharedData("hostprobe/count", []byte(strconv.Itoa(n)), cas) == nil {
			return n
		}
	}
}

func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	s.p.requests.Increment(1)
	s.p.inflight.Add(1)
	s.count = countRequest()
	s.path, _ = proxywasm.GetHttpRequestHeader(":path")
	proxywasm.LogInfof("hostprobe: request %s", s.path)
	proxywasm.AddHttpRequestHeader("x-probe", "seen")
	proxywasm.AddHttpRequestHeader("x-probe", "twice")
	proxywasm.ReplaceHttpRequestHeader("x-replace", "replaced")
	proxywasm.RemoveHttpRequestHeader("x-remove")
	switch s.path {
	case "/trap":
		panic("hostprobe: trap requested")
	case "/deny":
		proxywasm.SendHttpResponse(418, [][2]string{{"x-probe-deny", "yes"}}, []byte("denied by hostprobe\n"), -1)
		return types.ActionPause
	case "/callout":
		_, err := proxywasm.DispatchHttpCall("backend", [][2]string{{":method", "POST"}, {":path", "/check"}, {":authority", "backend"}},
			[]byte("ping"), nil, 1000, func(headers, size, _ int) {
				if headers == 0 {
					proxywasm.SendHttpResponse(503, nil, []byte("callout failed\n"), -1)
					return
				}
				answer, _ := proxywasm.GetHttpCallResponseHeaders()
				body, _ := proxywasm.GetHttpCallResponseBody(0, size)
				status := ""
				for _, h := range answer {
					if h[0] == ":status" {
						status = h[1]
					}
				}
				proxywasm.AddHttpRequestHeader("x-callout", status+" "+string(body))
				proxywasm.ResumeHttpRequest()
			})
		if err != nil {
			proxywasm.SendHttpResponse(500, nil, []byte("dispatch: "+err.Error()+"\n"), -1)
		}
		return types.ActionPause
	case "/enqueue":
		// The body phase enqueues.
	case "/pause":
		return types.ActionPause
	case "/close":
		proxywasm.CloseDownstream()
		return types.ActionPause
	}
	return types.ActionContinue
}

func (s *stream) OnHttpRequestBody(size int, end bool) types.Action {
	if !end {
		return types.ActionPause
	}
	body, _ := proxywasm.GetHttpRequestBody(0, size)
	s.p.bodySizes.Record(uint64(size))
	if s.path == "/enqueue" {
		id, err := proxywasm.ResolveSharedQueue("", "probe")
		if err == nil {
			proxywasm.EnqueueSharedQueue(id, body)
		}
	}
	proxywasm.ReplaceHttpRequestBody([]byte(strings.ToUpper(string(body))))
	return types.ActionContinue
}

func (s *stream) OnHttpResponseHeaders(int, bool) types.Action {
	status, _ := proxywasm.GetHttpResponseHeader(":status")
	t := property("request", "time")
	if len(t) == 8 {
		t = strconv.FormatInt(int64(binary.LittleEndian.Uint64([]byte(t))), 10)
	}
	proxywasm.AddHttpResponseHeader("x-probe-status", status)
	proxywasm.AddHttpResponseHeader("x-probe-source", property("source", "address"))
	proxywasm.AddHttpResponseHeader("x-probe-route", property("route_name"))
	proxywasm.AddHttpResponseHeader("x-probe-plugin", property("plugin_name"))
	proxywasm.AddHttpResponseHeader("x-probe-time", t)
	proxywasm.AddHttpResponseHeader("x-probe-now", strconv.FormatInt(time.Now().UnixNano(), 10))
	proxywasm.AddHttpResponseHeader("x-probe-count", strconv.Itoa(s.count))
	proxywasm.RemoveHttpResponseHeader("x-upstream-secret")
	return types.ActionContinue
}

func (s *stream) OnHttpResponseBody(size int, end bool) types.Action {
	if !end {
		return types.ActionPause
	}
	proxywasm.AppendHttpResponseBody([]byte("|probe"))
	return types.ActionContinue
}

func (s *stream) OnHttpStreamDone() {
	s.p.inflight.Add(-1)
	proxywasm.LogDebugf("hostprobe: done %s", s.path)
}
