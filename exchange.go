package policy

import (
	"encoding/binary"
	"strings"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	"github.com/wasmpolicy/policy/internal/ascii"
	"github.com/wasmpolicy/policy/internal/bridge"
	"github.com/wasmpolicy/policy/internal/envoyheaders"
	"github.com/wasmpolicy/policy/match"
)

// Exchange is one request and its response as the filters of a chain see
// them. Filters use it instead of calling the proxy themselves: headers are
// read from the proxy once per phase and cached, mutations are written
// through to the proxy and to the cache, and request properties are read at
// most once.
//
// An Exchange is valid until its stream ends: the plugin then reuses it for
// a later request, unless the stream made an HTTP call or paused (whose
// late answer or Resume may still reach it).
type Exchange struct {
	stream *stream

	reqHeaders  [][2]string
	reqLoaded   bool
	respHeaders [][2]string
	respLoaded  bool
	// respOne is the one response header read so far when the others are
	// not: response filters usually need only :status, and one value costs
	// less to read than the whole map.
	respOne header

	props   []property // read so far; a handful, so a slice beats a map
	start   time.Time
	local   *Response
	scratch []any
	values  []value // what filters published for later ones (SetValue)
	current int     // index in the chain of the filter being called

	view    match.Request // the request as matchers read it (Request)
	viewSet bool          // view is this request's
}

// header is one header lookup: the name, and its first value if found.
type header struct {
	name, value string
	found, read bool
}

// forget drops the value when the header map changes; once one header has
// been read on its own, the next lookup reads them all.
func (h *header) forget() { h.name, h.value, h.found = "", "", false }

// property is a proxy property read during the exchange: its path joined
// with NUL bytes, and its value.
type property struct {
	key   string
	value string
	ok    bool
}

// RequestHeader returns the first value of the request header name. Names
// match ASCII case-insensitively, as HTTP's do ("X-Role" finds x-role); a
// lower-case name, as the proxy delivers them, is the cheapest to look up.
func (x *Exchange) RequestHeader(name string) (string, bool) {
	return lookup(x.RequestHeaders(), HeaderName(name))
}

// RequestHeaderValues returns every value of the request header name,
// matched as RequestHeader matches it.
func (x *Exchange) RequestHeaderValues(name string) []string {
	return lookupAll(x.RequestHeaders(), HeaderName(name))
}

// RequestHeaders returns all request headers, pseudo-headers included. The
// slice is the cache: do not modify it.
func (x *Exchange) RequestHeaders() [][2]string {
	if !x.reqLoaded {
		x.reqHeaders, _ = bridge.HeaderMap(bridge.RequestHeaders, x.reqHeaders)
		x.reqLoaded = true
	}
	return x.reqHeaders
}

// SetRequestHeader replaces every value of name with value.
func (x *Exchange) SetRequestHeader(name, value string) {
	name = HeaderName(name)
	x.view.Changed(name)
	if proxywasm.ReplaceHttpRequestHeader(name, value) == nil && x.reqLoaded {
		x.reqHeaders = set(x.reqHeaders, name, value)
	}
}

// AddRequestHeader adds a value to name, keeping the values already there.
// Envoy makes it one more entry of the header, except for the headers it
// keeps as one entry (its inline headers: x-forwarded-for, via,
// user-agent, ...), whose value it appends to the present one after a
// comma; the getters then read the joined value back from the proxy.
func (x *Exchange) AddRequestHeader(name, value string) {
	name = HeaderName(name)
	x.view.Changed(name)
	if proxywasm.AddHttpRequestHeader(name, value) == nil && x.reqLoaded {
		x.reqHeaders, x.reqLoaded = added(x.reqHeaders, envoyheaders.RequestHeaders, name, value)
	}
}

// added is the header cache list of map m after the proxy added value to
// name: the list with one more entry, as Envoy adds it, unless Envoy
// joined the value to the one present (an inline header, package
// envoyheaders; host, which a request map keeps as :authority); the list
// is then to be read back from the proxy.
func added(list [][2]string, m envoyheaders.Map, name, value string) ([][2]string, bool) {
	if _, present := lookup(list, name); present && envoyheaders.Inline(m, name) || name == "host" {
		return list, false
	}
	return append(list, [2]string{name, value}), true
}

