package ratelimit

import (
	"bytes"
	"strconv"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/ascii"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/stats"
)

// Global is a limit that holds across proxies: each request is checked with
// Envoy's global rate limit service (github.com/envoyproxy/ratelimit, backed
// by Redis), which counts the requests of every proxy that asks it. In JSON
// it is the filter's "global" object:
//
//	"global": {"cluster": "ratelimit", "domain": "api", "timeout": "50ms",
//	  "descriptors": [
//	    {"entries": [{"generic_key": "per-client"}, {"request_header": {"name": "x-client", "key": "client"}}]},
//	    {"entries": [{"request_header": {"name": "x-client", "key": "client"}}, {"path": {}}]}],
//	  "failure_mode": "open"}
//
// The filter sends the service's RateLimitRequest, in protobuf JSON, as an
// HTTP callout: POST /json with
//
//	{"domain":"api","descriptors":[{"entries":[{"key":"generic_key","value":"per-client"},{"key":"client","value":"c1"}]}],"hitsAddend":1}
//
// and decides by the RateLimitResponse: OVER_LIMIT (HTTP 429) denies with
// the filter's "deny" reply (429 by default) and retry-after, the time
// until the longest of the over-limit windows resets, in whole seconds
// rounded up; OK (HTTP 200) lets the request through. With
// "rate_limit_headers" the reply, or the upstream's response, carries
// x-ratelimit-limit, -remaining and -reset of the most restrictive limit
// (the one with the fewest requests remaining), as Envoy's
// enable_x_ratelimit_headers: DRAFT_VERSION_03 writes them:
//
//	x-ratelimit-limit: 3, 3;w=60, 100;w=3600
//	x-ratelimit-remaining: 0
//	x-ratelimit-reset: 41
//
// except that the reset is rounded up, as retry-after is.
//
// A service that gives no usable answer (no answer within Timeout, a
// connection failure, a 5xx answer such as the service's 500 for UNKNOWN,
// any status but 200 and 429, an answer that is not the RateLimitResponse
// its status says) takes FailureMode. The request is never left paused.
//
// The local limit of the same filter (Limit and Rules) is checked first: a
// request it denies is answered without asking the service and is not
// counted there, so a client far over the limit costs no callout per
// request. The local limit then must be the looser one: it holds per proxy,
// and a local limit tighter than a proxy's share of the global one denies
// requests the service would have admitted. Requests it denies are not
// counted by the service either, which therefore sees fewer requests than
// clients sent; the global limit stays exact for the requests that reach it.
type Global struct {
	// Cluster is the Envoy cluster of the rate limit service's HTTP port
	// ("cluster", required).
	Cluster string
	// Authority is the :authority of the callout ("authority"); Cluster when
	// empty.
	Authority string
	// Domain is the service's domain the descriptors belong to ("domain",
	// required): the "domain" of its configuration file.
	Domain string
	// Timeout bounds each check ("timeout"); DefaultGlobalTimeout when 0,
	// at least 1ms.
	Timeout time.Duration
	// Descriptors are sent with each request ("descriptors", at least
	// one). A descriptor whose entries cannot all be built for a request
	// (a header it lacks, a match it does not meet) is left out, as Envoy
	// leaves it out; a request left with no descriptor is not checked.
	Descriptors []Descriptor
	// FailureMode decides requests the service gives no usable answer for
	// ("failure_mode"): policy.FailOpen lets them through,
	// policy.FailClosed denies them with StatusOnError. Empty means
	// policy.FailOpen, as Envoy's failure_mode_deny: false.
	FailureMode policy.FailureMode
	// StatusOnError is the status when failing closed ("status_on_error");
	// the filter's status_on_error, or its deny status, when 0.
	StatusOnError uint32
}

// Descriptor is one RateLimitRequest descriptor: the entries, in order,
// that the service's configuration matches against its nested
// descriptors.
type Descriptor struct {
	// Entries ("entries", at least one).
	Entries []Entry
}

