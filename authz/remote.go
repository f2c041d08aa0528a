package authz

import (
	"strconv"
	"strings"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/stats"
)

// defaultTimeout is Envoy ext_authz's default.
const defaultTimeout = 200 * time.Millisecond

// remote asks an authorization service, as a compiled Remote.
type remote struct {
	cluster, pathPrefix string
	timeout             time.Duration
	send                []string // request headers sent to the service
	upstream, client    []string
	failOpen            bool
	onError             policy.Response // the fail-closed reply

	log                                  policy.Logger
	now                                  func() time.Time
	logs                                 throttle
	allowed, denied, failed, failedOpen  *stats.Counter
	unavailable, malformed, undispatched *stats.Counter
	serverError                          *stats.Counter
}

func compileRemote(c Remote, deny policy.Response) (*remote, error) {
	r := &remote{cluster: c.Cluster, pathPrefix: c.PathPrefix, timeout: c.Timeout, failOpen: c.FailureMode == policy.FailOpen, onError: deny}
	if r.cluster == "" {
		return nil, conf.Errorf("cluster", "is required")
	}
	if p := r.pathPrefix; p != "" && (p[0] != '/' || strings.ContainsAny(p, "?# ")) {
		return nil, conf.Errorf("path_prefix", `must start with "/" and hold no '?', '#' or space, not %q`, p)
	}
	if r.timeout == 0 {
		r.timeout = defaultTimeout
	}
	if r.timeout < time.Millisecond {
		return nil, conf.Errorf("timeout", "must be at least 1ms, not %s", r.timeout)
	}
	if err := c.FailureMode.Check(c.StatusOnError); err != nil {
		return nil, err
	}
	r.onError.Status = c.StatusOnError
	if r.onError.Status == 0 {
		r.onError.Status = 403
	}
	var err error
	if r.send, err = headerNames("request_headers", append([]string{"authorization"}, c.RequestHeaders...)); err != nil {
		return nil, err
	}
	if r.upstream, err = headerNames("upstream_headers", c.UpstreamHeaders); err != nil {
		return nil, err
	}
	if r.client, err = headerNames("client_headers", c.ClientHeaders); err != nil {
		return nil, err
	}
	return r, nil
}

