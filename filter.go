package policy

// A Filter is one policy step of a chain. It implements only the phases it
// needs, each as one of the interfaces below; the chain calls a phase only on
// the filters that implement it.
type Filter interface{}

// RequestHeadersFilter runs when the request headers arrive.
type RequestHeadersFilter interface {
	OnRequestHeaders(x *Exchange) Result
}

// RequestBodyFilter runs once the whole request body has arrived: the chain
// holds the request's headers and buffers the body, up to the plugin's
// body_limit, so the filter sees all of it, can still deny the request, and
// can replace the body (Exchange.SetRequestBody). A body over the limit
// never reaches it (the package doc says what happens instead).
type RequestBodyFilter interface {
	OnRequestBody(x *Exchange, body []byte) Result
}

// ResponseHeadersFilter runs when the response headers arrive, including
// those of a local reply another filter sent (x.LocalResponse() is then set).
type ResponseHeadersFilter interface {
	OnResponseHeaders(x *Exchange) Result
}

// ResponseBodyFilter runs once the whole response body has arrived, the
// response's headers held meanwhile, as for a RequestBodyFilter: it can
// still answer in place of the response (Deny) or replace the body
// (Exchange.SetResponseBody).
type ResponseBodyFilter interface {
	OnResponseBody(x *Exchange, body []byte) Result
}

// ResponseStreamFilter sees the response body as it passes, chunk by
// chunk, without the chain holding it: the client gets each chunk as it
// comes, and the plugin's memory does not grow with the response (a
// stream of Server-Sent Events, a large download). The filter keeps what it
// needs across calls itself (an event split between two chunks), and may
// replace the chunk it is given (Exchange.SetResponseChunk); one that
// changes a chunk's length should remove the response's content-length in
// its OnResponseHeaders. end is set on the last call, whose chunk may be
// empty. It cannot deny: the response's headers are on their way. When the
// chain holds the response for a ResponseBodyFilter, the filter gets the
// whole body in one call, end set.
type ResponseStreamFilter interface {
	OnResponseChunk(x *Exchange, chunk []byte, end bool)
}

// BodyReader is implemented by a RequestHeadersFilter whose decision may
// need the request's JSON body, for some configurations (authz, when a rule
// has conditions on the body). The chain asks ReadsRequestBody once, when
// it is built. When it is true, the chain holds a request that has a body
// until the body is complete and calls the filter's OnRequestHeaders then,
// in the request body phase, with the body in the request view
// (Exchange.Request); a request without a body is decided in the headers
// phase as usual. The filters after it in the chain wait with it: their
// OnRequestHeaders runs after its decision, in the body phase, in chain
// order, so that none runs before a filter that precedes it, or for a
// request it denies on the body. (Such a filter has no OnRequestBody of its own: the
// chain would not call it.) When it is false, the chain reads no body for
// the filter, and costs what a chain without body filters costs.
type BodyReader interface {
	ReadsRequestBody() bool
}

// BodyPhases is implemented by a body filter whose configuration may leave
// a side with nothing to do (a body rewrite of responses only). The chain
// asks once, when it is built, and treats the filter as having no
// OnRequestBody (OnResponseBody and OnResponseChunk) when request
// (response) is false: it reads and holds no body of that side for it.
type BodyPhases interface {
	BodyPhases() (request, response bool)
}

// StreamDoneFilter runs once when the stream ends, whatever happened to it.
type StreamDoneFilter interface {
	OnStreamDone(x *Exchange)
}

// Action is what a filter decided.
type Action uint8

const (
	// ActionContinue passes the request to the next filter.
	ActionContinue Action = iota
	// ActionDeny answers the request with the Result's Response; later
	// request filters do not run.
	ActionDeny
	// ActionPause stops the chain until the filter resumes it with
	// Exchange.Resume, or by returning from an HTTPCall callback.
	ActionPause
)

func (a Action) String() string {
	switch a {
	case ActionContinue:
		return "continue"
	case ActionDeny:
		return "deny"
	case ActionPause:
		return "pause"
	}
	return "unknown"
}

// Result is a filter's verdict for one phase.
type Result struct {
	Action   Action
	Response Response // sent when Action is ActionDeny
}

// Response is a local reply: the response the proxy sends instead of
// forwarding the request.
type Response struct {
	Status  uint32
	Headers [][2]string
	Body    string
	// Reason says why, for the log; it is not sent.
	Reason string
}

// Header returns the value of the reply's header name (lower case).
func (r *Response) Header(name string) (string, bool) {
	for _, h := range r.Headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

// Continue lets the request go on to the next filter.
func Continue() Result { return Result{Action: ActionContinue} }

// Deny answers the request with resp.
func Deny(resp Response) Result { return Result{Action: ActionDeny, Response: resp} }

// Pause stops the chain until the filter resumes it.
func Pause() Result { return Result{Action: ActionPause} }

// Mode says whether a filter's denials are enforced.
type Mode uint8

const (
	// Enforce sends a denying filter's response.
	Enforce Mode = iota
	// Shadow logs and counts a denial but lets the request continue, so a
	// policy can be tried on live traffic first.
	Shadow
)

func (m Mode) String() string {
	if m == Shadow {
		return "shadow"
	}
	return "enforce"
}

// Use makes a ready-made filter a chain element, for filters written in the
// plugin's own main package: policy.Static(policy.Use("tenant", tenantCheck{})).
func Use(kind string, f Filter) Spec {
	return Spec{Kind: kind, Build: func(*Env) (Filter, error) { return f, nil }}
}
