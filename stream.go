package policy

import (
	"strconv"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/bridge"
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
	// matched says the filter's entry match was decided for the stream,
	// skip that it left the stream out (stream.skips).
	matched, skip bool
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

	// phase is the phase running, for the calls only one phase may make.
	phase phase

	// Bodies are buffered until complete; a body that completed while an
	// earlier phase was paused runs when that phase resumes (body.go).
	// holding says a headers phase holds its headers until its body is
	// complete; unread, that the body of a side (request, response) is over
	// the limit and its body filters do not run.
	body            []byte
	reqBody         []byte // the request's, kept for the request view
	reqBodyRead     bool   // reqBody is the whole request body
	reqBodyFollows  bool   // the request has a body (its headers did not end the stream)
	reqBodyWaiting  bool
	respBodyWaiting bool
	holding         [2]bool
	unread          [2]bool

	// A streamed response (body.go): chunking is set while stream filters
	// see a chunk; waitingChunk and waitingEnd are what the proxy holds of
	// the body while the response headers phase waits for a callout.
	chunking     bool
	waitingChunk int
	waitingEnd   bool

	// deferred says the request headers phase stopped at position
	// deferFrom, a BodyReader that decides once the body is there: the
	// filters from there on run their request headers phase in the request
	// body phase, in chain order, so none runs before a filter that
	// precedes it. headersDone says the filter paused at pausedAt, in the
	// body phase, has had its OnRequestHeaders and resumes with its
	// OnRequestBody.
	deferred    bool
	deferFrom   int
	headersDone bool

	chainTime time.Duration
}

func (s *stream) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	return s.onHeaders(phaseRequestHeaders, endOfStream)
}

func (s *stream) OnHttpRequestBody(size int, endOfStream bool) types.Action {
	return s.onBody(phaseRequestBody, size, endOfStream)
}

func (s *stream) OnHttpResponseHeaders(_ int, endOfStream bool) types.Action {
	// A local reply replaces the headers read before it.
	s.x.respLoaded, s.x.respOne = false, header{}
	return s.onHeaders(phaseResponseHeaders, endOfStream)
}

// onHeaders runs a headers phase. When the chain reads the body that
// follows, the headers are held until it is complete (body.go).
func (s *stream) onHeaders(ph phase, endOfStream bool) types.Action {
	if ph == phaseRequestHeaders {
		s.reqBodyFollows = !endOfStream
	}
	s.holding[side(ph)] = s.holds(ph, endOfStream)
	a := s.run(ph, 0)
	if a == types.ActionContinue && s.holding[side(ph)] {
		return types.ActionPause
	}
	return a
}

func (s *stream) OnHttpResponseBody(size int, endOfStream bool) types.Action {
	return s.onBody(phaseResponseBody, size, endOfStream)
}

