package policy

import (
	"fmt"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

type phase uint8

const (
	phaseRequestHeaders phase = iota
	phaseRequestBody
	phaseResponseHeaders
	phaseResponseBody
)

func (p phase) String() string {
	return [...]string{"request headers", "request body", "response headers", "response body"}[p]
}

func (p phase) request() bool { return p <= phaseRequestBody }

// mark is what happened to one filter during one stream; the decision
// counters are taken from it once, when the stream ends, so nothing is
// counted twice however often a filter runs.
type mark struct {
	seen, denied, shadowDenied, paused, failed bool
}

// stream runs the chain for one HTTP stream; it is the plugin's
// types.HttpContext.
//
// The request phases call the filters in chain order and the response
// phases in reverse, as Envoy runs its decoder and encoder filters: a chain
// m1, m2, m3 behaves like m1(m2(m3(h))). A phase walks positions 0, 1, ...
// of its own order; linkAt maps a position to the filter's index in the
// chain, which is what marks, scratch slots and logs use.
type stream struct {
	types.DefaultHttpContext
	pc    *pluginContext
	x     Exchange
	marks []mark

	// callouts counts the HTTP calls awaiting their answer; held is set
	// once the chain has paused. Either keeps the stream from reuse.
	callouts int
	held     bool

	// Where the chain is paused, if it is: the phase, and the paused
	// filter's position in that phase's order (not its index in the chain).
	paused      bool
	pausedPhase phase
	pausedAt    int

	// Bodies are buffered until complete; a body that completed while an
	// earlier phase was paused runs when that phase resumes.
	body            []byte
	reqBodyWaiting  bool
	respBodyWaiting bool

	chainTime time.Duration
}

func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	return s.run(phaseRequestHeaders, 0)
}

func (s *stream) OnHttpRequestBody(size int, endOfStream bool) types.Action {
	return s.onBody(phaseRequestBody, size, endOfStream)
}

func (s *stream) OnHttpResponseHeaders(int, bool) types.Action {
	// A local reply replaces the headers read before it.
	s.x.respLoaded, s.x.respOne = false, header{}
	return s.run(phaseResponseHeaders, 0)
}

func (s *stream) OnHttpResponseBody(size int, endOfStream bool) types.Action {
	return s.onBody(phaseResponseBody, size, endOfStream)
}

func (s *stream) OnHttpStreamDone() {
	for i, l := range s.pc.links {
		if l.done != nil {
			if !l.requestPhase() {
				s.marks[i].seen = true
			}
			s.streamDone(l, i)
		}
	}
	for i, l := range s.pc.links {
		m := s.marks[i]
		if !m.seen {
			continue
		}
		l.seen.Inc()
		switch {
		case m.denied:
			l.denied.Inc()
		case m.shadowDenied:
			l.shadowDenied.Inc()
		default:
			l.allowed.Inc()
		}
		if m.paused {
			l.paused.Inc()
		}
		if m.failed {
			l.errs.Inc()
		}
	}
	s.recycle()
}

// streamDone calls filter i's OnStreamDone, recovering a panic.
func (s *stream) streamDone(l *link, i int) {
	prev := s.x.current
	s.x.current = i
	ok := true
	defer s.recoverFilter(i, prev, &ok)
	l.done.OnStreamDone(&s.x)
}

// maxSpare bounds the streams a plugin keeps for reuse: about the number of
// requests a worker has in flight at once.
const maxSpare = 256

// recycle keeps the ended stream s for the plugin's next one, which saves
// its allocations on every request. The proxy makes no further call into
// an ended stream; only a callout's answer or a Resume by a filter that
// paused can still reach it, so a stream that made a callout or paused is
// left to the garbage collector.
func (s *stream) recycle() {
	pc := s.pc
	if s.callouts > 0 || s.held || len(pc.spare) >= maxSpare {
		return
	}
	marks, scratch, props, values := s.marks, s.x.scratch, s.x.props, s.x.values
	clear(marks)
	clear(scratch)
	clear(props)
	clear(values)
	*s = stream{pc: pc, marks: marks}
	s.x = Exchange{stream: s, scratch: scratch, props: props[:0], values: values[:0]}
	pc.spare = append(pc.spare, s)
}

