// Package headermutate adds, sets and removes request and response headers,
// with Envoy's append actions and with values taken from the request.
//
// # Configuration
//
//	{"request":  {"set": {"x-hello": "Hello world from %REQ(:authority)%"}},
//	 "response": {"remove": ["server"],
//	              "set": {"who-am-i": "wasm-extension"},
//	              "add": {"via": "policy"},
//	              "headers": [{"name": "cache-control", "value": "no-store",
//	                           "append_action": "ADD_IF_ABSENT"}]}}
//
// Each side runs remove, then set, then add, then headers, each in the order
// written. "set" is OVERWRITE_IF_EXISTS_OR_ADD, "add" is
// APPEND_IF_EXISTS_OR_ADD, and "headers" entries take any append action and
// keep_empty_value. The single-header form {"name": "hello", "value":
// "world"} is shorthand for {"response": {"set": {"hello": "world"}}}.
//
// # What each action asks of the proxy
//
// The filter performs every operation as one proxy-wasm host call, through
// the chain's Exchange (which keeps its header cache in step):
//
//	APPEND_IF_EXISTS_OR_ADD     proxy_add_header_map_value
//	ADD_IF_ABSENT               proxy_add_header_map_value, only if the header is absent
//	OVERWRITE_IF_EXISTS_OR_ADD  proxy_replace_header_map_value
//	OVERWRITE_IF_EXISTS         proxy_replace_header_map_value, only if the header is present
//	remove                      proxy_remove_header_map_value
//
// Envoy stores an added value as one more entry of the header, so a request
// that arrived with "x-a: one" and had "two" appended goes upstream with two
// lines, "x-a: one" and "x-a: two"; later filters of the chain see both
// values in Exchange.RequestHeaderValues. Replace drops every entry of the
// header and leaves one; remove drops every entry. (The SDK's host emulator,
// proxytest, instead joins an added value onto the first entry without a
// separator, "x-a: onetwo", and replaces or removes only the first entry:
// that is the emulator's shortcut, not Envoy's behaviour.) Whether a header
// is present is read from the Exchange; a header with an empty value is
// present.
//
// # Values
//
// A value is a template: literal text with placeholders taken from the
// request, computed when the operation runs.
//
//	%REQ(name)%                               the first value of request header name, pseudo-headers
//	                                          included: %REQ(:authority)%, %REQ(:path)%, %REQ(:method)%
//	%DOWNSTREAM_REMOTE_ADDRESS%               the client's address with its port (source.address)
//	%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%  the client's address without its port
//	%ROUTE_NAME%                              the name of the route Envoy matched
//	%REQUEST_ID%                              the request's x-request-id
//	%CLAIM(path)%                             a claim of the token a jwt filter earlier in the chain
//	                                          verified, by its gjson path: a string, number or boolean
//	                                          as its text, an array of strings joined with ","
//	%%                                        a literal '%'
//
// Any other use of '%' is a configuration error. A placeholder whose value is
// missing renders as "", and an operation whose whole value is "" is skipped
// unless keep_empty_value is true. Response operations read the request too.
//
// # Names and values
//
// Names are lower-cased (ASCII letters only, as Envoy does); other bytes,
// including non-ASCII letters, pass through. A name containing CR, LF or
// NUL is a configuration error, and so is a name containing ':', except
// that a request may set :authority, :method, :path and :scheme and a
// response may set :status (a literal code from 200 to 599). Pseudo-headers
// have exactly one value, so they can only be set, never added or removed.
//
// A header value may hold no control character other than tab (no NUL to
// 0x1f, so no CR or LF, and no DEL) and at most MaxValueLength (8192)
// bytes. Literal text that breaks this is a configuration error. A
// placeholder copies what the client or the proxy supplied, which need not
// be a valid value ("x-foo: a\r\nx-injected: 1" reaches a filter as one
// header value when a proxy or a codec lets it through): a value that
// renders invalid is never sent. The operation is skipped, counted in
// headermutate_invalid_values_total{filter} and logged with the header and
// the placeholder but not the value, at most once a minute with the number
// of invalid values left out in between. Then, by "invalid_value":
//
//	"drop"  the default: the other operations run and the request goes on
//	"deny"  the other operations run, then the filter answers with "deny":
//	        400 "invalid header value\n" unless it says otherwise (the
//	        shared deny object: status, headers, body, content_type)
//
// On the response side "deny" replaces the upstream's response with the
// reply. A local reply is already the answer: on it an invalid value is
// only dropped. In shadow mode the request goes on as with "drop".
//
// # Local replies
//
// When another filter denies a request, Envoy sends its local reply through
// the response phase of the plugin, so the response operations apply to it
// too: a denied request still carries the headers this filter adds.
package headermutate

