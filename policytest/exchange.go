package policytest

import (
	"strings"
	"time"
)

// Request is one HTTP request to replay through the plugin, with what the
// upstream answers if the plugin lets it through. The zero value is
// GET / on example.com, answered 200 with no body.
type Request struct {
	// Method, Path and Authority become the pseudo-headers :method, :path
	// (with the query, as the client sent it) and :authority; they default
	// to GET, / and example.com. Scheme (:scheme) defaults to http.
	Method, Path, Authority, Scheme string
	// Headers are the request's other headers, in order; a name may
	// repeat. Names are sent in lower case, as Envoy gives them to a
	// plugin. A pseudo-header here (":authority") takes the place of its
	// field, so that a test can send one twice, or a malformed one.
	Headers [][2]string
	// Body is the request body; the plugin gets it in one piece after the
	// headers, as Envoy gives a buffered body.
	Body string
	// Source is the client's address, "ip:port" (the source.address
	// property); 10.0.0.1:50000 if empty.
	Source string
	// Route is the name of the route the request matched (route_name).
	Route string
	// Properties set or override this request's properties, keyed by their
	// path with "." between segments ("request.useragent").
	Properties map[string]string

	// Upstream is the upstream's answer to the request as the plugin
	// forwards it; nil is 200 with no headers and no body. Set Answer
	// instead to answer from a function.
	Upstream *Response
	// Answer, if set, answers the forwarded request in place of Upstream.
	Answer func(f *Forwarded) *Response
}

// source is r.Source, or the address a request without one comes from.
func (r Request) source() string {
	if r.Source == "" {
		return "10.0.0.1:50000"
	}
	return r.Source
}

// requestHeaders are r's headers as Do gives them to the plugin, natively
// or in the kit's host.
func requestHeaders(r Request) [][2]string {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	var headers [][2]string
	for _, h := range [][2]string{
		{":method", or(r.Method, "GET")}, {":path", or(r.Path, "/")},
		{":authority", or(r.Authority, "example.com")}, {":scheme", or(r.Scheme, "http")},
	} {
		if values(r.Headers, h[0]) == nil { // a pseudo-header in Headers replaces the field
			headers = append(headers, h)
		}
	}
	for _, h := range r.Headers {
		headers = append(headers, [2]string{strings.ToLower(h[0]), h[1]})
	}
	return headers
}

// Response is an HTTP response: what the upstream answers, or what a
// callout gets back.
type Response struct {
	Status  int
	Headers [][2]string
	Body    string
}

// Forwarded is the request as the plugin let it through to the upstream.
type Forwarded struct {
	// Headers are the headers as the plugin left them, pseudo-headers
	// included.
	Headers [][2]string
	Body    string
}

// Method is the forwarded :method.
func (f *Forwarded) Method() string { return first(f.Headers, ":method") }

// Path is the forwarded :path.
func (f *Forwarded) Path() string { return first(f.Headers, ":path") }

// Header is the first value of the header name, or "" if there is none.
func (f *Forwarded) Header(name string) string { return first(f.Headers, name) }

// Values is every value of the header name, in order.
func (f *Forwarded) Values(name string) []string { return values(f.Headers, name) }

// Result is what came of a request.
type Result struct {
	// Status, Headers and Body are the response the client gets, as the
	// plugin left it (its response phases have run), :status not among the
	// headers.
	Status  int
	Headers [][2]string
	Body    string

	// Forwarded is the request as the upstream got it; nil if it never
	// reached the upstream.
	Forwarded *Forwarded
	// LocalReply is set if the plugin answered the request itself, in a
	// request phase (the upstream was never asked) or by replacing the
	// upstream's response. Envoy passes a local reply sent in a request
	// phase through the plugin's response phases, and so does the kit.
	LocalReply bool
	// DeniedBy is, for a plugin built on this module's dispatcher, the id
	// of the filter whose denial made the local reply, and Reason the
	// reason it gave (from the line the dispatcher logs at debug level).
	DeniedBy, Reason string
	// Details are Envoy's response code details: "via_upstream", the
	// plugin's own for a local reply, "wasm_fail_stream" after a trap.
	Details string
	// Logs are the lines the plugin logged while it worked on this request.
	Logs []Log
	// Duration is how long the request took in the plugin and the host,
	// the upstream's answer included.
	Duration time.Duration
	// Err is set if the request did not complete normally: the plugin
	// trapped (the VM is then failed, and Status is 503, as Envoy answers),
	// it paused the request and never resumed it (504), or it closed the
	// stream (Status 0).
	Err error
}

// Header is the first value of the response header name, or "" if there
// is none.
func (r *Result) Header(name string) string { return first(r.Headers, name) }

// Values is every value of the response header name, in order; nil if
// there is none.
func (r *Result) Values(name string) []string { return values(r.Headers, name) }

// Callout is an HTTP call the plugin makes (proxy_http_call), as the
// function given to Callouts gets it.
type Callout struct {
	// Cluster is the upstream cluster the plugin named.
	Cluster string
	// Headers include :method, :path and :authority.
	Headers [][2]string
	Body    string
	// Timeout is the plugin's timeout for the call.
	Timeout time.Duration
}

// Method is the call's :method.
func (c Callout) Method() string { return first(c.Headers, ":method") }

// Path is the call's :path.
func (c Callout) Path() string { return first(c.Headers, ":path") }

// Header is the first value of the header name, or "" if there is none.
func (c Callout) Header(name string) string { return first(c.Headers, name) }

// Log is one line the plugin logged.
type Log struct {
	// Level is "trace", "debug", "info", "warn", "error" or "critical".
	// What the plugin writes to stdout comes at "info", to stderr at
	// "error"; the host's report of a trap at "critical".
	Level   string
	Message string
}

func (l Log) String() string { return "[" + l.Level + "] " + l.Message }

// values compares names case-insensitively, as HTTP does, so that a header
// a test expects gone cannot hide behind another spelling.
func values(headers [][2]string, name string) []string {
	var out []string
	for _, h := range headers {
		if strings.EqualFold(h[0], name) {
			out = append(out, h[1])
		}
	}
	return out
}

func first(headers [][2]string, name string) string {
	for _, h := range headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}
