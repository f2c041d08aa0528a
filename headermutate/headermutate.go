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
//	%%                                        a literal '%'
//
// Any other use of '%' is a configuration error. A placeholder whose value is
// missing renders as "", and an operation whose whole value is "" is skipped
// unless keep_empty_value is true. Response operations read the request too.
//
// # Names and values
//
// Names are lower-cased (ASCII letters only, as Envoy does); other bytes,
// including non-ASCII letters, pass through. A name or value containing CR,
// LF or NUL is a configuration error, and so is a name containing ':',
// except that a request may set :authority, :method, :path and :scheme and a
// response may set :status (a literal code from 200 to 599). Pseudo-headers
// have exactly one value, so they can only be set, never added or removed.
//
// # Local replies
//
// When another filter denies a request, Envoy sends its local reply through
// the response phase of the plugin, so the response operations apply to it
// too: a denied request still carries the headers this filter adds.
package headermutate

import (
	"github.com/wasmpolicy/policy"
)

var definition = policy.Define("headermutate", decode, New)

// Kind is the filter type "headermutate", built from the JSON form of
// Config.
var Kind = definition.Kind()

// Filter is a chain entry for a Mutator built from cfg, for chains built in
// Go with policy.Static.
func Filter(cfg Config) policy.Spec { return definition.Spec(cfg) }

// Mutator is the header mutation filter. It never denies a request.
type Mutator struct {
	request, response []op
}

// New validates cfg and returns its Mutator. Errors name the offending field
// as a path in cfg's JSON form ("request.set.x-hello: ..."). The filter
// keeps no metrics of its own, so env may be nil.
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
	return &Mutator{request: req, response: resp}, nil
}

// OnRequestHeaders applies the request operations.
func (m *Mutator) OnRequestHeaders(x *policy.Exchange) policy.Result {
	apply(x, &requestHeaders, m.request)
	return policy.Continue()
}

// OnResponseHeaders applies the response operations, to the upstream's
// response and to local replies alike.
func (m *Mutator) OnResponseHeaders(x *policy.Exchange) policy.Result {
	apply(x, &responseHeaders, m.response)
	return policy.Continue()
}

// op is one validated operation.
type op struct {
	name      string
	remove    bool
	action    AppendAction
	value     template
	keepEmpty bool
}

// headerMap is one side's headers as the Exchange offers them.
type headerMap struct {
	get    func(x *policy.Exchange, name string) (string, bool)
	set    func(x *policy.Exchange, name, value string)
	add    func(x *policy.Exchange, name, value string)
	remove func(x *policy.Exchange, name string)
}

var (
	requestHeaders = headerMap{
		(*policy.Exchange).RequestHeader, (*policy.Exchange).SetRequestHeader,
		(*policy.Exchange).AddRequestHeader, (*policy.Exchange).RemoveRequestHeader,
	}
	responseHeaders = headerMap{
		(*policy.Exchange).ResponseHeader, (*policy.Exchange).SetResponseHeader,
		(*policy.Exchange).AddResponseHeader, (*policy.Exchange).RemoveResponseHeader,
	}
)

func apply(x *policy.Exchange, h *headerMap, ops []op) {
	for _, o := range ops {
		if o.remove {
			h.remove(x, o.name)
			continue
		}
		v := o.value.render(x)
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
}

// Interface guards.
var (
	_ policy.RequestHeadersFilter  = (*Mutator)(nil)
	_ policy.ResponseHeadersFilter = (*Mutator)(nil)
)