import (
	"strconv"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/template"
	"github.com/wasmpolicy/policy/internal/throttle"
	"github.com/wasmpolicy/policy/stats"
)

var definition = policy.Define("headermutate", decode, New)

// Kind is the filter type "headermutate", built from the JSON form of
// Config.
var Kind = definition.Kind()

// Filter is a chain entry for a Mutator built from cfg, for chains built in
// Go with policy.Static.
func Filter(cfg Config) policy.Spec { return definition.Spec(cfg) }

// Mutator is the header mutation filter. It denies a request only when a
// value renders invalid and its Config says DenyInvalid.
type Mutator struct {
	request, response []op
	deny              *policy.Response // nil with DropInvalid

	shadow  bool
	now     func() time.Time
	invalid *stats.Counter // headermutate_invalid_values_total
	log     throttle.Log
	logger  policy.Logger
}

// defaultDenyBody is the body of the DenyInvalid reply unless Deny sets one.
const defaultDenyBody = "invalid header value\n"

// New validates cfg and returns its Mutator. Errors name the offending field
// as a path in cfg's JSON form ("request.set.x-hello: ..."). env names the
// filter in the log and holds its metric; it may be nil, to validate a
// Config, and the Mutator then counts into no registry.
func New(cfg Config, env *policy.Env) (*Mutator, error) {
	req, err := compile("request", cfg.Request, requestPseudo)
	if err != nil {
		return nil, err
	}
	resp, err := compile("response", cfg.Response, responsePseudo)
	if err != nil {
		if cfg.shorthand {
			err = fromShorthand(err)
		}
		return nil, err
	}
	if len(req) == 0 && len(resp) == 0 {
		return nil, errNothingToDo
	}
	m := &Mutator{request: req, response: resp, now: time.Now, invalid: new(stats.Counter)}
	switch cfg.InvalidValue {
	case "", DropInvalid:
		if d := cfg.Deny; d.Status != 0 || len(d.Headers) != 0 || d.Body != "" || d.ContentType != "" {
			return nil, conf.Errorf("deny", `is only used with "invalid_value": "deny"`)
		}
	case DenyInvalid:
		r, err := cfg.Deny.Response(policy.Response{Status: 400, Body: defaultDenyBody})
		if err != nil {
			return nil, conf.Within("deny", err)
		}
		m.deny = &r
	default:
		return nil, conf.Errorf("invalid_value", `must be "drop" or "deny", not %q`, string(cfg.InvalidValue))
	}
	if env != nil {
		m.shadow, m.now, m.logger = env.Mode == policy.Shadow, env.Now, env.Log()
		m.invalid = env.Counter("headermutate_invalid_values_total")
	}
	return m, nil
}

// OnRequestHeaders applies the request operations.
func (m *Mutator) OnRequestHeaders(x *policy.Exchange) policy.Result {
	return m.apply(x, &requestHeaders, m.request)
}

// OnResponseHeaders applies the response operations, to the upstream's
// response and to local replies alike.
func (m *Mutator) OnResponseHeaders(x *policy.Exchange) policy.Result {
	return m.apply(x, &responseHeaders, m.response)
}

