package host

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Request is an HTTP request as the proxy received it.
type Request struct {
	// Headers are the request's headers with lower-case names, including
	// the pseudo-headers :method, :path, :authority and :scheme.
	Headers [][2]string
	Body    []byte
	// Source and Destination are the downstream peer's and the proxy's
	// addresses, "ip:port" (the source.* and destination.* properties).
	Source, Destination string
	// Route is the name of the route the request matched (route_name).
	Route string
	// Time is when the request arrived (request.time); the Host's clock
	// when zero.
	Time time.Time
	// Properties adds to or overrides this stream's properties, keyed by
	// their path with "." between segments.
	Properties map[string][]byte
	// Log, if set, receives the lines the plugin logs while it works on
	// this stream (they go to Config.Log as well).
	Log func(level LogLevel, msg string)
}

// Response is an HTTP response: the upstream's, or a local reply.
type Response struct {
	Status int
	// Headers have lower-case names and no :status.
	Headers [][2]string
	Body    []byte
	// Chunks, when set, is the upstream's body in the pieces it sends it
	// in, and Body is not used: each piece reaches the plugin as it comes,
	// as Envoy streams a body, the last one ending the stream. After a
	// callback that continues, the plugin's buffer is the next piece
	// alone; after one that pauses, the pieces accumulate. The response
	// Serve returns has the body the plugin passed on, whole.
	Chunks [][]byte
	// Details says where the response comes from, as Envoy's response code
	// details do: "via_upstream", the details the plugin gave its local
	// reply, "wasm_fail_stream" after a trap.
	Details string
}

// Upstream sends a request the plugin let through to the upstream and
// returns its response. An error is answered 503, as Envoy answers a
// connection failure (and that reply goes through the response phase).
type Upstream func(ctx context.Context, req *Request) (*Response, error)

// Errors Serve returns besides a *TrapError.
var (
	// ErrPauseTimeout: the plugin paused the stream and did not resume it
	// within Config.PauseTimeout after its callouts answered (504).
	ErrPauseTimeout = errors.New("the plugin paused the stream and did not resume it")
	// ErrStreamClosed: the plugin closed the stream (proxy_close_stream);
	// the proxy resets the connection, so the response is nil.
	ErrStreamClosed = errors.New("the plugin closed the stream")
)

// Directions of a stream, indexes of stream.stopped (as the ABI numbers
// them for proxy_continue_stream).
const (
	dirRequest  = 0
	dirResponse = 1
)

// stream is one HTTP stream's state on the host side. The VM's lock guards
// it: the plugin may reach it from another goroutine's callback (a callout
// answer, a tick) through proxy_set_effective_context.
type stream struct {
	id   uint32
	req  *Request
	time time.Time

	reqHeaders, reqTrailers   headerMap
	reqBody                   []byte
	respStarted               bool
	respHeaders, respTrailers headerMap
	respBody                  []byte
	respSent                  []byte // a streamed body's pieces passed on so far
	details                   string
	props                     map[string][]byte

	// stopped is set while the plugin holds a direction: its last callback
	// returned Pause and it has not called proxy_continue_stream since.
	stopped [2]bool
	// local is the local reply the plugin sent in a request phase;
	// replaced, the one it sent in a response phase. inLocal is set while
	// a local reply passes through the response phase.
	local, replaced *Response
	inLocal         bool
	closed          bool

	wake chan struct{}
}

func (s *stream) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Serve runs one HTTP stream through the plugin: the request phases, then,
// unless the plugin answered itself, upstream (with the request as the
// plugin left it), then the response phases, and the end of the stream.
//
// It returns the response to send to the client. After a trap it returns
// 503 and the *TrapError; see also ErrPauseTimeout and ErrStreamClosed.
func (vm *VM) Serve(ctx context.Context, req *Request, upstream Upstream) (*Response, error) {
	s, err := vm.open(req)
	if err != nil {
		return failure(err), err
	}
	resp, err := vm.serve(ctx, s, upstream)
	vm.finish(ctx, s)
	if err != nil {
		return failure(err), err
	}
	return resp, nil
}

