// Package ratelimit limits request rates with token buckets that hold for
// the whole proxy: each bucket is one record in the proxy's shared data,
// updated by compare-and-swap, so Envoy's worker VMs draw from the same
// bucket instead of each admitting the full rate.
//
// A bucket holds burst tokens and refills whole fills at a fixed interval,
// computed from the elapsed time when a request arrives (Envoy's
// local_ratelimit semantics). Requests can share one bucket or get one per
// value of a key (a header, the client IP, the path or a prefix of it, the
// route), and ordered rules give different routes different limits. The
// number of buckets per key is bounded; idle buckets are reclaimed.
//
// A key's bucket is placed by a keyed hash (SipHash-2-4) under a secret of
// 32 random bytes, so that clients cannot choose key values that collide
// with another client's and crowd it out. The first worker VM that needs
// the secret draws it and stores it in shared data, where every other
// worker reads it. A plugin reload within the same proxy process (new VMs,
// a new configuration) keeps the secret, and keys keep their buckets; a
// proxy restart empties shared data and draws a new secret. If shared data
// fails while the secret is read, the request is decided by failure_mode
// like any other shared-data failure, and the next request tries again.
// The secret is never logged.
//
// In JSON (the plugin configuration), the filter is named "ratelimit":
//
//	{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}}
//
// In Go: policy.Static(ratelimit.Filter(ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 2}})).
//
// Rules select requests with the match object every filter shares (see the
// match package):
//
//	"rules": [{"match": {"path": {"prefix": "/login"}}, "limit": {"requests_per_unit": 5, "unit": "minute"}}]
//
// A request that some backend could read as matching a rule counts against
// it: "/LOGIN", "//login" and "/x/..;/login" count against the limit on
// "/login", and, as other backends read them as other paths, against the
// later rules and the default limit too. The path parts of a key ("path",
// "path_segments:n") are the path in normal form, so "/login", "//login"
// and "/login;x" share one bucket.
//
// Rules may look at fields of the JSON request body ("body" in the match
// object) and a key may take one ("body:tenant"): a request with a body is
// then limited once the body is there. A key takes the field only when
// every parser reads the same string, number or boolean there; a body that
// reads two ways (a key given twice) shares the fallback bucket of
// requests without the key. Without such a rule or key the filter reads no
// body.
//
// A denied request gets 429 with retry-after (whole seconds, rounded up)
// and a small JSON body, or the reply configured as "deny":
//
//	"deny": {"status": 503, "body": "slow down\n", "headers": {"cache-control": "no-store"}}
//
// A limit that holds across proxies ("global", see Global) asks Envoy's
// global rate limit service (github.com/envoyproxy/ratelimit, backed by
// Redis) about each request the local limit lets through, by an HTTP
// callout with descriptors built from the request as Envoy's rate_limits
// actions build them:
//
//	"global": {"cluster": "ratelimit", "domain": "api",
//	  "descriptors": [{"entries": [{"request_header": {"name": "x-client", "key": "client"}}]}]}
//
// A limit can be a budget of what requests cost rather than of requests
// ("cost", see Cost): the tokens an LLM API reports in each response's
// usage, read from a JSON response or from the events of a streamed one as
// they pass, never holding the response:
//
//	{"tokens_per_fill": 100000, "fill_interval": "1h", "key": ["header:x-api-key"],
//	 "cost": {"field": "usage.total_tokens", "default": 1000, "include_usage": true}}
//
// A request is admitted while its bucket has a token left; its response's
// cost is then drawn from the bucket, which a request may overdraw by its
// own cost. tokens charged are counted in
// ratelimit_cost_tokens_total{model,result=reported|default|error}, and
// responses that reported no cost in ratelimit_cost_missing_total.
//
// The chain counts the filter's decisions (filter_decisions_total with
// decision allowed, denied or shadow_denied); the filter adds
// ratelimit_shared_data_errors_total, ratelimit_cas_conflicts_total and
// ratelimit_overflow_total, and with a global limit
// ratelimit_global_checks_total{result=ok|over_limit|error},
// ratelimit_global_errors_total{reason=unavailable|server_error|rejected|malformed|dispatch}
// and the histogram ratelimit_global_callout_milliseconds.
package ratelimit