// RemoveRequestHeader removes every value of name.
func (x *Exchange) RemoveRequestHeader(name string) {
	name = HeaderName(name)
	x.view.Changed(name)
	if proxywasm.RemoveHttpRequestHeader(name) == nil && x.reqLoaded {
		x.reqHeaders = remove(x.reqHeaders, name)
	}
}

// ResponseHeader returns the first value of the response header name,
// matched ASCII case-insensitively as RequestHeader matches it. The first
// name looked up is read from the proxy on its own; looking up a second one
// reads them all.
func (x *Exchange) ResponseHeader(name string) (string, bool) {
	name = HeaderName(name)
	if !x.respLoaded {
		if !x.respOne.read {
			v, err := bridge.HeaderValue(bridge.ResponseHeaders, name)
			x.respOne = header{name: name, value: v, found: err == nil, read: true}
		}
		if x.respOne.name == name {
			return x.respOne.value, x.respOne.found
		}
	}
	return lookup(x.ResponseHeaders(), name)
}

// ResponseHeaderValues returns every value of the response header name,
// matched as RequestHeader matches it.
func (x *Exchange) ResponseHeaderValues(name string) []string {
	return lookupAll(x.ResponseHeaders(), HeaderName(name))
}

// ResponseHeaders returns all response headers, :status included. The slice
// is the cache: do not modify it.
func (x *Exchange) ResponseHeaders() [][2]string {
	if !x.respLoaded {
		x.respHeaders, _ = bridge.HeaderMap(bridge.ResponseHeaders, x.respHeaders)
		x.respLoaded = true
	}
	return x.respHeaders
}

// SetResponseHeader replaces every value of name with value.
func (x *Exchange) SetResponseHeader(name, value string) {
	name = HeaderName(name)
	x.respOne.forget()
	if proxywasm.ReplaceHttpResponseHeader(name, value) == nil && x.respLoaded {
		x.respHeaders = set(x.respHeaders, name, value)
	}
}

// AddResponseHeader adds a value to name, keeping the values already
// there, as AddRequestHeader does.
func (x *Exchange) AddResponseHeader(name, value string) {
	name = HeaderName(name)
	x.respOne.forget()
	if proxywasm.AddHttpResponseHeader(name, value) == nil && x.respLoaded {
		x.respHeaders, x.respLoaded = added(x.respHeaders, envoyheaders.ResponseHeaders, name, value)
	}
}

// RemoveResponseHeader removes every value of name.
func (x *Exchange) RemoveResponseHeader(name string) {
	name = HeaderName(name)
	x.respOne.forget()
	if proxywasm.RemoveHttpResponseHeader(name) == nil && x.respLoaded {
		x.respHeaders = remove(x.respHeaders, name)
	}
}

// Request is the request as the match package reads it: the readings of
// its path, its normal host, the methods it claims, its source address.
// They are worked out on first use and at most once per request, and every
// filter of the chain shares them: match conditions take it
// (m.Possibly(x.Request())). A request header changed through the
// Exchange (a filter that rewrites :path) makes it read again what it
// derived from that header, so the filters after that one see the request
// as it now is.
//
// A request that has no body has an empty one there; a request body is set
// when the chain has read it, in the request body phase (see
// match.Request.SetBody), and is unreadable to match conditions until then
// or when it was over body_limit.
func (x *Exchange) Request() *match.Request {
	if !x.viewSet {
		x.view.Reset(x)
		x.viewSet = true
		if s := x.stream; !s.reqBodyFollows {
			x.view.SetBody(nil)
		} else if s.reqBodyRead {
			x.view.SetBody(s.reqBody)
		}
	}
	return &x.view
}