// Entry builds one key/value entry of a descriptor from the request, as an
// action of Envoy's rate_limits does. In JSON an entry is an object with
// one of these fields:
//
//	{"generic_key": "per-client"}        key "generic_key", the given value
//	{"generic_key": {"key": "k", "value": "v"}}
//	{"request_header": {"name": "x-client", "key": "client"}}
//	                                      the header's first value; without
//	                                      the header the descriptor is left
//	                                      out, unless "default" gives a value
//	{"remote_address": {}}               key "remote_address": the client IP
//	{"path": {}}                         key "path": the path as a key
//	{"authority": {}}                    key "authority": the host in normal form
//	{"method": {}}                       key "method", upper-cased
//	{"route": {}}                        key "route": the route's name; left
//	                                      out when the route has none
//	{"header_value_match": {"match": {...}, "value": "admin"}}
//	                                      key "header_match", the value when
//	                                      the request possibly matches (see the
//	                                      match package; "body" conditions
//	                                      too); else left out
//	{"body": {"key": "tenant", "path": "order.tenant"}}
//	                                      key "body" by default: the field of
//	                                      the JSON request body, when every
//	                                      parser reads the same string, number
//	                                      or boolean; "(unreadable)" when they
//	                                      differ or the body cannot be read;
//	                                      left out without the field
//
// Every action but request_header takes an optional "key" for the entry's
// key. The path and the authority are the values the local limit keys its
// buckets with: the path's key (match.Request.PathKey: normal form, read
// loosely, in lower case) and the host in normal form
// (match.NormalizeHost), so every spelling of a path ("/a//b", "/a/./b",
// "/a;x/b", "/A/b/") counts as the path it stands for, and every spelling
// of an address ("127.1", "[::ffff:127.0.0.1]") as the address; a path or
// authority that cannot be read safely gets the value "(unreadable)",
// which no readable one has. Limits in the service's configuration are
// written for these values: "/login", not "/Login/". Bytes
// of a value that are not UTF-8 are replaced by U+FFFD, as the service's
// protobuf JSON requires.
type Entry struct {
	Action EntryAction
	// Key is the entry's key ("key"); empty means the action's name
	// ("header_match" for header_value_match). Required for
	// request_header.
	Key string
	// Value is the value of generic_key and header_value_match.
	Value string
	// Header is request_header's header name ("name").
	Header string
	// Default is request_header's value for a request without the header
	// ("default"); without it such a request leaves the descriptor out.
	Default string
	// Match is header_value_match's condition ("match").
	Match match.Match
	// Field is body's field of the JSON request body ("path":
	// "tenant"). The value is the field's string, number or boolean when
	// every parser reads the same one, "(unreadable)" when parsers read it
	// differently, it is of another kind or the body cannot be read; a
	// request without the field leaves the descriptor out. A request with
	// a body is checked once the body is there.
	Field string
}

// EntryAction is the kind of an Entry.
type EntryAction string

// The actions of an Entry.
const (
	GenericKey       EntryAction = "generic_key"
	RequestHeader    EntryAction = "request_header"
	RemoteAddress    EntryAction = "remote_address"
	PathEntry        EntryAction = "path"
	AuthorityEntry   EntryAction = "authority"
	MethodEntry      EntryAction = "method"
	RouteEntry       EntryAction = "route"
	HeaderValueMatch EntryAction = "header_value_match"
	BodyEntry        EntryAction = "body"
)

var entryActions = []EntryAction{GenericKey, RequestHeader, RemoteAddress, PathEntry, AuthorityEntry, MethodEntry, RouteEntry, HeaderValueMatch, BodyEntry}

// DefaultGlobalTimeout is Global.Timeout when it is 0: the default of
// Envoy's rate limit filter.
const DefaultGlobalTimeout = 20 * time.Millisecond

// unreadable is the value of a path or authority that cannot be read
// safely; a readable path starts with "/", a readable host has no "(".
const unreadable = "(unreadable)"

// Limits on descriptors, so that one request's check stays small.
const (
	maxDescriptors = 16
	maxEntries     = 16
)