// op is one validated operation.
type op struct {
	name      string
	remove    bool
	action    AppendAction
	value     template.Template
	keepEmpty bool
}

// headerMap is one side's headers as the Exchange offers them.
type headerMap struct {
	side   string // "request" or "response"
	get    func(x *policy.Exchange, name string) (string, bool)
	set    func(x *policy.Exchange, name, value string)
	add    func(x *policy.Exchange, name, value string)
	remove func(x *policy.Exchange, name string)
}

var (
	requestHeaders = headerMap{
		"request",
		(*policy.Exchange).RequestHeader, (*policy.Exchange).SetRequestHeader,
		(*policy.Exchange).AddRequestHeader, (*policy.Exchange).RemoveRequestHeader,
	}
	responseHeaders = headerMap{
		"response",
		(*policy.Exchange).ResponseHeader, (*policy.Exchange).SetResponseHeader,
		(*policy.Exchange).AddResponseHeader, (*policy.Exchange).RemoveResponseHeader,
	}
)

// apply runs ops on one side. An operation whose value renders invalid is
// skipped and counted; the first of the phase is logged (throttled) and,
// with DenyInvalid, answers the request once the others have run.
func (m *Mutator) apply(x *policy.Exchange, h *headerMap, ops []op) policy.Result {
	var bad *op
	var why template.Fault
	n := 0 // invalid values
	for i := range ops {
		o := &ops[i]
		if o.remove {
			h.remove(x, o.name)
			continue
		}
		v, f := o.value.Header(x)
		if !f.OK() {
			m.invalid.Inc()
			n++
			if bad == nil {
				bad, why = o, f
			}
			continue
		}
		if v == "" && !o.keepEmpty {
			continue
		}
		switch o.action {
		case AppendIfExistsOrAdd:
			h.add(x, o.name, v)
		case AddIfAbsent:
			if _, ok := h.get(x, o.name); !ok {
				h.add(x, o.name, v)
			}
		case OverwriteIfExistsOrAdd:
			h.set(x, o.name, v)
		case OverwriteIfExists:
			if _, ok := h.get(x, o.name); ok {
				h.set(x, o.name, v)
			}
		}
	}
	if bad == nil {
		return policy.Continue()
	}
	// A local reply is already the answer: its invalid values are dropped.
	deny := m.deny != nil && x.LocalResponse() == nil
	what := h.side + " header " + bad.name + ": " + why.String()
	m.report(what, h.side, deny, n)
	if !deny {
		return policy.Continue()
	}
	r := *m.deny
	r.Reason = "invalid value for " + what
	return policy.Deny(r)
}

// report logs the n invalid values of a phase, the first described by
// what (the header and the fault, never the value), with what was done
// about it, at most once a minute (package throttle).
func (m *Mutator) report(what, side string, deny bool, n int) {
	log, more := m.log.Report(m.now(), n)
	if !log {
		return
	}
	outcome := "the operation was skipped (invalid_value drop)"
	switch {
	case deny && m.shadow:
		outcome = "the operation was skipped; the " + side + " would be answered with " + strconv.Itoa(int(m.deny.Status)) + " (invalid_value deny), but shadow mode lets it through"
	case deny:
		outcome = "the operation was skipped and the " + side + " answered with " + strconv.Itoa(int(m.deny.Status)) + " (invalid_value deny)"
	case m.deny != nil:
		outcome = "the operation was skipped (invalid_value deny, but the response is already a local reply)"
	}
	if more > 0 {
		outcome += "; " + strconv.Itoa(more) + " more invalid values since the last report"
	}
	m.logger.Warnf("%s; %s", what, outcome)
}

// Interface guards.
var (
	_ policy.RequestHeadersFilter  = (*Mutator)(nil)
	_ policy.ResponseHeadersFilter = (*Mutator)(nil)
)

// MaxValueLength is the longest value, in bytes, the filter sends as a
// header value: the limit every filter keeps to, policy.MaxHeaderValue.
const MaxValueLength = policy.MaxHeaderValue