import (
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/stats"
)

var definition = policy.Define("ratelimit", decodeConfig, New)

// Kind builds the filter from its JSON configuration (see ParseConfig).
var Kind = definition.Kind()

// Filter returns cfg as a filter of a chain built in Go; name it or run it
// in shadow mode with the Spec's WithID and Shadow methods.
func Filter(cfg Config) policy.Spec { return definition.Spec(cfg) }

// Limiter is the rate-limit filter. Build it with New (or through Kind or
// Filter). A Limiter serves the requests of one worker VM; the state it
// shares with the other workers is in the proxy's shared data.
type Limiter struct {
	c       *compiled
	id      string
	enforce bool
	data    policy.SharedData

	errs, conflicts, overflow *stats.Counter
	errLog                    errorLog
	log                       policy.Logger
	cost                      costMetrics // with a Cost

	// The current request's key and record: requests run one at a time in
	// a VM.
	key []byte
	rec []byte // the record being written
}

// New validates cfg and builds the filter; env is the one the chain passes
// to a spec's Build. Errors name the JSON path of the offending field.
func New(cfg Config, env *policy.Env) (*Limiter, error) {
	domain := cfg.Domain
	if domain == "" {
		domain = env.ID
	}
	c, err := compile(cfg, domain)
	if err != nil {
		return nil, err
	}
	l := &Limiter{c: c, id: env.ID, enforce: env.Mode == policy.Enforce,
		errs:      env.Counter("ratelimit_shared_data_errors_total"),
		conflicts: env.Counter("ratelimit_cas_conflicts_total"),
		overflow:  env.Counter("ratelimit_overflow_total"),
		errLog:    warnings(env),
		log:       env.Log(),
	}
	if c.global != nil {
		c.global.instrument(env)
	}
	if c.cost != nil {
		l.cost = c.cost.instrument(env)
	}
	if c.worker {
		l.data = newMemStore()
	} else {
		l.data = env.SharedData()
	}
	return l, nil
}

// OnRequestHeaders takes a token from the request's bucket, or denies it.
// A request that possibly matches a rule without certainly matching it (a
// path that backends read differently) takes a token from that rule's
// bucket and goes on to the next rule, until one certainly matches: it
// counts against every limit any reading of it meets.
//
// When a rule or a key reads the JSON body, the chain calls it once a
// request's body is there (ReadsRequestBody).
func (l *Limiter) OnRequestHeaders(x *policy.Exchange) policy.Result {
	req := x.Request()
	var q quota
	var limiting *rule // the rule whose quota q is
	var b *bill        // with a Cost
	if l.c.cost != nil {
		b = &bill{}
		x.SetScratch(b)
	}
	for _, r := range l.c.rules {
		if !r.when.Possibly(req) {
			continue
		}
		if rq, limited := l.take(r, x, b); limited && (limiting == nil || rq.tighter(q)) {
			q, limiting = rq, r
		}
		if r.when.Certainly(req) {
			break
		}
	}
	if limiting != nil {
		if l.c.headers && q.known {
			if b != nil {
				b.quota, b.hasQuota = q, true
			} else {
				kept := q // only this copy escapes, so requests without headers do not allocate
				x.SetScratch(&kept)
			}
		}
		if !q.allowed {
			if b != nil {
				if l.enforce {
					b.charged = true // refused: it costs nothing
				} else {
					l.prepare(x, b) // in shadow mode it goes on, and is charged
				}
			}
			return policy.Deny(l.c.denial(limiting, q))
		}
	}
	if b != nil {
		l.prepare(x, b)
	}
	if l.c.global != nil {
		return l.c.global.check(x)
	}
	return policy.Continue()
}