func decodeGlobal(o *conf.Object) *Global {
	if !o.Raw().Exists() {
		return nil
	}
	g := &Global{
		Cluster:       o.String("cluster", ""),
		Authority:     o.String("authority", ""),
		Domain:        o.String("domain", ""),
		Timeout:       o.Duration("timeout", 0),
		FailureMode:   decodeFailureMode(o),
		StatusOnError: policy.DecodeStatus(o, "status_on_error", 0),
	}
	for _, d := range o.Objects("descriptors") {
		var desc Descriptor
		for _, e := range d.Objects("entries") {
			desc.Entries = append(desc.Entries, decodeEntry(e))
		}
		g.Descriptors = append(g.Descriptors, desc)
	}
	return g
}

func decodeEntry(e *conf.Object) Entry {
	var given []EntryAction
	for _, a := range entryActions {
		if e.Has(string(a)) {
			given = append(given, a)
		}
	}
	switch len(given) {
	case 0:
		e.Fail("", "must have one of the fields generic_key, request_header, remote_address, path, authority, method, route, header_value_match, body")
		return Entry{}
	case 1:
	default:
		e.Fail(string(given[1]), "cannot be combined with %s: an entry has one action", string(given[0]))
		return Entry{}
	}
	a := given[0]
	ent := Entry{Action: a}
	if a == GenericKey && e.Value("generic_key").Type == gjson.String {
		ent.Value = e.String("generic_key", "")
		return ent
	}
	o := e.Object(string(a))
	ent.Key = o.String("key", "")
	switch a {
	case GenericKey:
		ent.Value = o.String("value", "")
	case RequestHeader:
		ent.Header = o.String("name", "")
		ent.Default = o.String("default", "")
	case HeaderValueMatch:
		ent.Value = o.String("value", "")
		ent.Match = match.DecodeWithBody(o.Object("match"))
	case BodyEntry:
		ent.Field = o.String("path", "")
	}
	return ent
}

// global is a compiled Global.
type global struct {
	cluster   string
	headers   [][2]string // of the callout, without content-length
	domain    string
	timeout   time.Duration
	descs     [][]entry
	failOpen  bool
	onError   policy.Response // the fail-closed reply
	deny      policy.Response // the over-limit reply; Body nil for the default one
	rlHeaders bool
	costed    bool // the limits are budgets of costs: checks charge nothing
	enforce   bool // not in shadow mode

	// The charges of costs waiting for the next tick, by check request,
	// summed: a charge is sent from the plugin's context, which outlives
	// the request's (the proxy cancels a request's callouts when it ends).
	pending        map[string]int64
	charged        map[string]*stats.Counter // by result: ok, error
	droppedCharges *stats.Counter
	guard          func(func()) bool

	now      func() time.Time
	logs     errorLog // the service's failures
	ok, over *stats.Counter
	failed   *stats.Counter
	errs     map[string]*stats.Counter // by reason
	latency  stats.Histogram

	body []byte // the check request being built
}

type entry struct {
	action    EntryAction
	key, val  string // val: generic_key's and header_value_match's value, request_header's default
	header    string
	hasDef    bool
	when      *match.Matcher
	field     []string // body's
	keyQuoted []byte   // `{"key":"...","value":`
}

// The reasons of ratelimit_global_errors_total.
const (
	reasonUnavailable = "unavailable" // no answer: a timeout, a connection failure, a reset
	reasonServerError = "server_error"
	reasonRejected    = "rejected" // a status other than 200, 429 and 5xx
	reasonMalformed   = "malformed"
	reasonDispatch    = "dispatch" // the callout could not be sent
)

var globalReasons = []string{reasonUnavailable, reasonServerError, reasonRejected, reasonMalformed, reasonDispatch}

