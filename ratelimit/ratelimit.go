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
// In JSON (the plugin configuration), the filter is named "ratelimit":
//
//	{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}}
//
// In Go: policy.Static(ratelimit.Filter(ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 2}})).
//
// A denied request gets 429 with retry-after (whole seconds, rounded up)
// and a small JSON body. The chain counts the filter's decisions
// (filter_decisions_total with decision allowed, denied or shadow_denied);
// the filter adds ratelimit_shared_data_errors_total,
// ratelimit_cas_conflicts_total and ratelimit_overflow_total.
package ratelimit

import (
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/stats"
)

// Kind builds the filter from its JSON configuration (see ParseConfig).
var Kind = policy.Kind{Name: "ratelimit", Build: func(config gjson.Result, env *policy.Env) (policy.Filter, error) {
	cfg, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	return build(cfg, env)
}}

// Filter returns cfg as a filter of a chain built in Go. Set the spec's ID
// and Mode to name it or to run it in shadow mode.
func Filter(cfg Config) policy.Spec {
	return policy.Spec{Kind: Kind.Name, Build: func(env *policy.Env) (policy.Filter, error) { return build(cfg, env) }}
}

// build is New as a policy.Filter, which is nil (not a nil *Limiter) on
// error.
func build(cfg Config, env *policy.Env) (policy.Filter, error) {
	l, err := New(cfg, env)
	if err != nil {
		return nil, err
	}
	return l, nil
}

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

	key []byte // the current request's key; requests run one at a time in a VM
	rec []byte // the record being written, likewise
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
		errLog:    errorLog{logf: proxywasm.LogWarnf},
	}
	if c.worker {
		l.data = newMemStore()
	} else {
		l.data = env.SharedData()
	}
	return l, nil
}

// OnRequestHeaders takes a token from the request's bucket, or denies it.
func (l *Limiter) OnRequestHeaders(x *policy.Exchange) policy.Result {
	r := l.c.match(x)
	if r == nil {
		return policy.Continue()
	}
	name := r.tbl.single
	l.key = l.key[:0]
	if r.parts != nil {
		var ok bool
		if l.key, ok = appendKey(l.key, r.parts, x); ok {
			name = "" // the key's own bucket
		} else if r.allowMissing {
			return policy.Continue()
		} else {
			name = r.tbl.fallback
		}
	}
	q := l.check(r, name, l.key, x.StartTime().UnixNano())
	if l.c.headers && q.known {
		kept := q // only this copy escapes, so requests without headers do not allocate
		x.SetScratch(&kept)
	}
	if q.allowed {
		return policy.Continue()
	}
	return policy.Deny(l.c.denial(r, q))
}

// OnResponseHeaders adds the x-ratelimit-* headers to a response the
// filter let through (or denied in shadow mode). Its own local reply
// carries them already.
func (l *Limiter) OnResponseHeaders(x *policy.Exchange) policy.Result {
	q, _ := x.Scratch().(*quota)
	if q == nil || !q.allowed && l.enforce && x.LocalResponse() != nil {
		return policy.Continue()
	}
	for _, h := range q.headers() {
		x.SetResponseHeader(h[0], h[1])
	}
	return policy.Continue()
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

// check decides one request for the bucket name (or, if name is empty, for
// key's bucket) of r at now.
func (l *Limiter) check(r *rule, name string, key []byte, now int64) quota {
	o := takeWith(l.data, r.tbl, name, key, now, &l.rec)
	l.conflicts.Add(uint64(o.retries))
	if o.spilled {
		l.overflow.Inc()
	}
	if o.err != nil {
		l.errs.Inc()
		l.errLog.report(l.id, now, o.err, l.c.failClosed)
		return quota{allowed: !l.c.failClosed, retryAfter: time.Duration(r.tbl.rate.interval)}
	}
	return quota{allowed: o.allowed, known: true, limit: o.b.burst, remaining: o.b.tokens,
		reset: o.b.reset(now), retryAfter: o.b.wait(now, 1)}
}

var (
	_ policy.RequestHeadersFilter  = (*Limiter)(nil)
	_ policy.ResponseHeadersFilter = (*Limiter)(nil)
)