// headerNames checks and lower-cases a list of header names, dropping
// repeats.
func headerNames(key string, names []string) ([]string, error) {
	var out []string
	for i, n := range names {
		if err := checkHeaderName(key+conf.Index(i), n); err != nil {
			return nil, err
		}
		n = policy.HeaderName(n)
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (r *remote) instrument(env *policy.Env) {
	r.now, r.log = env.Now, env.Log()
	r.logs.every = 10 * time.Second
	check := func(result string) *stats.Counter {
		return env.Counter("authz_remote_checks_total", stats.Tag{Key: "result", Value: result})
	}
	r.allowed, r.denied, r.failed = check("allowed"), check("denied"), check("error")
	fault := func(reason string) *stats.Counter {
		return env.Counter("authz_remote_errors_total", stats.Tag{Key: "reason", Value: reason})
	}
	r.unavailable, r.malformed, r.undispatched = fault("unavailable"), fault("malformed"), fault("dispatch")
	r.serverError = fault("server_error")
	r.failedOpen = env.Counter("authz_remote_fail_open_total")
}

// strip removes the client's own copies of the headers the service may
// set, so the upstream only ever sees the service's.
func (r *remote) strip(x *policy.Exchange) {
	for _, name := range r.upstream {
		if _, ok := x.RequestHeader(name); ok {
			x.RemoveRequestHeader(name)
		}
	}
}

// check sends the check request and pauses the chain until the answer.
func (r *remote) check(x *policy.Exchange) policy.Result {
	headers := [][2]string{
		{":method", x.Method()},
		{":path", r.pathPrefix + x.Path()},
		{":authority", x.Authority()},
		{"content-length", "0"},
	}
	for _, name := range r.send {
		for _, v := range x.RequestHeaderValues(name) {
			headers = append(headers, [2]string{name, v})
		}
	}
	sent := r.now()
	done := func(x *policy.Exchange, resp policy.CalloutResponse) policy.Result {
		return r.answer(x, resp, r.now().Sub(sent))
	}
	if err := x.HTTPCall(r.cluster, headers, nil, r.timeout, done); err != nil {
		return r.fail(r.undispatched, "the check request could not be sent: "+err.Error())
	}
	return policy.Pause()
}

// answer turns the service's answer, which took elapsed, into the chain's
// verdict; the chain resumes with it.
//
// What the proxy reports is all the filter knows of a failure. Envoy makes
// the call through its router, which answers it itself when the service
// cannot: 503 ("upstream connect error or disconnect/reset before
// headers. reset reason: connection failure", "no healthy upstream") when
// it cannot connect, 504 ("upstream request timeout") when the timeout
// expires. Those are 5xx answers, failures like the service's own 5xx.
// When the stream fails otherwise (a reset once the answer has begun, an
// answer too large to buffer), Envoy calls back with no headers at all and
// no reason. So the log gives the status and the start of the body of a 5xx
// answer, and for no answer only how long the call took: it names a
// timeout only when the timeout had passed.
func (r *remote) answer(x *policy.Exchange, resp policy.CalloutResponse, elapsed time.Duration) policy.Result {
	switch {
	case len(resp.Headers) == 0 && elapsed >= r.timeout:
		return r.fail(r.unavailable, "no response within the "+r.timeout.String()+" timeout (the proxy ended the call after "+millis(elapsed)+")")
	case len(resp.Headers) == 0:
		return r.fail(r.unavailable, "the proxy ended the call after "+millis(elapsed)+" without a response: "+
			"a connection failure, a reset or an answer too large to buffer (the proxy does not say which)")
	case resp.Status < 200 || resp.Status > 599:
		s, _ := resp.Header(":status")
		return r.fail(r.malformed, "malformed answer: status "+strconv.Quote(s))
	case resp.Status >= 500:
		return r.fail(r.serverError, "answered "+strconv.Itoa(resp.Status)+" after "+millis(elapsed)+
			" (timeout "+r.timeout.String()+"): "+quoteStart(resp.Body))
	case resp.Status < 300:
		r.allowed.Inc()
		for _, name := range r.upstream {
			for i, v := range valuesOf(resp.Headers, name) {
				if i == 0 {
					x.SetRequestHeader(name, v)
				} else {
					x.AddRequestHeader(name, v)
				}
			}
		}
		return policy.Continue()
	}
	r.denied.Inc()
	var headers [][2]string
	for _, name := range r.client {
		for _, v := range valuesOf(resp.Headers, name) {
			headers = append(headers, [2]string{name, v})
		}
	}
	return policy.Deny(policy.Response{Status: uint32(resp.Status), Headers: headers, Body: string(resp.Body),
		Reason: "the authorization service denied with " + strconv.Itoa(resp.Status)})
}

// millis is d in whole milliseconds: "3ms".
func millis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// bodyShown is how much of a failed answer's body the log shows.
const bodyShown = 120

// quoteStart quotes the start of body for the log, control characters
// escaped.
func quoteStart(body []byte) string {
	switch {
	case len(body) == 0:
		return "no body"
	case len(body) <= bodyShown:
		return strconv.Quote(string(body))
	}
	return strconv.Quote(string(body[:bodyShown])) + "..."
}

func valuesOf(headers [][2]string, name string) []string {
	var out []string
	for _, h := range headers {
		if h[0] == name {
			out = append(out, h[1])
		}
	}
	return out
}

// fail is the verdict when the service gave no usable answer: counted,
// logged (at most once per throttle period), then fail open or closed.
func (r *remote) fail(reason *stats.Counter, why string) policy.Result {
	r.failed.Inc()
	reason.Inc()
	verdict := policy.Continue()
	outcome := "allowed (failure_mode open)"
	if r.failOpen {
		r.failedOpen.Inc()
	} else {
		verdict = policy.Deny(r.onError)
		verdict.Response.Reason = "authorization service error: " + why
		outcome = "denied with " + strconv.Itoa(int(r.onError.Status)) + " (failure_mode closed)"
	}
	if ok, skipped := r.logs.allow(r.now()); ok {
		more := ""
		if skipped > 0 {
			more = " (" + strconv.Itoa(skipped) + " more errors since the last report)"
		}
		r.log.Warnf("authorization service %q: %s; request %s%s", r.cluster, why, outcome, more)
	}
	return verdict
}

// throttle lets a repeated log line through at most once per period, so an
// outage of the service does not write one line per request.
type throttle struct {
	every   time.Duration
	last    time.Time
	skipped int
}

// allow reports whether to log now, and how many lines were held back
// since the last one.
func (t *throttle) allow(now time.Time) (bool, int) {
	if !t.last.IsZero() && now.Sub(t.last) < t.every {
		t.skipped++
		return false, 0
	}
	skipped := t.skipped
	t.last, t.skipped = now, 0
	return true, skipped
}