func failure(err error) *Response {
	switch {
	case errors.Is(err, ErrStreamClosed):
		return nil
	case errors.Is(err, ErrPauseTimeout):
		return &Response{Status: 504, Details: "wasm_pause_timeout"}
	}
	return &Response{Status: 503, Details: "wasm_fail_stream"}
}

func (vm *VM) open(req *Request) (*stream, error) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.err != nil {
		return nil, vm.err
	}
	vm.lastID++
	s := &stream{id: vm.lastID, req: req, time: req.Time, wake: make(chan struct{}, 1)}
	if s.time.IsZero() {
		s.time = vm.host.now()
	}
	s.reqHeaders = make(headerMap, 0, len(req.Headers)+4)
	for _, h := range req.Headers {
		s.reqHeaders.push(h[0], h[1])
	}
	s.reqBody = req.Body
	vm.streams[s.id] = s
	vm.cur = s
	_, err := vm.invoke(vm.fn.contextCreate, uint64(s.id), uint64(vm.root))
	vm.cur = nil
	return s, err
}

func (vm *VM) serve(ctx context.Context, s *stream, upstream Upstream) (*Response, error) {
	if err := vm.requestPhase(ctx, s); err != nil {
		return nil, err
	}
	vm.mu.Lock()
	resp, local := s.local, s.local != nil
	var fwd Request
	if !local {
		fwd = *s.req
		fwd.Headers, fwd.Body = s.reqHeaders.clone(), s.reqBody
	}
	vm.mu.Unlock()
	if !local {
		var err error
		if resp, err = upstream(ctx, &fwd); err != nil || resp == nil {
			resp, local = connectFailure(), true
		}
	}
	if err := vm.responsePhase(ctx, s, resp, local); err != nil {
		return nil, err
	}
	return vm.final(s), nil
}

func eos(body []byte) uint64 {
	if len(body) == 0 {
		return 1
	}
	return 0
}

func (vm *VM) requestPhase(ctx context.Context, s *stream) error {
	vm.mu.Lock()
	n, body := len(s.reqHeaders), s.reqBody
	vm.mu.Unlock()
	if _, err := vm.callStream(ctx, s, vm.fn.requestHeaders, dirRequest, n, eos(body)); err != nil {
		return err
	}
	if len(body) > 0 && !vm.answered(s) {
		// The whole body, at once: the proxy has read it before the phase.
		if _, err := vm.callStream(ctx, s, vm.fn.requestBody, dirRequest, len(body), 1); err != nil {
			return err
		}
	}
	return vm.wait(ctx, s, dirRequest)
}

func (vm *VM) responsePhase(ctx context.Context, s *stream, resp *Response, local bool) error {
	vm.mu.Lock()
	s.respStarted, s.inLocal = true, local
	s.respHeaders = make(headerMap, 0, len(resp.Headers)+4)
	s.respHeaders.push(":status", strconv.Itoa(resp.Status))
	for _, h := range resp.Headers {
		s.respHeaders.push(h[0], h[1])
	}
	s.respBody, s.details = resp.Body, resp.Details
	n, body := len(s.respHeaders), s.respBody
	end := eos(body)
	if resp.Chunks != nil {
		s.respBody, end = nil, 0
	}
	vm.mu.Unlock()
	if _, err := vm.callStream(ctx, s, vm.fn.responseHeaders, dirResponse, n, end); err != nil {
		return err
	}
	if resp.Chunks != nil {
		return vm.streamBody(ctx, s, resp.Chunks)
	}
	if len(body) > 0 && !vm.answered(s) {
		if _, err := vm.callStream(ctx, s, vm.fn.responseBody, dirResponse, len(body), 1); err != nil {
			return err
		}
	}
	return vm.wait(ctx, s, dirResponse)
}

