package ratelimit

import (
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/internal/conf"
)

// Config is the configuration of one rate-limit filter. In JSON the fields
// of Limit sit at the top level of the filter's "config" object:
//
//	{"requests_per_unit": 100, "unit": "minute", "key": ["header:x-api-key"],
//	 "rules": [{"match": {"path_prefix": "/login"}, "limit": {"requests_per_unit": 5, "unit": "minute", "key": ["source_ip"]}}],
//	 "rate_limit_headers": true}
//
// A request is limited by the first rule whose Match it satisfies, or else
// by Limit; with neither, it is not limited.
type Config struct {
	// Limit applies to requests no rule matches. It is required when there
	// are no rules; with rules, a zero Limit lets the other requests through.
	Limit
	// Rules are tried in order ("rules"); the first that matches decides.
	Rules []Rule
	// Scope is where the buckets live ("scope"): ScopeProxy (the default)
	// or ScopeWorker.
	Scope Scope
	// FailureMode says what happens to a request when the shared data
	// fails or stays contended ("failure_mode"): FailOpen (the default)
	// lets it through, FailClosed denies it. Either way it is counted in
	// ratelimit_shared_data_errors_total and logged (once per minute at
	// most).
	FailureMode FailureMode
	// Status is the HTTP status of a denied request ("status", 400 to
	// 599). Zero means 429.
	Status int
	// Body is the body of a denied request ("body"). Empty means a small
	// JSON document naming the limit and the retry time:
	//	{"error":"rate limit exceeded","limit":"2 per second","retry_after":1}
	Body string
	// ContentType is the denied response's content-type ("content_type");
	// by default application/json for the default body and text/plain
	// for a configured one.
	ContentType string
	// RateLimitHeaders adds x-ratelimit-limit (the burst),
	// x-ratelimit-remaining (tokens left) and x-ratelimit-reset (seconds to
	// the next fill) to allowed and denied responses
	// ("rate_limit_headers"). Denied responses always carry retry-after.
	RateLimitHeaders bool
	// Domain names the buckets in shared data ("domain"); the filter's ID
	// when empty. Filters with the same domain in plugins that share a VM
	// id share their buckets (and must then configure the same limits).
	Domain string
}

// Limit is a token bucket and how requests are assigned to buckets. Give
// the rate as RequestsPerUnit and Unit, or as TokensPerFill and
// FillInterval.
//
// The bucket holds Burst tokens and starts full; a request takes one. Each
// unit (or FillInterval) adds RequestsPerUnit (or TokensPerFill) tokens, up
// to Burst. Fills come whole, as in Envoy's local_ratelimit: 2 per second
// admits at most 2 requests within any second once the bucket is drained.
// For a smoother limit, fill less more often: 1 every 500ms.
type Limit struct {
	// RequestsPerUnit is the number of requests per Unit
	// ("requests_per_unit", > 0).
	RequestsPerUnit int64
	// Unit is the period of RequestsPerUnit ("unit"): second (the
	// default), minute, hour or day.
	Unit Unit
	// TokensPerFill is the number of tokens each FillInterval adds
	// ("tokens_per_fill", > 0), instead of RequestsPerUnit.
	TokensPerFill int64
	// FillInterval is the period of TokensPerFill ("fill_interval", a
	// duration such as "500ms").
	FillInterval time.Duration
	// Burst is the bucket's size ("burst"): how many requests may come at
	// once after a quiet period. Zero means the tokens of one fill.
	Burst int64
	// Key gives each distinct value its own bucket ("key"); nil means one
	// bucket for every request. Each part is one of:
	//	header:<name>      the request header's first value
	//	source_ip          the client's IP address, without the port
	//	path               the path, without the query
	//	path_segments:<n>  the path's first n segments ("/api/v1" for n = 2)
	//	route              the name of the route Envoy matched
	// Several parts combine: one bucket per distinct combination.
	Key []string
	// MissingKey says what happens to a request that lacks a key part
	// ("missing_key"): MissingKeyFallback (the default) limits all such
	// requests with one shared fallback bucket; MissingKeyAllow lets them
	// through unlimited.
	MissingKey MissingKey
	// MaxKeys bounds the number of buckets a keyed limit keeps
	// ("max_keys", ≥ 1). Zero means DefaultMaxKeys. A key whose slots are
	// all held by active buckets shares one overflow bucket; a bucket that
	// is full again (idle for a fill or more) frees its slot, so clients
	// cycling through key values cannot grow the proxy's memory.
	MaxKeys int
}

// Rule limits the requests that match it.
type Rule struct {
	// Match selects the requests ("match"); an empty Match selects all.
	Match Match
	// Limit is the limit they get ("limit").
	Limit Limit
}

