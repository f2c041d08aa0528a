package policy

import (
	"strconv"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/stats"
)

// Bodies.
//
// A chain with a body filter (RequestBodyFilter, ResponseBodyFilter) reads
// the body of each request (or response) that has one, whole: the proxy
// buffers it, and the chain holds the headers until the body is complete, so
// that a body filter can still deny the request (or answer in place of the
// response), and a body it rewrites reaches the other side with a
// content-length that is right. A chain without one reads no body and holds
// nothing: it costs what it cost before bodies were read.
//
// A body over the plugin's body limit is not read. A request gets 413, or,
// when the plugin fails open, goes on, its body filters deciding without
// the body (Exchange.BodyTooLarge); a response goes on unchanged. Either
// is counted in body_too_large_total{side} and logged once.

// DefaultBodyLimit is the most bytes of a body the chain reads when the
// plugin sets no limit: Envoy's default buffer limit per connection
// (per_connection_buffer_limit_bytes), beyond which Envoy itself answers 413.
const DefaultBodyLimit = 1 << 20

// MaxBodyLimit is the largest body_limit a plugin takes. A limit over
// Envoy's buffer limit needs that limit raised in Envoy too.
const MaxBodyLimit = 64 << 20

// bodies is what the plugin context knows of bodies: whether its chain reads
// them, its limit, and the counters and log state of bodies over the limit.
type bodies struct {
	request, response bool // the chain has a request (response) body filter
	stream            bool // the chain has a response stream filter
	limit             int
	tooLarge          [2]*stats.Counter // request, response
	logged            [2]bool
}

// side indexes bodies' arrays.
func side(ph phase) int {
	if ph.request() {
		return 0
	}
	return 1
}

// setUp resolves whether the chain reads bodies and defines the counters
// of bodies over the limit, which only such a chain can meet.
func (b *bodies) setUp(links []*link, limit int, metrics *stats.Registry) {
	b.limit = limit
	for _, l := range links {
		b.request = b.request || l.reqBody != nil || l.onBody
		b.response = b.response || l.respBody != nil
		b.stream = b.stream || l.respStream != nil
	}
	for i, name := range []string{"request", "response"} {
		if i == 0 && b.request || i == 1 && b.response {
			b.tooLarge[i] = metrics.Counter("body_too_large_total", stats.Tag{Key: "side", Value: name})
		}
	}
}

// reads reports whether the chain reads the body of phase ph.
func (b *bodies) reads(ph phase) bool {
	if ph.request() {
		return b.request
	}
	return b.response
}

// holds reports whether the headers phase ph holds its headers until the
// body is complete: the chain reads that body and there is one.
func (s *stream) holds(ph phase, endOfStream bool) bool {
	return !endOfStream && s.pc.bodies.reads(ph+1)
}

// overLimit handles a body of phase ph that has grown past the limit: it is
// counted and logged (once per plugin), and the stream goes on without it,
// or, for a request of a plugin that fails closed, is answered with 413.
func (s *stream) overLimit(ph phase, size int) types.Action {
	b := &s.pc.bodies
	i := side(ph)
	s.unread[i] = true
	b.tooLarge[i].Inc()
	if !b.logged[i] {
		b.logged[i] = true
		what := [...]string{"request", "response"}[i]
		outcome := "it went on unread"
		switch {
		case ph.request() && !s.pc.failOpen:
			outcome = "it was answered with 413"
		case ph.request():
			outcome = "it went on unread, its body filters deciding without it (failure_mode open)"
		}
		proxywasm.LogWarn("policy: a " + what + " body of more than " + strconv.Itoa(b.limit) + " bytes (body_limit) reached " +
			strconv.Itoa(size) + " bytes; " + outcome + ". Later ones are counted in body_too_large_total, not logged")
	}
	if s.paused {
		// The headers phase waits for a callout: it decides first, and
		// its resume finds the body unread.
		return types.ActionPause
	}
	return s.afterUnread(ph)
}

// afterUnread goes on with a stream whose body of phase ph is over the
// limit, once its headers phase is complete. A request failing open still
// runs its body filters, with no body (Exchange.BodyTooLarge): a filter
// that waited for the body to decide decides on a body it cannot read, as
// a rule on it that restricts the request applies and one that permits it
// does not. A response goes on unchanged.
func (s *stream) afterUnread(ph phase) types.Action {
	if !ph.request() {
		return types.ActionContinue
	}
	if !s.pc.failOpen {
		s.sendLocal("the body limit", Response{Status: 413, Body: "request body too large\n", Reason: "the request body is over body_limit"})
		return types.ActionPause
	}
	s.body = nil
	return s.run(ph, 0)
}