// ChainTime is the time spent in the chain's filters so far. It is measured
// only when a filter asked for it with Env.MeasureChainTime.
func (x *Exchange) ChainTime() time.Duration { return x.stream.chainTime }

func (s *stream) onBody(ph phase, size int, endOfStream bool) types.Action {
	if s.x.local != nil && ph.request() {
		return types.ActionContinue // a local reply was sent; the request is over
	}
	if !s.hasPhase(ph) {
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause // buffer until the body is complete
	}
	var err error
	if ph == phaseRequestBody {
		s.body, err = proxywasm.GetHttpRequestBody(0, size)
	} else {
		s.body, err = proxywasm.GetHttpResponseBody(0, size)
	}
	if err != nil && size > 0 {
		proxywasm.LogErrorf("policy: reading %s: %v", ph, err)
	}
	if s.paused {
		// The headers phase is still waiting for a callout.
		if ph == phaseRequestBody {
			s.reqBodyWaiting = true
		} else {
			s.respBodyWaiting = true
		}
		return types.ActionPause
	}
	return s.run(ph, 0)
}

func (s *stream) hasPhase(ph phase) bool {
	for _, l := range s.pc.links {
		if l.has(ph) {
			return true
		}
	}
	return false
}

// requestPhase reports whether the filter acts on requests. Such a filter
// is counted only for the requests it saw: not for a request an earlier
// filter denied, whose local reply it may still see in the response phase.
// Filters without a request phase are counted when they run at all.
func (l *link) requestPhase() bool { return l.reqHeaders != nil || l.reqBody != nil }

func (l *link) has(ph phase) bool {
	switch ph {
	case phaseRequestHeaders:
		return l.reqHeaders != nil
	case phaseRequestBody:
		return l.reqBody != nil
	case phaseResponseHeaders:
		return l.respHeaders != nil
	}
	return l.respBody != nil
}

// linkAt is the index in the chain of the filter at position pos of phase
// ph's order: the request phases run the chain in order, the response phases
// in reverse (Envoy's encoder filters run in the reverse of the decoder
// order, so the chain nests as m1(m2(m3(h)))).
func (s *stream) linkAt(ph phase, pos int) int {
	if ph.request() {
		return pos
	}
	return len(s.pc.links) - 1 - pos
}

// run calls the filters of phase ph from position from of the phase's order
// on (see linkAt), and tells the proxy whether to go on.
func (s *stream) run(ph phase, from int) types.Action {
	if ph.request() && s.x.local != nil {
		return types.ActionPause
	}
	var start time.Time
	if s.pc.measureTime {
		start = s.pc.plugin.now()
	}
	stop := false
	var r Result // one for the whole loop: a Result is large, and copying it costs
	for pos := from; pos < len(s.pc.links) && !stop; pos++ {
		i := s.linkAt(ph, pos)
		l := s.pc.links[i]
		if !l.has(ph) {
			continue
		}
		if ph.request() || !l.requestPhase() {
			s.marks[i].seen = true
		}
		if !s.invoke(l, i, ph, &r) {
			r = s.failure(i)
		}
		stop = s.decide(ph, pos, &r)
	}
	if s.pc.measureTime {
		s.chainTime += s.pc.plugin.now().Sub(start)
	}
	if stop {
		return types.ActionPause
	}
	return types.ActionContinue
}

// invoke calls filter i's phase ph, storing its result in r; it reports
// false if the filter panicked. It is call without the closure, since it
// runs for every filter and phase of every request.
func (s *stream) invoke(l *link, i int, ph phase, r *Result) (ok bool) {
	prev := s.x.current
	s.x.current = i
	defer s.recoverFilter(i, prev, &ok)
	switch ph {
	case phaseRequestHeaders:
		*r = l.reqHeaders.OnRequestHeaders(&s.x)
	case phaseRequestBody:
		*r = l.reqBody.OnRequestBody(&s.x, s.body)
	case phaseResponseHeaders:
		*r = l.respHeaders.OnResponseHeaders(&s.x)
	case phaseResponseBody:
		*r = l.respBody.OnResponseBody(&s.x, s.body)
	}
	return true
}

