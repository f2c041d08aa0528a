package policy

import (
	"strconv"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
)

// CalloutResponse is the answer to an HTTPCall.
type CalloutResponse struct {
	// Status is the response's status code, or 0 if the call ended
	// without a response. Envoy answers a call it could not complete itself:
	// 503 for a connection failure, 504 for a timeout; it ends a call with
	// no response for a reset after the answer began or an answer too large
	// to buffer, and refuses to dispatch a call to an unknown cluster
	// (HTTPCall's error). Other hosts, this module's local runner among
	// them, may report every failure as Status 0.
	Status  int
	Headers [][2]string
	Body    []byte
}

// Header returns the first value of the response header name.
func (r CalloutResponse) Header(name string) (string, bool) { return lookup(r.Headers, name) }

// HTTPCall sends a request to the upstream cluster and, once the answer
// arrives (or the call fails or times out), calls done and resumes the chain
// with its result. The filter returns Pause() after a successful HTTPCall;
// if HTTPCall returns an error, nothing was sent and done will not run.
// headers must include :method, :path and :authority.
func (x *Exchange) HTTPCall(cluster string, headers [][2]string, body []byte, timeout time.Duration,
	done func(x *Exchange, resp CalloutResponse) Result) error {
	s, at := x.stream, x.current
	millis := uint32(timeout / time.Millisecond)
	_, err := proxywasm.DispatchHttpCall(cluster, headers, body, nil, millis, func(numHeaders, bodySize, _ int) {
		s.callouts--
		var resp CalloutResponse
		if numHeaders > 0 {
			resp.Headers, _ = proxywasm.GetHttpCallResponseHeaders()
		}
		if bodySize > 0 {
			resp.Body, _ = proxywasm.GetHttpCallResponseBody(0, bodySize)
		}
		if v, ok := resp.Header(":status"); ok {
			resp.Status, _ = strconv.Atoi(v)
		}
		if resp.Status == 0 {
			s.marks[at].failed = true // counted as an error, whatever done decides
		}
		var r Result
		if !s.call(at, func() { r = done(x, resp) }) {
			r = s.failure(at)
		}
		s.resume(r)
	})
	if err == nil {
		s.callouts++
	}
	return err
}