// RequestBody returns the request's whole body, and whether the chain has
// it: from the request body phase on for a request with a body (not when
// it was over body_limit), always for one without (nil). A BodyReader
// deciding in the body phase reads it here; a filter that changes it
// calls SetRequestBody.
func (x *Exchange) RequestBody() ([]byte, bool) {
	s := x.stream
	if !s.reqBodyFollows {
		return nil, true
	}
	return s.reqBody, s.reqBodyRead
}

// BodyTooLarge reports, in a body phase, whether the body was over the
// plugin's body_limit and not read: the body filters then get nil, cannot
// replace it, and match conditions on it find it unreadable.
func (x *Exchange) BodyTooLarge() bool {
	s := x.stream
	return (s.phase == phaseRequestBody || s.phase == phaseResponseBody) && s.unread[side(s.phase)]
}

// Method is the request method (:method).
func (x *Exchange) Method() string { v, _ := x.RequestHeader(":method"); return v }

// Path is the request path with its query string (:path).
func (x *Exchange) Path() string { v, _ := x.RequestHeader(":path"); return v }

// Authority is the request's host (:authority).
func (x *Exchange) Authority() string { v, _ := x.RequestHeader(":authority"); return v }

// Scheme is the request scheme (:scheme).
func (x *Exchange) Scheme() string { v, _ := x.RequestHeader(":scheme"); return v }

// RequestID is the request's x-request-id, which Envoy sets on every request.
func (x *Exchange) RequestID() string { v, _ := x.RequestHeader("x-request-id"); return v }

// SourceAddress is the downstream peer's address with its port, from the
// proxy's source.address property.
func (x *Exchange) SourceAddress() string {
	v, _ := x.Property("source", "address")
	return v
}

// SourceIP is SourceAddress without the port: "10.0.0.1:5000" gives
// "10.0.0.1", "[2001:db8::1]:443" gives "2001:db8::1".
func (x *Exchange) SourceIP() string { return hostOf(x.SourceAddress()) }

// hostOf strips the port from host:port and the brackets from [ipv6]:port.
// An address without a port is returned as it is.
func hostOf(addr string) string {
	if strings.HasPrefix(addr, "[") {
		if end := strings.IndexByte(addr, ']'); end > 0 {
			return addr[1:end]
		}
		return addr
	}
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && strings.IndexByte(addr, ':') == i {
		return addr[:i]
	}
	return addr // no port, or a bare IPv6 address
}

// RouteName is the name of the route Envoy matched (route_name property),
// empty if it has none.
func (x *Exchange) RouteName() string {
	v, _ := x.Property("route_name")
	return v
}

// Property reads a proxy property (an Envoy attribute such as
// "source","address") once per exchange.
func (x *Exchange) Property(path ...string) (string, bool) {
	for _, p := range x.props {
		if samePath(p.key, path) {
			return p.value, p.ok
		}
	}
	v, err := bridge.PropertyString(path)
	p := property{key: strings.Join(path, "\x00"), value: v, ok: err == nil}
	x.props = append(x.props, p)
	return p.value, p.ok
}

// samePath reports whether key is path joined with NUL bytes, without
// joining it.
func samePath(key string, path []string) bool {
	for i, seg := range path {
		if i > 0 {
			if key == "" || key[0] != 0 {
				return false
			}
			key = key[1:]
		}
		if !strings.HasPrefix(key, seg) {
			return false
		}
		key = key[len(seg):]
	}
	return key == ""
}

// requestTime is the path of Envoy's request.time attribute.
var requestTime = []string{"request", "time"}

// StartTime is when the request arrived: Envoy's request.time attribute, or
// the plugin's clock when the proxy does not provide it. Time-based filters
// (rate limits) decide with it, which also lets tests drive time through the
// request.time property.
func (x *Exchange) StartTime() time.Time {
	if x.start.IsZero() {
		// Read directly rather than through Property: every rate-limited
		// request needs it, and decoding the bytes needs no allocation.
		if ns, ok := bridge.Uint64Property(requestTime); ok {
			x.start = time.Unix(0, int64(ns))
		} else {
			x.start = x.stream.pc.plugin.now()
		}
	}
	return x.start
}

