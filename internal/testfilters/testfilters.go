// Package testfilters provides a configurable filter for testing the
// dispatcher: natively, and compiled into the testchain plugin.
package testfilters

import (
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz/claims"
	"github.com/wasmpolicy/policy/conf"
)

// Step records its id in the x-trace request header (request phases) or
// response header (response phases), then does what its config says:
//
//	{"phase": "request_headers|request_body|response_headers|response_body|response_stream|headers", "action": "continue|deny|pause|panic",
//	 "status": 403, "resume": "continue|deny|panic", "if_header": "x-name",
//	 "build": "panic", "tick": "panic|guarded_panic", "set_body": "text",
//	 "claims": {"sub": "alice"}, "reads_body": true, "log": "text", "secret": "value"}
//
// "headers" acts in both header phases. With if_header, the action applies only to requests carrying that header;
// others continue.
//
// With set_body, the step replaces the body of its side with the text in its
// phase (Exchange.SetRequestBody or SetResponseBody), before its action;
// outside a body phase the dispatcher ignores it.
//
// A response_stream step is a policy.ResponseStreamFilter: it appends
// "|id" to every chunk it sees and "|id:end" to the last (Exchange.
// SetResponseChunk).
//
// With reads_body, a request_headers step is a policy.BodyReader: it
// decides a request with a body once the body is there, as a filter with
// rules on the body does.
//
// With claims, a request_headers step publishes them as the claims of a
// verified token (package authz/claims), as a jwt filter would, so that
// filters that read claims can be tested without minting tokens.
//
// With log, a request_headers step logs the text at info level through
// its Logger, followed by the value of the request's x-log header; a
// secret is declared secret (Env.Secret) when the step is built.
//
// "pause" calls the cluster "callout" and resumes with "resume" when it
// answers (a failed call denies with 503).
type Step struct {
	id             string
	phase          string
	action, resume string
	status         uint32
	ifHeader       string
	tick           string // what OnTick does: "panic", "guarded_panic" (in env.Guard), or nothing
	setBody        *string
	claims         gjson.Result
	readsBody      bool
	log            string
	env            *policy.Env
}

// Kind builds Steps from JSON.
var Kind = policy.Kind{Name: "step", Build: func(o *conf.Object, env *policy.Env) (policy.Filter, error) {
	s := &Step{
		id:        env.ID,
		phase:     o.String("phase", "request_headers"),
		action:    o.String("action", "continue"),
		resume:    o.String("resume", "continue"),
		status:    uint32(o.Int("status", 403)),
		ifHeader:  o.String("if_header", ""),
		tick:      o.String("tick", ""),
		claims:    o.Value("claims"),
		readsBody: o.Bool("reads_body", false),
		log:       o.String("log", ""),
		env:       env,
	}
	env.Secret(o.String("secret", ""))
	if o.Has("set_body") {
		b := o.String("set_body", "")
		s.setBody = &b
	}
	if o.String("build", "") == "panic" {
		panic("step " + env.ID + " panics in Build as configured")
	}
	if s.status < 200 || s.status > 599 {
		o.Fail("status", "must be between 200 and 599, not %d", s.status)
	}
	if err := o.Err(); err != nil {
		return nil, err
	}
	switch s.phase {
	case "request_headers", "request_body":
		return &requestStep{s}, nil
	case "response_headers", "response_body":
		return &responseStep{s}, nil
	case "headers":
		return &headersStep{s}, nil
	case "response_stream":
		return &streamStep{s}, nil
	}
	return nil, conf.Errorf("phase", "unknown phase %q", s.phase)
}}

// BodyPhases says that a step reads a body only in its own body phase, so
// that a chain of header steps reads no body (policy.BodyPhases).
func (s *Step) BodyPhases() (request, response bool) {
	return s.phase == "request_body", s.phase == "response_body" || s.phase == "response_stream"
}

// OnTick panics if the step is configured to, directly or in a callback
// run through Env.Guard, as the answer to a callout made from a tick is.
func (s *Step) OnTick(time.Time) {
	switch s.tick {
	case "panic":
		panic("step " + s.id + " panics in OnTick as configured")
	case "guarded_panic":
		s.env.Guard(func() { panic("step " + s.id + " panics in a callback as configured") })
	}
}