// compileGlobal validates g; errors are within "global". deny is the
// filter's reply to a limited request (Body nil for the default one) and
// onError the status of its failures.
func compileGlobal(g Global, deny policy.Response, onError uint32, rlHeaders bool) (*global, error) {
	at := func(key string) string { return conf.Join("global", key) }
	c := &global{cluster: g.Cluster, domain: g.Domain, timeout: g.Timeout, deny: deny, rlHeaders: rlHeaders,
		failOpen: g.FailureMode != policy.FailClosed}
	switch {
	case g.Cluster == "":
		return nil, conf.Errorf(at("cluster"), "is required: the Envoy cluster of the rate limit service")
	case g.Domain == "":
		return nil, conf.Errorf(at("domain"), "is required: the domain of the rate limit service's configuration")
	case g.Timeout == 0:
		c.timeout = DefaultGlobalTimeout
	case g.Timeout < time.Millisecond:
		return nil, conf.Errorf(at("timeout"), "must be at least 1ms, not %s", g.Timeout)
	}
	if err := g.FailureMode.Check(g.StatusOnError); err != nil {
		return nil, conf.Within("global", err)
	}
	authority := g.Authority
	if authority == "" {
		authority = g.Cluster
	}
	c.headers = [][2]string{{":method", "POST"}, {":path", "/json"}, {":authority", authority},
		{"content-type", "application/json"}}
	c.onError = deny
	c.onError.Status = g.StatusOnError
	if c.onError.Status == 0 {
		c.onError.Status = onError
	}
	if deny.Body == "" {
		c.onError.Body = `{"error":"rate limit service unavailable"}`
	}
	if len(g.Descriptors) == 0 {
		return nil, conf.Errorf(at("descriptors"), "must have at least one descriptor")
	}
	if len(g.Descriptors) > maxDescriptors {
		return nil, conf.Errorf(at("descriptors"), "must have at most %d descriptors, not %d", maxDescriptors, len(g.Descriptors))
	}
	for i, d := range g.Descriptors {
		path := at("descriptors" + conf.Index(i) + ".entries")
		if len(d.Entries) == 0 {
			return nil, conf.Errorf(path, "must have at least one entry")
		}
		if len(d.Entries) > maxEntries {
			return nil, conf.Errorf(path, "must have at most %d entries, not %d", maxEntries, len(d.Entries))
		}
		var es []entry
		for j, e := range d.Entries {
			ce, err := compileEntry(e, path+conf.Index(j))
			if err != nil {
				return nil, err
			}
			es = append(es, ce)
		}
		c.descs = append(c.descs, es)
	}
	return c, nil
}

func compileEntry(e Entry, path string) (entry, error) {
	at := func(key string) string { return conf.Join(path, conf.Join(string(e.Action), key)) }
	ce := entry{action: e.Action, key: e.Key}
	if ce.key == "" {
		ce.key = string(e.Action)
	}
	switch e.Action {
	case GenericKey:
		if e.Value == "" {
			if e.Key == "" {
				return ce, conf.Errorf(conf.Join(path, "generic_key"), "must not be empty")
			}
			return ce, conf.Errorf(at("value"), "is required")
		}
		ce.val = e.Value
	case RequestHeader:
		if e.Header == "" {
			return ce, conf.Errorf(at("name"), "is required")
		}
		// A token, so no pseudo-header: the path, authority and method
		// have their own actions.
		if !httptoken.Valid(e.Header) {
			return ce, conf.Errorf(at("name"), "must be a header name, not %q", e.Header)
		}
		if e.Key == "" {
			return ce, conf.Errorf(at("key"), "is required: the descriptor key the service's configuration names")
		}
		ce.header = policy.HeaderName(e.Header)
		ce.val, ce.hasDef = e.Default, e.Default != ""
	case HeaderValueMatch:
		if e.Value == "" {
			return ce, conf.Errorf(at("value"), "is required")
		}
		if ce.key == string(HeaderValueMatch) && e.Key == "" {
			ce.key = "header_match"
		}
		when, err := match.Compile(e.Match)
		if err != nil {
			return ce, conf.Within(at("match"), err)
		}
		ce.val, ce.when = e.Value, when
	case BodyEntry:
		field, err := match.ParseFieldPath(e.Field)
		if err != nil {
			return ce, conf.Errorf(at("path"), "%v", err)
		}
		ce.field = field
	case RemoteAddress, PathEntry, AuthorityEntry, MethodEntry, RouteEntry:
	default:
		return ce, conf.Errorf(path, "unknown action %q", string(e.Action))
	}
	switch {
	case e.Action != RequestHeader && (e.Header != "" || e.Default != ""):
		return ce, conf.Errorf(conf.Join(path, string(e.Action)), "takes no header name or default")
	case e.Action != GenericKey && e.Action != HeaderValueMatch && e.Value != "":
		return ce, conf.Errorf(conf.Join(path, string(e.Action)), "takes no value")
	}
	ce.keyQuoted = append(appendJSONString([]byte(`{"key":`), ce.key), `,"value":`...)
	return ce, nil
}