// EncodeTime encodes t as Envoy encodes the request.time attribute
// (nanoseconds since the Unix epoch, little-endian), for tests that set it.
func EncodeTime(t time.Time) []byte {
	return binary.LittleEndian.AppendUint64(nil, uint64(t.UnixNano()))
}

// LocalResponse is the local reply sent for this request, if any.
func (x *Exchange) LocalResponse() *Response { return x.local }

// Scratch returns the calling filter's per-request value (nil at first).
// State is the typed way to keep one.
func (x *Exchange) Scratch() any { return x.scratch[x.current] }

// SetScratch sets the calling filter's per-request value.
func (x *Exchange) SetScratch(v any) { x.scratch[x.current] = v }

// State returns the calling filter's per-request state of type T: a zero T
// made on the filter's first call of State in each request, the same one
// on every later call, in every phase of the request. It is the filter's
// Scratch value, typed: what OnRequestHeaders notes there,
// OnResponseHeaders reads.
//
//	type seen struct{ tenant string }
//
//	type tenantFilter struct{}
//
//	func (f tenantFilter) OnRequestHeaders(x *policy.Exchange) policy.Result {
//		policy.State[seen](x).tenant, _ = x.RequestHeader("x-tenant")
//		return policy.Continue()
//	}
//
//	func (f tenantFilter) OnResponseHeaders(x *policy.Exchange) policy.Result {
//		x.SetResponseHeader("x-tenant", policy.State[seen](x).tenant)
//		return policy.Continue()
//	}
func State[T any](x *Exchange) *T {
	if p, ok := x.scratch[x.current].(*T); ok {
		return p
	}
	p := new(T)
	x.scratch[x.current] = p
	return p
}

// value is one entry of the values filters publish.
type value struct{ key, v any }

// SetValue publishes v under key for the filters that run after the calling
// one in this request: a verifying filter publishes what it verified (a
// token's claims) for a deciding one to read. Use an unexported key type of
// your package, as with context.Context, so no other filter can set it.
func (x *Exchange) SetValue(key, v any) {
	for i := range x.values {
		if x.values[i].key == key {
			x.values[i].v = v
			return
		}
	}
	x.values = append(x.values, value{key, v})
}

// Value returns what was published under key in this request, or nil.
func (x *Exchange) Value(key any) any {
	for _, e := range x.values {
		if e.key == key {
			return e.v
		}
	}
	return nil
}

// Resume ends a pause: the chain goes on as if the paused filter had
// returned r. Calling it when the chain is not paused does nothing.
func (x *Exchange) Resume(r Result) { x.stream.resume(r) }

// The helpers below take a header name the caller lower-cased with
// HeaderName, and match it against the stored names with sameName.

func lookup(headers [][2]string, name string) (string, bool) {
	for _, h := range headers {
		if sameName(h[0], name) {
			return h[1], true
		}
	}
	return "", false
}

func lookupAll(headers [][2]string, name string) []string {
	var out []string
	for _, h := range headers {
		if sameName(h[0], name) {
			out = append(out, h[1])
		}
	}
	return out
}

func set(headers [][2]string, name, value string) [][2]string {
	return append(remove(headers, name), [2]string{name, value})
}

func remove(headers [][2]string, name string) [][2]string {
	out := headers[:0]
	for _, h := range headers {
		if !sameName(h[0], name) {
			out = append(out, h)
		}
	}
	return out
}

// sameName reports whether a stored header name is name (lower case),
// ASCII letters folded: the proxy delivers names in lower case, but hosts
// and emulators may not.
func sameName(stored, name string) bool { return ascii.EqualFold(stored, name) }

// HeaderName returns a header name as the proxy delivers it: with its ASCII
// letters lower-cased, and nothing else changed (Envoy leaves other bytes
// alone). It does not allocate when the name is already lower case.
// Filters normalize the header names of their configuration with it.
func HeaderName(name string) string { return ascii.Lower(name) }