// Match selects requests; every condition given must hold.
type Match struct {
	// Methods are request methods, any of which matches ("methods").
	Methods []string
	// Path is an exact path, without the query ("path").
	Path string
	// PathPrefix is a path prefix ("path_prefix"); "/api/" matches
	// "/api/users" but not "/apis".
	PathPrefix string
	// Headers are conditions on request headers ("headers").
	Headers []HeaderMatch
}

// HeaderMatch is a condition on one request header.
type HeaderMatch struct {
	// Name is the header's name ("name"), matched ignoring case.
	Name string
	// Equals, if not empty, is the value the header must have ("equals");
	// if empty, the header must be present with any value.
	Equals string
	// Absent requires the header to be missing instead ("present":
	// false).
	Absent bool
}

// Unit is the period of Limit.RequestsPerUnit.
type Unit string

// The units of Limit.Unit.
const (
	Second Unit = "second"
	Minute Unit = "minute"
	Hour   Unit = "hour"
	Day    Unit = "day"
)

// Scope is where a filter keeps its buckets.
type Scope string

const (
	// ScopeProxy keeps every bucket in the proxy's shared data, so the
	// limit holds for the proxy as a whole, across all worker VMs.
	ScopeProxy Scope = "proxy"
	// ScopeWorker keeps buckets in each worker VM's memory: every worker
	// limits separately, and the proxy admits up to the number of workers
	// times the limit. It never touches shared data.
	ScopeWorker Scope = "worker"
)

// FailureMode decides requests when the shared data cannot.
type FailureMode string

// The failure modes.
const (
	FailOpen   FailureMode = "open"
	FailClosed FailureMode = "closed"
)

// MissingKey decides requests that lack a part of the key.
type MissingKey string

// The ways to treat requests without the key.
const (
	MissingKeyFallback MissingKey = "fallback"
	MissingKeyAllow    MissingKey = "allow"
)

// DefaultMaxKeys is the bound on a keyed limit's buckets when MaxKeys is 0.
const DefaultMaxKeys = 10000

// ParseConfig decodes a JSON filter configuration. It rejects unknown
// fields, wrong types and explicit zeros where zero is not a value; New
// checks the rest.
func ParseConfig(config gjson.Result) (Config, error) {
	o := conf.New("", config)
	cfg := Config{
		Limit:            decodeLimit(o),
		Scope:            Scope(o.String("scope", "")),
		FailureMode:      FailureMode(o.String("failure_mode", "")),
		Status:           int(o.Int("status", 0)),
		Body:             o.String("body", ""),
		ContentType:      o.String("content_type", ""),
		RateLimitHeaders: o.Bool("rate_limit_headers", false),
		Domain:           o.String("domain", ""),
	}
	if cfg.Status == 0 && o.Has("status") {
		o.Fail("status", "must be between 400 and 599, not 0")
	}
	if rules := o.Objects("rules"); rules != nil {
		cfg.Rules = make([]Rule, len(rules))
		for i, r := range rules {
			m := r.Object("match")
			cfg.Rules[i].Match = decodeMatch(m)
			r.Check(m.Err())
			l := r.Object("limit")
			if !r.Has("limit") {
				r.Fail("limit", "is required")
			}
			cfg.Rules[i].Limit = decodeLimit(l)
			r.Check(l.Err())
			o.Check(r.Err())
		}
	}
	return cfg, o.Err()
}

func decodeLimit(o *conf.Object) Limit {
	return Limit{
		RequestsPerUnit: positive(o, "requests_per_unit"),
		Unit:            Unit(o.String("unit", "")),
		TokensPerFill:   positive(o, "tokens_per_fill"),
		FillInterval:    o.Duration("fill_interval", 0),
		Burst:           positive(o, "burst"),
		Key:             o.Strings("key"),
		MissingKey:      MissingKey(o.String("missing_key", "")),
		MaxKeys:         int(positive(o, "max_keys")),
	}
}

func decodeMatch(o *conf.Object) Match {
	m := Match{Methods: o.Strings("methods"), Path: o.String("path", ""), PathPrefix: o.String("path_prefix", "")}
	for _, h := range o.Objects("headers") {
		hm := HeaderMatch{Name: h.RequiredString("name"), Equals: h.String("equals", "")}
		hm.Absent = !h.Bool("present", true)
		if h.Has("equals") && hm.Equals == "" {
			h.Fail("equals", `must not be empty; use "present": true to require the header with any value`)
		}
		m.Headers = append(m.Headers, hm)
		o.Check(h.Err())
	}
	return m
}

// positive reads a count whose zero value means "the default": absent is
// 0, and an explicit 0 or a negative number is an error.
func positive(o *conf.Object, key string) int64 {
	v := o.Int(key, 0)
	if o.Has(key) {
		o.Check(conf.Within(conf.Join(o.Path(), key), checkCount(v)))
	}
	return v
}