func (s *Step) act(x *policy.Exchange, action string) policy.Result {
	if s.ifHeader != "" {
		if _, ok := x.RequestHeader(s.ifHeader); !ok {
			return policy.Continue()
		}
	}
	switch action {
	case "deny":
		return policy.Deny(policy.Response{Status: s.status, Body: "denied by " + s.id, Headers: [][2]string{{"x-denied-by", s.id}}, Reason: "configured to deny"})
	case "panic":
		panic("step " + s.id + " panics as configured")
	case "pause":
		err := x.HTTPCall("callout", [][2]string{{":method", "GET"}, {":path", "/" + s.id}, {":authority", "callout"}}, nil, time.Second,
			func(x *policy.Exchange, resp policy.CalloutResponse) policy.Result {
				if resp.Status == 0 {
					return policy.Deny(policy.Response{Status: 503, Reason: "callout failed"})
				}
				return s.act(x, s.resume)
			})
		if err != nil {
			return policy.Deny(policy.Response{Status: 500, Reason: err.Error()})
		}
		return policy.Pause()
	}
	return policy.Continue()
}

type requestStep struct{ *Step }

// ReadsRequestBody makes a step with reads_body decide in the body phase.
func (s *requestStep) ReadsRequestBody() bool { return s.readsBody && s.phase == "request_headers" }

func (s *requestStep) OnRequestHeaders(x *policy.Exchange) policy.Result {
	if s.phase != "request_headers" {
		return policy.Continue()
	}
	x.AddRequestHeader("x-trace", s.id)
	if s.log != "" {
		v, _ := x.RequestHeader("x-log")
		x.Log().Infof("%s %s", s.log, v)
	}
	if s.setBody != nil {
		x.SetRequestBody([]byte(*s.setBody))
	}
	if s.claims.IsObject() {
		claims.Publish(x, claims.Verified{Provider: s.id, Payload: s.claims})
	}
	return s.act(x, s.action)
}

func (s *requestStep) OnRequestBody(x *policy.Exchange, body []byte) policy.Result {
	if s.phase != "request_body" {
		return policy.Continue()
	}
	x.AddRequestHeader("x-body", s.id+":"+string(body))
	if s.setBody != nil {
		x.SetRequestBody([]byte(*s.setBody))
	}
	return s.act(x, s.action)
}

type responseStep struct{ *Step }

func (s *responseStep) OnResponseHeaders(x *policy.Exchange) policy.Result {
	if s.phase != "response_headers" {
		return policy.Continue()
	}
	x.AddResponseHeader("x-trace", s.id)
	return s.act(x, s.action)
}

func (s *responseStep) OnResponseBody(x *policy.Exchange, body []byte) policy.Result {
	if s.phase != "response_body" {
		return policy.Continue()
	}
	x.AddResponseHeader("x-body", s.id+":"+string(body))
	if s.setBody != nil {
		x.SetResponseBody([]byte(*s.setBody))
	}
	return s.act(x, s.action)
}

type streamStep struct{ *Step }

func (s *streamStep) OnResponseChunk(x *policy.Exchange, chunk []byte, end bool) {
	mark := "|" + s.id
	if end {
		mark += ":end"
	}
	x.SetResponseChunk(append(append([]byte(nil), chunk...), mark...))
}

// Static is a chain built in Go: a step that denies requests carrying
// x-deny, then one that stamps responses with x-stamp.
func Static() *policy.Plugin {
	return policy.Static(
		policy.Use("gate", gate{}),
		policy.Spec{Kind: "stamp", ID: "stamp", Build: func(env *policy.Env) (policy.Filter, error) {
			return stamp{id: env.ID}, nil
		}},
	)
}

type gate struct{}

func (gate) OnRequestHeaders(x *policy.Exchange) policy.Result {
	if _, ok := x.RequestHeader("x-deny"); ok {
		return policy.Deny(policy.Response{Status: 403, Body: "gate closed\n"})
	}
	return policy.Continue()
}

type stamp struct{ id string }

func (s stamp) OnResponseHeaders(x *policy.Exchange) policy.Result {
	x.SetResponseHeader("x-stamp", s.id)
	return policy.Continue()
}

// headersStep acts on request and response headers.
type headersStep struct{ *Step }

func (s *headersStep) OnRequestHeaders(x *policy.Exchange) policy.Result {
	x.AddRequestHeader("x-trace", s.id)
	return s.act(x, s.action)
}

func (s *headersStep) OnResponseHeaders(x *policy.Exchange) policy.Result {
	x.AddResponseHeader("x-trace", s.id)
	return policy.Continue()
}