func (s *stream) OnHttpStreamDone() {
	for i, l := range s.pc.links {
		if l.done != nil && !s.skips(i) {
			if !l.requestPhase() {
				s.marks[i].seen = true
			}
			s.streamDone(l, i)
		}
	}
	for i, l := range s.pc.links {
		m := s.marks[i]
		if m.skip {
			l.skipped.Inc()
		}
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
	marks, scratch, props, values, view := s.marks, s.x.scratch, s.x.props, s.x.values, s.x.view
	req, resp := s.x.reqHeaders[:cap(s.x.reqHeaders)], s.x.respHeaders[:cap(s.x.respHeaders)]
	clear(marks)
	clear(scratch)
	clear(props)
	clear(values)
	clear(req) // the header strings point into the ended request's buffers
	clear(resp)
	view.Reset(nil) // keeps its buffers, drops the request's strings
	*s = stream{pc: pc, marks: marks}
	s.x = Exchange{stream: s, scratch: scratch, props: props[:0], values: values[:0],
		reqHeaders: req[:0], respHeaders: resp[:0], view: view}
	pc.spare = append(pc.spare, s)
}

// ChainTime is the time spent in the chain's filters so far. It is measured
// only when a filter asked for it with Env.MeasureChainTime.
func (x *Exchange) ChainTime() time.Duration { return x.stream.chainTime }

func (s *stream) onBody(ph phase, size int, endOfStream bool) types.Action {
	if s.x.local != nil && ph.request() {
		return types.ActionContinue // a local reply was sent; the request is over
	}
	if ph == phaseResponseBody && !s.pc.bodies.response && s.pc.bodies.stream {
		return s.onChunk(size, endOfStream)
	}
	reads := s.pc.bodies.reads(ph) && !s.unread[side(ph)]
	if reads && size > s.pc.bodies.limit {
		return s.overLimit(ph, size)
	}
	if s.paused {
		// A headers phase waits for a callout. The body waits with it,
		// whether the chain reads it or not: Continue here would make
		// Envoy pass the held headers on before the chain decided.
		if reads && endOfStream {
			s.readBody(ph, size)
			if ph == phaseRequestBody {
				s.reqBodyWaiting = true
			} else {
				s.respBodyWaiting = true
			}
		}
		return types.ActionPause
	}
	if !reads {
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause // buffer until the body is complete
	}
	s.readBody(ph, size)
	return s.run(ph, 0)
}

// readBody reads the whole body of phase ph, size bytes, into s.body.
func (s *stream) readBody(ph phase, size int) {
	var err error
	if ph == phaseRequestBody {
		s.body, err = proxywasm.GetHttpRequestBody(0, size)
	} else {
		s.body, err = proxywasm.GetHttpResponseBody(0, size)
	}
	if err != nil && size > 0 {
		proxywasm.LogError("policy: reading " + ph.String() + ": " + err.Error())
	}
	if ph == phaseRequestBody {
		s.setRequestBody(s.body)
	}
}

// setRequestBody keeps body as the request's, for the request view.
func (s *stream) setRequestBody(body []byte) {
	s.reqBody, s.reqBodyRead = body, true
	if s.x.viewSet {
		s.x.view.SetBody(body)
	}
}

// skips reports whether filter i sits out this stream because the request
// does not possibly match its entry's match. That is decided once per
// stream, when the chain first comes to the filter (in the request headers
// phase, whether or not the filter has one), on the request as it is then,
// with what earlier filters changed of it.
func (s *stream) skips(i int) bool {
	l := s.pc.links[i]
	if l.when == nil {
		return false
	}
	m := &s.marks[i]
	if !m.matched {
		m.matched = true
		m.skip = !l.when.Possibly(s.x.Request())
	}
	return m.skip
}

// see marks filter i as having seen the stream, when it runs in phase ph:
// a request filter counts a response it sees unless it is the local reply
// to a request it never saw (see requestPhase).
func (s *stream) see(i int, ph phase) {
	if ph.request() || !s.pc.links[i].requestPhase() || s.x.local == nil {
		s.marks[i].seen = true
	}
}

// requestPhase reports whether the filter acts on requests. Such a filter
// is counted only for the requests it saw, or let through without a look
// (a body filter, for a request without a body): not for a request an
// earlier filter denied, whose local reply it may still see in the
// response phase.
// Filters without a request phase are counted when they run at all.
func (l *link) requestPhase() bool { return l.reqHeaders != nil || l.reqBody != nil }

func (l *link) has(ph phase) bool {
	switch ph {
	case phaseRequestHeaders:
		return l.reqHeaders != nil
	case phaseRequestBody:
		return l.reqBody != nil || l.onBody
	case phaseResponseHeaders:
		return l.respHeaders != nil
	}
	return l.respBody != nil || l.respStream != nil
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
	prev, prevPhase := s.x.current, s.phase
	s.phase = ph
	stop := false
	var r Result // one for the whole phase: a Result is large, and copying it costs
	for pos := from; pos < len(s.pc.links) && !stop; {
		var failed bool
		pos, stop, failed = s.runFilters(ph, pos, &r)
		if failed {
			// The filter at pos-1 panicked: it answers as the plugin's
			// failure mode says, and the phase goes on after it.
			r = s.failure(s.linkAt(ph, pos-1))
			stop = s.decide(ph, pos-1, &r)
		}
	}
	s.x.current, s.phase = prev, prevPhase
	if s.pc.measureTime {
		s.chainTime += s.pc.plugin.now().Sub(start)
	}
	if stop {
		return types.ActionPause
	}
	return types.ActionContinue
}

// runFilters calls the filters of phase ph from position pos on, applying
// each result, until one stops the chain or the phase ends, and returns the
// position after the last filter it called. One recover covers the whole
// run, rather than one per filter, since this runs for every phase of every
// request: when a filter panics, failed is true, the panic is logged and
// counted, and next is the position after that filter.
func (s *stream) runFilters(ph phase, pos int, r *Result) (next int, stop, failed bool) {
	defer func() {
		if v := recover(); v != nil {
			s.panicked(s.linkAt(ph, pos), v)
			next, stop, failed = pos+1, false, true
		}
	}()
	for ; pos < len(s.pc.links); pos++ {
		i := s.linkAt(ph, pos)
		l := s.pc.links[i]
		if l.when != nil && s.skips(i) {
			continue
		}
		if ph == phaseRequestHeaders && l.onBody && s.reqBodyFollows {
			// A BodyReader decides a request with a body in its body
			// phase, and the filters after it with it.
			s.deferred, s.deferFrom = true, pos
			return len(s.pc.links), false, false
		}
		deferred := ph == phaseRequestBody && s.deferred && pos >= s.deferFrom && l.reqHeaders != nil
		if !l.has(ph) && !deferred {
			continue
		}
		s.see(i, ph)
		s.x.current = i
		switch ph {
		case phaseRequestHeaders:
			*r = l.reqHeaders.OnRequestHeaders(&s.x)
		case phaseRequestBody:
			if !deferred {
				*r = l.reqBody.OnRequestBody(&s.x, s.body)
				break
			}
			if s.headersDone {
				s.headersDone = false
			} else {
				*r = l.reqHeaders.OnRequestHeaders(&s.x)
				if l.reqBody == nil || l.onBody {
					break
				}
				if s.decide(ph, pos, r) {
					s.headersDone = r.Action == ActionPause
					return pos + 1, true, false
				}
			}
			*r = l.reqBody.OnRequestBody(&s.x, s.body)
		case phaseResponseHeaders:
			*r = l.respHeaders.OnResponseHeaders(&s.x)
		case phaseResponseBody:
			if l.respBody == nil {
				l.respStream.OnResponseChunk(&s.x, s.body, true) // the whole body, held
				*r = Continue()
				break
			}
			*r = l.respBody.OnResponseBody(&s.x, s.body)
		}
		if s.decide(ph, pos, r) {
			return pos + 1, true, false
		}
	}
	return pos, false, false
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
		s.panicked(i, v)
		*ok = false
	}
}