func (g *global) instrument(env *policy.Env) {
	g.now, g.enforce = env.Now, env.Mode == policy.Enforce
	check := func(result string) *stats.Counter {
		return env.Counter("ratelimit_global_checks_total", stats.Tag{Key: "result", Value: result})
	}
	g.ok, g.over, g.failed = check("ok"), check("over_limit"), check("error")
	g.errs = map[string]*stats.Counter{}
	for _, r := range globalReasons {
		g.errs[r] = env.Counter("ratelimit_global_errors_total", stats.Tag{Key: "reason", Value: r})
	}
	g.latency = env.Histogram("ratelimit_global_callout_milliseconds")
	g.logs = warnings(env)
	if g.costed {
		g.pending = map[string]int64{}
		g.charged = map[string]*stats.Counter{}
		for _, r := range []string{"ok", "error"} {
			g.charged[r] = env.Counter("ratelimit_global_charges_total", stats.Tag{Key: "result", Value: r})
		}
		g.droppedCharges = env.Counter("ratelimit_global_charges_dropped_total")
		g.guard = env.Guard
	}
}

// maxPending bounds the distinct charges a worker holds between two ticks;
// more are dropped, and counted.
const maxPending = 10000

// queue adds a cost of n to the charge of the check request check, to be
// sent on the next tick.
func (g *global) queue(check []byte, n int64) {
	if _, ok := g.pending[string(check)]; !ok && len(g.pending) >= maxPending {
		g.droppedCharges.Inc()
		return
	}
	g.pending[string(check)] = min(g.pending[string(check)]+n, maxCount)
}

// flush sends the charges queued since the last tick, one request to the
// service each, from the plugin's context.
func (g *global) flush() {
	for check, n := range g.pending {
		delete(g.pending, check)
		body := withAddend([]byte(check), n)
		headers := append(g.headers[:len(g.headers):len(g.headers)], [2]string{"content-length", strconv.Itoa(len(body))})
		_, err := proxywasm.DispatchHttpCall(g.cluster, headers, body, nil, uint32(g.timeout/time.Millisecond), func(numHeaders, _, _ int) {
			g.guard(func() { g.chargeAnswered(numHeaders) })
		})
		if err != nil {
			g.charged["error"].Inc()
			g.chargeFailed("the charge of " + strconv.FormatInt(n, 10) + " tokens could not be sent: " + err.Error())
		}
	}
}

// chargeAnswered counts the service's answer to a charge: 200 (under the
// limit) and 429 (over it, the charge counted all the same) are taken.
func (g *global) chargeAnswered(numHeaders int) {
	status := ""
	if numHeaders > 0 {
		if hs, err := proxywasm.GetHttpCallResponseHeaders(); err == nil {
			for _, h := range hs {
				if h[0] == ":status" {
					status = h[1]
				}
			}
		}
	}
	if status == "200" || status == "429" {
		g.charged["ok"].Inc()
		return
	}
	g.charged["error"].Inc()
	g.chargeFailed("the service answered with status " + strconv.Quote(status))
}

// chargeFailed logs a charge the service did not take (see errorLog).
func (g *global) chargeFailed(why string) {
	if skipped, ok := g.logs.due(g.now().UnixNano()); ok {
		g.logs.log("rate limit service " + strconv.Quote(g.cluster) + ": a charge was not taken: " + why +
			"; its tokens are not counted; " + skipped + " more failures since the last report")
	}
}

