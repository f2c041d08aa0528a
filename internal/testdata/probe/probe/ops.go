package probe

import (
	"strconv"
	"unsafe"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// Names the ops use.
const (
	ForeignFunction      = "probe_echo"    // called with "ping" by op foreign
	CalloutCluster       = "probe_cluster" // the second callout of op http_call
	CalloutDecoyCluster  = "probe_decoy"   // the first one, never answered
	CalloutTimeoutMillis = 1234
	SharedDataKey        = "probe-key"     // op shared_data
	PayloadKey           = "probe-payload" // ops repeat and retain
)

// PayloadProperty is the property ops repeat and retain read.
var PayloadProperty = []string{"probe", "payload"}

// ops run in the request headers phase, selected by the x-probe header.
var ops = map[string]func(*stream) types.Action{
	"logs":           logs,
	"property":       property,
	"local_response": localResponse,
	"shared_data":    sharedData,
	"queue_enqueue":  queueEnqueue,
	"queue_dequeue":  queueDequeue,
	"queue_resolve":  queueResolve,
	"metrics":        metrics,
	"http_call":      httpCall,
	"foreign":        foreign,
	"close":          closeStreams,
	"tick":           armTick,
	"repeat":         func(s *stream) types.Action { return repeat(s, false) },
	"retain":         func(s *stream) types.Action { return repeat(s, true) },
}

// logs logs "probe level <level>" at every level.
func logs(*stream) types.Action {
	proxywasm.LogTrace("probe level trace")
	proxywasm.LogDebug("probe level debug")
	proxywasm.LogInfo("probe level info")
	proxywasm.LogWarn("probe level warn")
	proxywasm.LogError("probe level error")
	proxywasm.LogCritical("probe level critical")
	return types.ActionContinue
}

// property reads probe.in and a missing path, writes probe.out and reads it
// back.
func property(*stream) types.Action {
	v, err := proxywasm.GetProperty([]string{"probe", "in"})
	_, missing := proxywasm.GetProperty([]string{"probe", "missing"})
	setErr := proxywasm.SetProperty([]string{"probe", "out"}, []byte("written"))
	back, backErr := proxywasm.GetProperty([]string{"probe", "out"})
	report("property", "value=%s err=%s missing=%s set=%s readback=%s readback_err=%s",
		v, errName(err), errName(missing), errName(setErr), back, errName(backErr))
	return types.ActionContinue
}

// localResponse answers 418 "teapot" with x-local: yes, not a gRPC status.
func localResponse(*stream) types.Action {
	err := proxywasm.SendHttpResponse(418, [][2]string{{"x-local", "yes"}}, []byte("teapot"), -1)
	report("local_response", "err=%s", errName(err))
	return types.ActionPause
}

// sharedData walks a key through create, read, CAS update and a stale CAS.
func sharedData(*stream) types.Action {
	_, _, missing := proxywasm.GetSharedData(SharedDataKey)
	setErr := proxywasm.SetSharedData(SharedDataKey, []byte("v1"), 0)
	v1, cas1, getErr := proxywasm.GetSharedData(SharedDataKey)
	updateErr := proxywasm.SetSharedData(SharedDataKey, []byte("v2"), cas1)
	staleErr := proxywasm.SetSharedData(SharedDataKey, []byte("v3"), cas1)
	v2, cas2, finalErr := proxywasm.GetSharedData(SharedDataKey)
	report("shared_data", "missing=%s set=%s get=%s/%d/%s update=%s stale=%s final=%s/%d/%s",
		errName(missing), errName(setErr), v1, cas1, errName(getErr),
		errName(updateErr), errName(staleErr), v2, cas2, errName(finalErr))
	return types.ActionContinue
}

// queueEnqueue puts m1 on the second queue.
func queueEnqueue(s *stream) types.Action {
	err := proxywasm.EnqueueSharedQueue(s.plugin.queueB, []byte("m1"))
	report("queue_enqueue", "queue=%d err=%s", s.plugin.queueB, errName(err))
	return types.ActionContinue
}

// queueDequeue puts m1 and m2 on the second queue, takes one item back, and
// tries the empty first queue.
func queueDequeue(s *stream) types.Action {
	e1 := proxywasm.EnqueueSharedQueue(s.plugin.queueB, []byte("m1"))
	e2 := proxywasm.EnqueueSharedQueue(s.plugin.queueB, []byte("m2"))
	first, err := proxywasm.DequeueSharedQueue(s.plugin.queueB)
	_, empty := proxywasm.DequeueSharedQueue(s.plugin.queueA)
	report("queue_dequeue", "enqueue=%s,%s first=%s err=%s empty=%s",
		errName(e1), errName(e2), first, errName(err), errName(empty))
	return types.ActionContinue
}

func queueResolve(*stream) types.Action {
	id, err := proxywasm.ResolveSharedQueue("probe-vm", QueueB)
	report("queue_resolve", "id=%d err=%s", id, errName(err))
	return types.ActionContinue
}

// metrics adds 5 to the counter, 7 and -2 to the gauge, records 42 in the
// histogram, and reads all three back.
func metrics(s *stream) types.Action {
	p := s.plugin
	p.counter.Increment(5)
	p.gauge.Add(7)
	p.gauge.Add(-2)
	p.histogram.Record(42)
	report("metrics", "counter=%d gauge=%d histogram=%d", p.counter.Value(), p.gauge.Value(), p.histogram.Value())
	return types.ActionContinue
}

// httpCall dispatches two callouts and pauses; only the answer to the second
// resumes the request. Two calls make the second callout's id non-zero, so
// an id lost on the way back would not go unnoticed.
func httpCall(s *stream) types.Action {
	decoy, decoyErr := proxywasm.DispatchHttpCall(CalloutDecoyCluster,
		[][2]string{{":method", "GET"}, {":path", "/decoy"}, {":authority", "decoy"}},
		nil, nil, 1000, func(int, int, int) { report("http_call_decoy", "answered") })
	id, err := proxywasm.DispatchHttpCall(CalloutCluster,
		[][2]string{{":method", "POST"}, {":path", "/check"}, {":authority", "checker"}, {"x-call", "c1"}},
		[]byte("call-body"), [][2]string{{"x-call-trailer", "t1"}}, CalloutTimeoutMillis, s.onCallout)
	report("http_call", "ids=%d,%d errs=%s,%s", decoy, id, errName(decoyErr), errName(err))
	return types.ActionPause
}

// onCallout reads the callout's answer back, marks the request and resumes
// it.
func (s *stream) onCallout(num, size, trailers int) {
	headers, hErr := proxywasm.GetHttpCallResponseHeaders()
	body, bErr := proxywasm.GetHttpCallResponseBody(0, size)
	part, pErr := proxywasm.GetHttpCallResponseBody(2, 3)
	tr, tErr := proxywasm.GetHttpCallResponseTrailers()
	addErr := proxywasm.AddHttpRequestHeader("x-callout", "done")
	resumeErr := proxywasm.ResumeHttpRequest()
	report("http_call_response", "id=%d num=%d size=%d trailers=%d headers=%s body=%s part=%s trailer_pairs=%s errs=%s,%s,%s,%s add=%s resume=%s",
		s.id, num, size, trailers, joinPairs(headers), body, part, joinPairs(tr),
		errName(hErr), errName(bErr), errName(pErr), errName(tErr), errName(addErr), errName(resumeErr))
}

func foreign(*stream) types.Action {
	ret, err := proxywasm.CallForeignFunction(ForeignFunction, []byte("ping"))
	report("foreign", "ret=%s err=%s", ret, errName(err))
	return types.ActionContinue
}

func closeStreams(*stream) types.Action {
	down := proxywasm.CloseDownstream()
	up := proxywasm.CloseUpstream()
	report("close", "downstream=%s upstream=%s", errName(down), errName(up))
	return types.ActionContinue
}

// armTick makes the next tick write into this request.
func armTick(s *stream) types.Action {
	s.plugin.tickTarget = s.id
	report("tick_armed", "id=%d", s.id)
	return types.ActionContinue
}

// repeat makes x-repeat host calls that return data, rotating over a
// request header (x-payload), a property (PayloadProperty) and shared data
// (PayloadKey), each holding the x-payload value, and counts wrong answers.
// With keep, it holds on to every returned value, as a leaking allocator
// would.
func repeat(s *stream, keep bool) types.Action {
	n, _ := strconv.Atoi(header("x-repeat"))
	payload := header("x-payload")
	_, cas, _ := proxywasm.GetSharedData(PayloadKey)
	setErr := proxywasm.SetSharedData(PayloadKey, []byte(payload), cas)
	bad := 0
	for i := 0; i < n; i++ {
		var v []byte
		var err error
		switch i % 3 {
		case 0:
			var h string
			h, err = proxywasm.GetHttpRequestHeader("x-payload")
			v = unsafe.Slice(unsafe.StringData(h), len(h)) // the host's buffer, not a copy
		case 1:
			v, err = proxywasm.GetProperty(PayloadProperty)
		default:
			v, _, err = proxywasm.GetSharedData(PayloadKey)
		}
		if err != nil || string(v) != payload {
			bad++
		}
		if keep {
			s.plugin.retained = append(s.plugin.retained, v)
		}
	}
	report("repeat", "calls=%d bad=%d set=%s retained=%d", n, bad, errName(setErr), len(s.plugin.retained))
	return types.ActionContinue
}

func header(name string) string {
	v, _ := proxywasm.GetHttpRequestHeader(name)
	return v
}