// SetRequestBody replaces the request body with body. Only a request body
// filter may call it, from OnRequestBody: the body is whole there and the
// request's headers are still held, so the request's content-length, if it
// has one, is set to the new length. Later filters see the new body.
func (x *Exchange) SetRequestBody(body []byte) { x.stream.setBody(phaseRequestBody, body) }

// SetResponseBody replaces the response body with body, as SetRequestBody
// does the request's; only a response body filter may call it, from
// OnResponseBody.
func (x *Exchange) SetResponseBody(body []byte) { x.stream.setBody(phaseResponseBody, body) }

// SetResponseChunk replaces the chunk of the response body a stream filter
// was given, from OnResponseChunk: later stream filters and the client get
// chunk instead. When the chain holds the whole response (the chunk is the
// whole body), it is SetResponseBody.
func (x *Exchange) SetResponseChunk(chunk []byte) {
	s := x.stream
	if !s.chunking {
		s.setBody(phaseResponseBody, chunk)
		return
	}
	if err := proxywasm.ReplaceHttpResponseBody(chunk); err != nil {
		proxywasm.LogError("policy: filter " + s.pc.links[x.current].id + " replacing a response chunk: " + err.Error())
		return
	}
	s.body = chunk
}

// Streaming. A chain with a ResponseStreamFilter and no ResponseBodyFilter
// passes each chunk of a response body on as it comes, after its stream
// filters have seen it (onChunk). A chunk that arrives while the response
// headers phase waits for a callout is held by the proxy, and the stream
// filters see all that was held when the phase resumes (heldChunks).

// onChunk runs the stream filters on the chunk of size bytes the proxy
// holds now, and lets it go on.
func (s *stream) onChunk(size int, end bool) types.Action {
	if s.paused {
		s.waitingChunk, s.waitingEnd = size, end
		return types.ActionPause
	}
	s.runChunk(size, end)
	return types.ActionContinue
}

// heldChunks runs the stream filters on the chunks the proxy held while the
// response headers phase was paused, once it resumes.
func (s *stream) heldChunks() {
	if s.waitingChunk == 0 && !s.waitingEnd {
		return
	}
	size, end := s.waitingChunk, s.waitingEnd
	s.waitingChunk, s.waitingEnd = 0, false
	s.runChunk(size, end)
}

// runChunk calls the stream filters, in the response phases' order, on
// the size bytes of the body the proxy holds now.
func (s *stream) runChunk(size int, end bool) {
	var chunk []byte
	if size > 0 {
		var err error
		if chunk, err = proxywasm.GetHttpResponseBody(0, size); err != nil {
			proxywasm.LogError("policy: reading a response chunk: " + err.Error())
		}
	}
	prevPhase := s.phase
	s.phase, s.chunking, s.body = phaseResponseBody, true, chunk
	for pos := range s.pc.links {
		i := s.linkAt(phaseResponseBody, pos)
		l := s.pc.links[i]
		if l.respStream == nil || s.skips(i) {
			continue
		}
		s.see(i, phaseResponseBody)
		s.call(i, func() { l.respStream.OnResponseChunk(&s.x, s.body, end) })
	}
	s.phase, s.chunking, s.body = prevPhase, false, nil
}

func (s *stream) setBody(ph phase, body []byte) {
	l := s.pc.links[s.x.current]
	if s.phase != ph {
		proxywasm.LogError("policy: filter " + l.id + " set the " + ph.String() + " outside its body phase; ignored")
		return
	}
	if s.unread[side(ph)] {
		proxywasm.LogError("policy: filter " + l.id + " set the " + ph.String() + ", which was over body_limit and not read; ignored")
		return
	}
	var err error
	if ph.request() {
		err = proxywasm.ReplaceHttpRequestBody(body)
	} else {
		err = proxywasm.ReplaceHttpResponseBody(body)
	}
	if err != nil {
		proxywasm.LogError("policy: filter " + l.id + " replacing the " + ph.String() + ": " + err.Error())
		return
	}
	s.body = body
	if ph.request() {
		s.setRequestBody(body)
	}
	length := strconv.Itoa(len(body))
	if ph.request() {
		if _, ok := s.x.RequestHeader("content-length"); ok {
			s.x.SetRequestHeader("content-length", length)
		}
	} else if _, ok := s.x.ResponseHeader("content-length"); ok {
		s.x.SetResponseHeader("content-length", length)
	}
}