// call runs f as filter i, recovering a panic: it is logged once with the
// filter's name and counted, and call reports false.
func (s *stream) call(i int, f func()) (ok bool) {
	prev := s.x.current
	s.x.current = i
	defer s.recoverFilter(i, prev, &ok)
	f()
	return true
}

// recoverFilter ends a call of filter i: it restores the calling filter
// prev and, if filter i panicked, logs and counts it and sets *ok to false.
// It must be deferred directly, for recover to see the panic.
func (s *stream) recoverFilter(i, prev int, ok *bool) {
	s.x.current = prev
	if v := recover(); v != nil {
		l := s.pc.links[i]
		s.marks[i].failed = true
		proxywasm.LogCriticalf("policy: filter %s (%s) panicked: %v", l.id, l.kind, v)
		*ok = false
	}
}

// failure is the result that stands in for a filter that panicked: a reply
// with the plugin's status_on_error (500 by default) when the plugin fails
// closed, as it does by default; Continue when it fails open or the filter
// is in shadow mode.
func (s *stream) failure(i int) Result {
	if s.pc.failOpen || s.pc.links[i].mode == Shadow {
		return Continue()
	}
	return Deny(Response{Status: s.pc.onError, Body: []byte("internal error in policy filter\n"),
		Reason: fmt.Sprintf("filter %s failed", s.pc.links[i].id)})
}

// decide applies the result r of the filter at position pos of phase ph's
// order and reports whether the chain stops here.
func (s *stream) decide(ph phase, pos int, r *Result) (stop bool) {
	i := s.linkAt(ph, pos)
	l := s.pc.links[i]
	switch r.Action {
	case ActionPause:
		s.marks[i].paused = true
		s.held = true
		s.paused, s.pausedPhase, s.pausedAt = true, ph, pos
		return true
	case ActionDeny:
		if l.mode == Shadow {
			s.marks[i].shadowDenied = true
			proxywasm.LogInfof("policy: filter %s would deny with %d (shadow mode): %s", l.id, r.Response.Status, r.Response.Reason)
			return false
		}
		if s.x.local != nil {
			// Denying the local reply itself: it is already the answer.
			proxywasm.LogWarnf("policy: filter %s denied a local reply; ignored", l.id)
			return false
		}
		if ph == phaseResponseBody {
			proxywasm.LogWarnf("policy: filter %s denied in the response body phase, after the headers were sent; ignored", l.id)
			return false
		}
		s.marks[i].denied = true
		s.sendLocal(l, r.Response)
		return true
	}
	return false
}

func (s *stream) sendLocal(l *link, resp Response) {
	if resp.Status == 0 {
		resp.Status = 403
	}
	proxywasm.LogDebugf("policy: filter %s denied with %d: %s", l.id, resp.Status, resp.Reason)
	s.x.local = &resp
	if err := proxywasm.SendHttpResponse(resp.Status, resp.Headers, resp.Body, -1); err != nil {
		proxywasm.LogErrorf("policy: sending local reply for filter %s: %v", l.id, err)
	}
}

// resume continues a paused chain as if the paused filter had returned r:
// with the filter after it in its phase's order, which for a response phase
// is the one before it in the chain.
func (s *stream) resume(r Result) {
	if !s.paused {
		return
	}
	s.paused = false
	ph, pos := s.pausedPhase, s.pausedAt
	if s.decide(ph, pos, &r) {
		return // denied, or paused again
	}
	if s.run(ph, pos+1) == types.ActionPause {
		return
	}
	// The phase is complete; run a body that arrived meanwhile, from the
	// start of its own order.
	switch {
	case ph == phaseRequestHeaders && s.reqBodyWaiting:
		s.reqBodyWaiting = false
		if s.run(phaseRequestBody, 0) == types.ActionPause {
			return
		}
	case ph == phaseResponseHeaders && s.respBodyWaiting:
		s.respBodyWaiting = false
		if s.run(phaseResponseBody, 0) == types.ActionPause {
			return
		}
	}
	var err error
	if ph.request() {
		err = proxywasm.ResumeHttpRequest()
	} else {
		err = proxywasm.ResumeHttpResponse()
	}
	if err != nil {
		proxywasm.LogErrorf("policy: resuming the stream: %v", err)
	}
}