// request builds the check request for the request r; ok is false if no
// descriptor applies to it. With a cost, each descriptor asks with a
// hits_addend of 0: the check charges nothing, and the cost is charged
// once the response reports it (charge).
func (g *global) request(x *policy.Exchange) (body []byte, ok bool) {
	b := append(g.body[:0], `{"domain":`...)
	b = appendJSONString(b, g.domain)
	b = append(b, `,"descriptors":[`...)
	n := 0
	for _, d := range g.descs {
		start := len(b)
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"entries":[`...)
		complete := true
		for i := range d {
			e := &d[i]
			v, ok := e.value(x)
			if !ok {
				complete = false
				break
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e.keyQuoted...)
			b = appendJSONString(b, v)
			b = append(b, '}')
		}
		if !complete {
			b = b[:start]
			continue
		}
		if g.costed {
			b = append(b, "],"+zeroAddend...)
		} else {
			b = append(b, "]}"...)
		}
		n++
	}
	if g.costed {
		b = append(b, "]}"...)
	} else {
		b = append(b, `],"hitsAddend":1}`...)
	}
	g.body = b
	return b, n > 0
}

// zeroAddend ends a descriptor of a check that charges nothing. The
// entries' keys and values before it are JSON strings, in which every '"'
// is escaped, so the sequence occurs nowhere else in a check.
const zeroAddend = `"hitsAddend":0}`

// withAddend is the check request check with each descriptor's hits_addend
// set to n: the charge of a cost.
func withAddend(check []byte, n int64) []byte {
	return bytes.ReplaceAll(check, []byte(zeroAddend), []byte(`"hitsAddend":`+strconv.FormatInt(n, 10)+`}`))
}

// value is e's value for the request; ok is false if the descriptor is to
// be left out.
func (e *entry) value(x *policy.Exchange) (string, bool) {
	switch e.action {
	case GenericKey:
		return e.val, true
	case RequestHeader:
		if v, ok := x.RequestHeader(e.header); ok {
			return v, true
		}
		return e.val, e.hasDef
	case RemoteAddress:
		ip := x.SourceIP()
		return ip, ip != ""
	case PathEntry:
		if p, ok := x.Request().PathKey(); ok {
			return p, true
		}
		return unreadable, true
	case AuthorityEntry:
		if h, ok := x.Request().Host(); ok {
			return h, true
		}
		return unreadable, true
	case MethodEntry:
		m := upper(x.Method())
		return m, m != ""
	case RouteEntry:
		route := x.RouteName()
		return route, route != ""
	case HeaderValueMatch:
		return e.val, e.when.Possibly(x.Request())
	case BodyEntry:
		switch v, ok, absent := bodyField(x.Request(), e.field); {
		case ok:
			return v, true
		case absent:
			return "", false // no such field: the descriptor is left out
		}
		return unreadable, true
	}
	return "", false
}

// readsBody reports whether an entry of g reads the JSON request body.
func (g *global) readsBody() bool {
	for _, d := range g.descs {
		for _, e := range d {
			if e.action == BodyEntry || e.when.ReadsBody() {
				return true
			}
		}
	}
	return false
}

func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// check asks the service about the request and pauses the chain until the
// answer; a request no descriptor applies to continues.
func (g *global) check(x *policy.Exchange) policy.Result {
	body, ok := g.request(x)
	if !ok {
		return policy.Continue()
	}
	if b, ok := x.Scratch().(*bill); ok {
		b.check = append([]byte(nil), body...) // what its cost is charged to
	}
	headers := append(g.headers[:len(g.headers):len(g.headers)], [2]string{"content-length", strconv.Itoa(len(body))})
	sent := g.now()
	err := x.HTTPCall(g.cluster, headers, body, g.timeout, func(x *policy.Exchange, resp policy.CalloutResponse) policy.Result {
		elapsed := g.now().Sub(sent)
		g.latency.Record(uint64(elapsed.Milliseconds()))
		return g.answer(x, resp, elapsed)
	})
	if err != nil {
		return g.fail(reasonDispatch, "the check could not be sent: "+err.Error())
	}
	return policy.Pause()
}

// globalQuota is what the response phase needs of a global decision.
type globalQuota struct {
	headers [][2]string // x-ratelimit-*, nil if not enabled or no limit applied
	denied  bool
}

// answer decides the request by the service's answer, which took elapsed.
func (g *global) answer(x *policy.Exchange, resp policy.CalloutResponse, elapsed time.Duration) policy.Result {
	switch {
	case len(resp.Headers) == 0 && elapsed >= g.timeout:
		return g.fail(reasonUnavailable, "no answer within the "+g.timeout.String()+" timeout")
	case len(resp.Headers) == 0:
		return g.fail(reasonUnavailable, "no answer after "+millis(elapsed)+": a connection failure or a reset")
	case resp.Status >= 500 && resp.Status <= 599:
		return g.fail(reasonServerError, "answered "+strconv.Itoa(resp.Status)+": "+quoteStart(resp.Body))
	case resp.Status != 200 && resp.Status != 429:
		s, _ := resp.Header(":status")
		return g.fail(reasonRejected, "answered "+strconv.Quote(s)+": "+quoteStart(resp.Body))
	}
	if !gjson.ValidBytes(resp.Body) {
		return g.fail(reasonMalformed, "answered "+strconv.Itoa(resp.Status)+" with a body that is not JSON: "+quoteStart(resp.Body))
	}
	doc := gjson.ParseBytes(resp.Body)
	code := doc.Get("overallCode")
	want := "OK"
	if resp.Status == 429 {
		want = "OVER_LIMIT"
	}
	if code.Type != gjson.String || code.Str != want {
		return g.fail(reasonMalformed, "answered "+strconv.Itoa(resp.Status)+" with overallCode "+strconv.Quote(code.Raw)+", not "+strconv.Quote(want))
	}
	st, err := parseStatuses(doc.Get("statuses"))
	if err != "" {
		return g.fail(reasonMalformed, "answered "+strconv.Itoa(resp.Status)+" with "+err)
	}
	var q globalQuota
	if g.rlHeaders {
		q.headers = st.headers()
	}
	if want == "OK" {
		g.ok.Inc()
		if q.headers != nil {
			g.keepGlobal(x, &q)
		}
		return policy.Continue()
	}
	g.over.Inc()
	q.denied = true
	g.keepGlobal(x, &q)
	retry := seconds(st.retryAfter)
	out := g.deny
	if out.Body == "" {
		out.Body = withRetryAfter(exceededBody(st.overLimit), retry)
	}
	out.Headers = append([][2]string{{"retry-after", strconv.FormatInt(retry, 10)}}, g.deny.Headers...)
	out.Headers = append(out.Headers, q.headers...)
	out.Reason = "global rate limit exceeded (domain " + g.domain + ")"
	return policy.Deny(out)
}

// keepGlobal keeps q for the response phase: in the request's bill, with a
// cost, which a refusal settles.
func (g *global) keepGlobal(x *policy.Exchange, q *globalQuota) {
	if b, ok := x.Scratch().(*bill); ok {
		b.global = q
		if q.denied && g.enforce {
			b.charged = true // refused: it costs nothing
		}
		return
	}
	x.SetScratch(q)
}

// statuses is what the filter takes from a RateLimitResponse's statuses.
type statuses struct {
	min        *status // the most restrictive status with a limit
	policies   []byte  // ", 3;w=60, 100;w=3600"
	retryAfter time.Duration
	overLimit  string // "3 per minute": the first over-limit status's limit
}

type status struct {
	limit, remaining int64
	reset            time.Duration
}

// windows are the service's units in seconds.
var windows = map[string]int64{"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 7 * 86400, "MONTH": 30 * 86400, "YEAR": 365 * 86400}

// parseStatuses reads the statuses; err says what is malformed.
func parseStatuses(list gjson.Result) (st statuses, err string) {
	if list.Exists() && !list.IsArray() {
		return st, "statuses that are not an array"
	}
	var mins status
	list.ForEach(func(_, s gjson.Result) bool {
		if !s.IsObject() {
			err = "a status that is not an object"
			return false
		}
		var one status
		reset := s.Get("durationUntilReset")
		if reset.Exists() {
			d, e := time.ParseDuration(reset.String())
			if reset.Type != gjson.String || e != nil || d < 0 {
				err = "durationUntilReset " + reset.Raw
				return false
			}
			one.reset = d
		}
		lim := s.Get("currentLimit")
		var window int64
		if lim.Exists() {
			n, ok := count(lim.Get("requestsPerUnit"))
			w, known := windows[lim.Get("unit").String()]
			if !ok || !known {
				err = "currentLimit " + lim.Raw
				return false
			}
			window = w
			one.limit = n
		}
		rem, ok := count(s.Get("limitRemaining"))
		if !ok {
			err = "limitRemaining " + s.Get("limitRemaining").Raw
			return false
		}
		one.remaining = rem
		code := s.Get("code").String()
		if code == "OVER_LIMIT" {
			d := one.reset
			if !reset.Exists() && window > 0 {
				d = time.Duration(window) * time.Second
			}
			if d > st.retryAfter {
				st.retryAfter = d
			}
			if st.overLimit == "" && lim.Exists() {
				st.overLimit = strconv.FormatInt(one.limit, 10) + " per " + ascii.Lower(lim.Get("unit").String())
			}
		}
		if lim.Exists() {
			st.policies = append(st.policies, ", "...)
			st.policies = strconv.AppendInt(st.policies, one.limit, 10)
			st.policies = append(st.policies, ";w="...)
			st.policies = strconv.AppendInt(st.policies, window, 10)
			if st.min == nil || one.remaining < mins.remaining {
				mins = one
				st.min = &mins
			}
		}
		return true
	})
	if st.retryAfter == 0 {
		st.retryAfter = time.Second
	}
	return st, err
}

// count reads a non-negative whole number; absent is 0.
func count(v gjson.Result) (int64, bool) {
	if !v.Exists() {
		return 0, true
	}
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	if v.Type == gjson.String { // protobuf JSON may write 64-bit numbers as strings
		n, err = strconv.ParseInt(v.Str, 10, 64)
	}
	return n, err == nil && n >= 0 && n <= maxCount
}

// headers are the x-ratelimit-* headers of the most restrictive status,
// nil if no status has a limit.
func (st *statuses) headers() [][2]string {
	if st.min == nil {
		return nil
	}
	return [][2]string{
		{"x-ratelimit-limit", strconv.FormatInt(st.min.limit, 10) + string(st.policies)},
		{"x-ratelimit-remaining", strconv.FormatInt(st.min.remaining, 10)},
		{"x-ratelimit-reset", strconv.FormatInt(seconds(st.min.reset), 10)},
	}
}

// fail decides a request the service gave no usable answer for: counted,
// logged (at most once a minute), then failure_mode.
func (g *global) fail(reason, why string) policy.Result {
	g.failed.Inc()
	g.errs[reason].Inc()
	g.report(g.now().UnixNano(), reason, why)
	if g.failOpen {
		return policy.Continue()
	}
	r := g.onError
	r.Reason = "rate limit service error (" + reason + "): " + why + "; failing closed"
	return policy.Deny(r)
}

// report logs the service's failure (see errorLog), at now.
func (g *global) report(now int64, reason, why string) {
	skipped, ok := g.logs.due(now)
	if !ok {
		return
	}
	outcome := "letting requests through (failure_mode open)"
	if !g.failOpen {
		outcome = "denying requests with " + strconv.Itoa(int(g.onError.Status)) + " (failure_mode closed)"
	}
	g.logs.log("rate limit service " + strconv.Quote(g.cluster) + ": " + why + " (" + reason + "); " +
		outcome + "; " + skipped + " more failures since the last report")
}

// millis is d in whole milliseconds: "3ms".
func millis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// quoteStart quotes the start of body for the log.
func quoteStart(body []byte) string {
	const shown = 120
	switch {
	case len(body) == 0:
		return "no body"
	case len(body) <= shown:
		return strconv.Quote(string(body))
	}
	return strconv.Quote(string(body[:shown])) + "..."
}