// panicked logs and counts the panic v of filter i.
func (s *stream) panicked(i int, v any) {
	l := s.pc.links[i]
	s.marks[i].failed = true
	proxywasm.LogCritical("policy: filter " + l.id + " (" + l.kind + ") panicked: " + panicText(v))
}

// panicText is a panic's value as a log shows it: an error's or a
// Stringer's text, a string as it is.
func panicText(v any) string {
	switch v := v.(type) {
	case error:
		return v.Error()
	case interface{ String() string }:
		return v.String()
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	}
	return "a value of a type that is not a string or an error"
}

// failure is the result that stands in for a filter that panicked: a reply
// with the plugin's status_on_error (500 by default) when the plugin fails
// closed, as it does by default; Continue when it fails open or the filter
// is in shadow mode.
func (s *stream) failure(i int) Result {
	if s.pc.failOpen || s.pc.links[i].mode == Shadow {
		return Continue()
	}
	return Deny(Response{Status: s.pc.onError, Body: "internal error in policy filter\n",
		Reason: "filter " + s.pc.links[i].id + " failed"})
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
			proxywasm.LogInfo("policy: filter " + l.id + " would deny with " + strconv.FormatUint(uint64(r.Response.Status), 10) + " (shadow mode): " + r.Response.Reason)
			return false
		}
		if s.x.local != nil {
			// Denying the local reply itself: it is already the answer.
			proxywasm.LogWarn("policy: filter " + l.id + " denied a local reply; ignored")
			return false
		}
		if ph == phaseResponseBody && !s.holding[1] {
			proxywasm.LogWarn("policy: filter " + l.id + " denied in the response body phase, after the headers were sent; ignored")
			return false
		}
		s.marks[i].denied = true
		s.sendLocal("filter "+l.id, r.Response)
		return true
	}
	return false
}

// sendLocal answers the stream with resp; who ("filter ID") is what the
// log lines name.
func (s *stream) sendLocal(who string, resp Response) {
	if resp.Status == 0 {
		resp.Status = 403
	}
	proxywasm.LogDebug("policy: " + who + " denied with " + strconv.FormatUint(uint64(resp.Status), 10) + ": " + resp.Reason)
	s.x.local = &resp
	if err := proxywasm.SendHttpResponse(resp.Status, resp.Headers, bridge.ReadOnly(resp.Body), -1); err != nil {
		proxywasm.LogError("policy: sending local reply for " + who + ": " + err.Error())
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
		if r.Action != ActionPause {
			s.headersDone = false
		}
		return // denied, or paused again
	}
	next := pos + 1
	if s.headersDone {
		next = pos // the filter's OnRequestBody is still to run
	}
	if s.run(ph, next) == types.ActionPause {
		return
	}
	// The phase is complete; run a body that arrived meanwhile, from the
	// start of its own order, or go on without one over the limit. Headers
	// held for a body still on its way stay held: its arrival goes on.
	switch {
	case ph == phaseRequestHeaders && s.unread[0], ph == phaseResponseHeaders && s.unread[1]:
		if s.afterUnread(ph+1) == types.ActionPause {
			return
		}
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
	case (ph == phaseRequestHeaders || ph == phaseResponseHeaders) && s.holding[side(ph)]:
		return
	case ph == phaseResponseHeaders:
		s.heldChunks()
	}
	var err error
	if ph.request() {
		err = proxywasm.ResumeHttpRequest()
	} else {
		err = proxywasm.ResumeHttpResponse()
	}
	if err != nil {
		proxywasm.LogError("policy: resuming the stream: " + err.Error())
	}
}
