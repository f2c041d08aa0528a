package probe

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// stream is the probe's HTTP context. Every callback reports its arguments
// as on_<callback>, then runs the request's op if the op belongs to that
// phase. The op is the x-probe request header:
//
//   - "<map>.<action>" with map request_headers, request_trailers,
//     response_headers or response_trailers and action get, pairs, add,
//     replace, remove or set runs in that map's phase (see mapOp);
//   - "<body>.<action>" with body request_body or response_body and action
//     get, append, prepend or replace runs in that body's phase (see bodyOp);
//   - "pause" makes every phase return Pause;
//   - any other op runs in the request headers phase (see ops.go).
type stream struct {
	types.DefaultHttpContext
	id     uint32
	plugin *plugin
	op     string
}

func (s *stream) OnHttpRequestHeaders(num int, end bool) types.Action {
	s.op, _ = proxywasm.GetHttpRequestHeader("x-probe")
	report("on_request_headers", "id=%d num=%d end=%t", s.id, num, end)
	if a, ok := s.phase("request_headers"); ok {
		return a
	}
	if op, ok := ops[s.op]; ok {
		return op(s)
	}
	return types.ActionContinue
}

func (s *stream) OnHttpRequestBody(size int, end bool) types.Action {
	report("on_request_body", "id=%d size=%d end=%t", s.id, size, end)
	return s.body("request_body", size)
}

func (s *stream) OnHttpRequestTrailers(num int) types.Action {
	report("on_request_trailers", "id=%d num=%d", s.id, num)
	a, _ := s.phase("request_trailers")
	return a
}

func (s *stream) OnHttpResponseHeaders(num int, end bool) types.Action {
	report("on_response_headers", "id=%d num=%d end=%t", s.id, num, end)
	a, _ := s.phase("response_headers")
	return a
}

func (s *stream) OnHttpResponseBody(size int, end bool) types.Action {
	report("on_response_body", "id=%d size=%d end=%t", s.id, size, end)
	return s.body("response_body", size)
}

func (s *stream) OnHttpResponseTrailers(num int) types.Action {
	report("on_response_trailers", "id=%d num=%d", s.id, num)
	a, _ := s.phase("response_trailers")
	return a
}

func (s *stream) OnHttpStreamDone() { report("on_log", "http=%d", s.id) }

// phase runs a header map op if the request's op targets the map named
// phase. ok reports whether the phase's result is decided.
func (s *stream) phase(name string) (types.Action, bool) {
	if s.op == "pause" {
		return types.ActionPause, true
	}
	target, action := split(s.op)
	if target != name {
		return types.ActionContinue, false
	}
	mapOp(s.op, headerMaps[target], action)
	return types.ActionContinue, true
}

func (s *stream) body(name string, size int) types.Action {
	if s.op == "pause" {
		return types.ActionPause
	}
	if target, action := split(s.op); target == name {
		bodyOp(s.op, bodyBuffers[target], action, size)
	}
	return types.ActionContinue
}

func split(op string) (target, action string) {
	for i := 0; i < len(op); i++ {
		if op[i] == '.' {
			return op[:i], op[i+1:]
		}
	}
	return op, ""
}

// headerMap is one of the four header maps of a stream, through the SDK.
type headerMap struct {
	get     func(key string) (string, error)
	pairs   func() ([][2]string, error)
	add     func(key, value string) error
	replace func(key, value string) error
	remove  func(key string) error
	set     func([][2]string) error
}

var headerMaps = map[string]headerMap{
	"request_headers": {proxywasm.GetHttpRequestHeader, proxywasm.GetHttpRequestHeaders,
		proxywasm.AddHttpRequestHeader, proxywasm.ReplaceHttpRequestHeader,
		proxywasm.RemoveHttpRequestHeader, proxywasm.ReplaceHttpRequestHeaders},
	"request_trailers": {proxywasm.GetHttpRequestTrailer, proxywasm.GetHttpRequestTrailers,
		proxywasm.AddHttpRequestTrailer, proxywasm.ReplaceHttpRequestTrailer,
		proxywasm.RemoveHttpRequestTrailer, proxywasm.ReplaceHttpRequestTrailers},
	"response_headers": {proxywasm.GetHttpResponseHeader, proxywasm.GetHttpResponseHeaders,
		proxywasm.AddHttpResponseHeader, proxywasm.ReplaceHttpResponseHeader,
		proxywasm.RemoveHttpResponseHeader, proxywasm.ReplaceHttpResponseHeaders},
	"response_trailers": {proxywasm.GetHttpResponseTrailer, proxywasm.GetHttpResponseTrailers,
		proxywasm.AddHttpResponseTrailer, proxywasm.ReplaceHttpResponseTrailer,
		proxywasm.RemoveHttpResponseTrailer, proxywasm.ReplaceHttpResponseTrailers},
}

// mapOp works on a map holding x-in (and whatever else the test put in):
//
//	get      value=<x-in> err=ok missing=not_found (x-missing)
//	pairs    pairs=<all pairs> err=ok
//	add      err=ok after=<pairs>  (adds x-added: a1)
//	replace  err=ok after=<pairs>  (replaces x-in with r1)
//	remove   err=ok after=<pairs>  (removes x-in)
//	set      err=ok after=<pairs>  (sets x-set: s1, x-set2: s2)
func mapOp(op string, m headerMap, action string) {
	var err error
	switch action {
	case "get":
		v, err := m.get("x-in")
		_, missing := m.get("x-missing")
		report(op, "value=%s err=%s missing=%s", v, errName(err), errName(missing))
		return
	case "pairs":
		pairs, err := m.pairs()
		report(op, "pairs=%s err=%s", joinPairs(pairs), errName(err))
		return
	case "add":
		err = m.add("x-added", "a1")
	case "replace":
		err = m.replace("x-in", "r1")
	case "remove":
		err = m.remove("x-in")
	case "set":
		err = m.set([][2]string{{"x-set", "s1"}, {"x-set2", "s2"}})
	default:
		report(op, "unknown")
		return
	}
	after, _ := m.pairs()
	report(op, "err=%s after=%s", errName(err), joinPairs(after))
}

// bodyBuffer is a request or response body, through the SDK.
type bodyBuffer struct {
	get                      func(start, max int) ([]byte, error)
	append, prepend, replace func([]byte) error
}

var bodyBuffers = map[string]bodyBuffer{
	"request_body": {proxywasm.GetHttpRequestBody, proxywasm.AppendHttpRequestBody,
		proxywasm.PrependHttpRequestBody, proxywasm.ReplaceHttpRequestBody},
	"response_body": {proxywasm.GetHttpResponseBody, proxywasm.AppendHttpResponseBody,
		proxywasm.PrependHttpResponseBody, proxywasm.ReplaceHttpResponseBody},
}

// bodyOp reads the whole body and bytes 1..3 of it (get), or appends
// "+app", prepends "pre+" or replaces it with "replaced".
func bodyOp(op string, b bodyBuffer, action string, size int) {
	var err error
	switch action {
	case "get":
		all, err := b.get(0, size)
		part, partErr := b.get(1, 3)
		report(op, "body=%s err=%s part=%s part_err=%s", all, errName(err), part, errName(partErr))
		return
	case "append":
		err = b.append([]byte("+app"))
	case "prepend":
		err = b.prepend([]byte("pre+"))
	case "replace":
		err = b.replace([]byte("replaced"))
	default:
		report(op, "unknown")
		return
	}
	report(op, "err=%s", errName(err))
}