// streamBody gives the plugin the response body piece by piece. What a
// callback that continues leaves in the buffer is passed on (s.respSent);
// what one that pauses leaves is held, and the next piece is added to it.
func (vm *VM) streamBody(ctx context.Context, s *stream, chunks [][]byte) error {
	for i, c := range chunks {
		if vm.answered(s) {
			break
		}
		vm.mu.Lock()
		s.respBody = append(s.respBody, c...)
		size := len(s.respBody)
		vm.mu.Unlock()
		end := uint64(0)
		if i == len(chunks)-1 {
			end = 1
		}
		if _, err := vm.callStream(ctx, s, vm.fn.responseBody, dirResponse, size, end); err != nil {
			return err
		}
		vm.mu.Lock()
		if !s.stopped[dirResponse] {
			s.respSent = append(s.respSent, s.respBody...)
			s.respBody = nil
		}
		vm.mu.Unlock()
	}
	return vm.wait(ctx, s, dirResponse)
}

// callStream runs a stream callback; its action (Continue or Pause) sets
// whether the plugin holds direction dir, before the work the callback left
// runs (that work may resume the stream).
func (vm *VM) callStream(ctx context.Context, s *stream, cb callback, dir int, size int, end uint64) (uint64, error) {
	vm.mu.Lock()
	vm.cur = s
	action, err := vm.invoke(cb, uint64(s.id), uint64(size), end)
	vm.cur = nil
	if err == nil {
		s.stopped[dir] = action == actionPause
	}
	w := vm.takeWork()
	vm.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return action, vm.run(ctx, w)
}

const actionPause = 1

// answered reports whether the plugin sent a local reply that ends the
// current phase.
func (vm *VM) answered(s *stream) bool {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if s.respStarted {
		return s.replaced != nil
	}
	return s.local != nil
}

// wait returns once the plugin no longer holds direction dir of s.
func (vm *VM) wait(ctx context.Context, s *stream, dir int) error {
	var timeout <-chan time.Time
	for {
		vm.mu.Lock()
		err, held, closed := vm.err, s.stopped[dir], s.closed
		vm.mu.Unlock()
		switch {
		case err != nil:
			return err
		case closed:
			return ErrStreamClosed
		case !held || vm.answered(s):
			return nil
		}
		if timeout == nil {
			t := time.NewTimer(vm.host.cfg.PauseTimeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return ErrPauseTimeout
		}
	}
}

// final is the response as the plugin left it.
func (vm *VM) final(s *stream) *Response {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if s.replaced != nil {
		return s.replaced
	}
	r := &Response{Body: s.respBody, Details: s.details}
	if s.respSent != nil {
		r.Body = append(s.respSent, s.respBody...)
	}
	for _, h := range s.respHeaders {
		if h[0] == ":status" {
			r.Status, _ = strconv.Atoi(h[1])
		} else if h[0] != "" && h[0][0] != ':' {
			r.Headers = append(r.Headers, h)
		}
	}
	if r.Status < 100 || r.Status > 999 {
		r.Status = 502 // the plugin broke :status
	}
	return r
}

// finish ends the stream as Envoy does: proxy_on_done, proxy_on_log,
// proxy_on_delete (skipped on a failed VM).
func (vm *VM) finish(ctx context.Context, s *stream) {
	id := uint64(s.id)
	vm.mu.Lock()
	vm.cur = s
	vm.invoke(vm.fn.done, id)
	vm.invoke(vm.fn.log, id)
	vm.cur = nil
	vm.invoke(vm.fn.delete, id)
	delete(vm.streams, s.id)
	w := vm.takeWork()
	vm.mu.Unlock()
	vm.run(ctx, w)
}

// localReply builds the response proxy_send_local_response asks for, with
// the headers Envoy adds to a local reply that has a body.
func localReply(status int, details string, headers headerMap, body []byte) *Response {
	r := &Response{Status: status, Headers: headers, Body: body, Details: details}
	if len(body) > 0 {
		if _, ok := headers.get("content-type"); !ok {
			r.Headers = append(r.Headers, [2]string{"content-type", "text/plain"})
		}
		r.Headers = append(r.Headers, [2]string{"content-length", strconv.Itoa(len(body))})
	}
	return r
}

// connectFailure is Envoy's local reply when the upstream cannot be reached.
func connectFailure() *Response {
	return localReply(503, "upstream_reset_before_response_started{connection_failure}", nil,
		[]byte("upstream connect error or disconnect/reset before headers. reset reason: connection failure"))
}