// take takes a token for the request from r's bucket; limited is false if
// r lets the request through without a bucket (its key is missing and
// missing_key is "allow").
//
// With a Cost (b is the request's bill), the bucket only has to hold a
// token, and the request is billed to it.
func (l *Limiter) take(r *rule, x *policy.Exchange, b *bill) (q quota, limited bool) {
	name := r.tbl.single
	l.key = l.key[:0]
	if r.parts != nil {
		var ok bool
		if l.key, ok = l.appendKey(l.key, r.parts, x); ok {
			name = "" // the key's own bucket
		} else if r.allowMissing {
			return quota{}, false
		} else {
			name = r.tbl.fallback
		}
	}
	if b == nil {
		return l.check(r, name, l.key, x.StartTime().UnixNano(), drawOne), true
	}
	b.admit(r, name, l.key)
	return l.check(r, name, l.key, x.StartTime().UnixNano(), hasTokens), true
}

// OnResponseHeaders adds the x-ratelimit-* headers to a response the
// filter let through (or denied in shadow mode); its own local reply
// carries them already. With a Cost, it also reads from the headers how
// the response reports its cost.
func (l *Limiter) OnResponseHeaders(x *policy.Exchange) policy.Result {
	var g *globalQuota
	var q *quota
	var b *bill
	switch v := x.Scratch().(type) {
	case *bill:
		b, g = v, v.global
		if v.hasQuota {
			q = &v.quota
		}
	case *globalQuota:
		g = v
	case *quota:
		q = v
	}
	// The filter's own reply to a request it denied has them already.
	ownReply := l.enforce && x.LocalResponse() != nil
	switch {
	case g != nil:
		if !g.denied || !ownReply {
			for _, h := range g.headers {
				x.SetResponseHeader(h[0], h[1])
			}
		}
	case q != nil:
		if q.allowed || !ownReply {
			for _, h := range q.headers() {
				x.SetResponseHeader(h[0], h[1])
			}
		}
	}
	if b != nil && !b.charged {
		l.costHeaders(x, b)
	}
	return policy.Continue()
}

// ReadsRequestBody implements policy.BodyReader: the request body is read
// only when a rule, a key or a global descriptor reads it.
func (l *Limiter) ReadsRequestBody() bool { return l.c.body }

// tighter reports whether q is a tighter limit than p: a denial, or fewer
// tokens left.
func (q quota) tighter(p quota) bool {
	if q.allowed != p.allowed {
		return !q.allowed
	}
	return q.remaining < p.remaining
}

// quota is a decision as the response reports it.
type quota struct {
	allowed    bool
	known      bool // false when the shared data failed
	limit      int64
	remaining  int64
	reset      time.Duration // to the next fill
	retryAfter time.Duration // for a denial
}

// BodyPhases implements policy.BodyPhases: the filter reads the response
// as it passes only for a Cost.
func (l *Limiter) BodyPhases() (request, response bool) { return false, l.c.cost != nil }

// check decides one request for the bucket name (or, if name is empty, for
// key's bucket) of r at now, applying apply to it.
func (l *Limiter) check(r *rule, name string, key []byte, now int64, apply op) quota {
	o := update(l.data, r.tbl, name, key, now, &l.rec, apply)
	l.conflicts.Add(uint64(o.retries))
	if o.spilled {
		l.overflow.Inc()
	}
	if o.err != nil {
		l.errs.Inc()
		l.errLog.report(now, o.err, l.c.failClosed)
		return quota{allowed: !l.c.failClosed, retryAfter: time.Duration(r.tbl.rate.interval)}
	}
	return quota{allowed: o.allowed, known: true, limit: o.b.burst, remaining: o.b.tokens,
		reset: o.b.reset(now), retryAfter: o.b.wait(now, 1)}
}

var (
	_ policy.RequestHeadersFilter  = (*Limiter)(nil)
	_ policy.ResponseHeadersFilter = (*Limiter)(nil)
	_ policy.ResponseStreamFilter  = (*Limiter)(nil)
	_ policy.StreamDoneFilter      = (*Limiter)(nil)
	_ policy.BodyPhases            = (*Limiter)(nil)
	_ policy.TickFilter            = (*Limiter)(nil)
)
