package ratelimit

import (
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// Config is the configuration of one rate-limit filter. In JSON the fields
// of Limit sit at the top level of the filter's "config" object:
//
//	{"requests_per_unit": 100, "unit": "minute", "key": ["header:x-api-key"],
//	 "rules": [{"match": {"path": {"prefix": "/login"}}, "limit": {"requests_per_unit": 5, "unit": "minute", "key": ["source_ip"]}}],
//	 "deny": {"status": 429}, "rate_limit_headers": true}
//
// A request is limited by the first rule whose Match it satisfies, or else
// by Limit; with neither, it is not limited.
type Config struct {
	// Limit applies to requests no rule matches. It is required when there
	// are neither rules nor a Global limit; otherwise a zero Limit lets the
	// other requests through.
	Limit
	// Rules are tried in order ("rules"); the first that matches decides.
	// A request whose path or headers read differently to different
	// backends (see the match package) counts against every rule it
	// possibly matches, up to the first it certainly matches (and against
	// Limit if it certainly matches none), so no spelling of a path
	// escapes the limit of the path it stands for.
	Rules []Rule
	// Scope is where the buckets live ("scope"): ScopeProxy or
	// ScopeWorker; empty means ScopeProxy.
	Scope Scope
	// FailureMode says what happens to a request when the shared data
	// fails or stays contended ("failure_mode"): policy.FailOpen lets it
	// through, policy.FailClosed denies it with StatusOnError; empty means
	// policy.FailOpen. Either way it is counted in
	// ratelimit_shared_data_errors_total and logged (once per minute at
	// most).
	FailureMode policy.FailureMode
	// StatusOnError ("status_on_error") is the status of a request denied
	// because the shared data failed; the Deny status when 0.
	StatusOnError uint32
	// Deny ("deny") is the reply to a limited request: 429 (when
	// Deny.Status is 0) with retry-after and, when Deny.Body is empty, a
	// small JSON body naming the limit and the retry time (content-type
	// application/json):
	//	{"error":"rate limit exceeded","limit":"2 per second","retry_after":1}
	// A configured body is sent as text/plain; charset=utf-8 unless
	// Deny.ContentType is set. Deny.Headers cannot set the headers the
	// filter sets itself: retry-after and x-ratelimit-*.
	Deny policy.DenyResponse
	// RateLimitHeaders adds x-ratelimit-limit (the burst),
	// x-ratelimit-remaining (tokens left) and x-ratelimit-reset (seconds to
	// the next fill) to allowed and denied responses
	// ("rate_limit_headers"). Denied responses always carry retry-after.
	RateLimitHeaders bool
	// Domain names the buckets in shared data ("domain"); the filter's ID
	// when empty. Filters with the same domain in plugins that share a VM
	// id share their buckets (and must then configure the same limits).
	Domain string
	// Global, if set, also checks each request the local limit lets
	// through with Envoy's global rate limit service ("global"); see
	// Global. Without Rules, Limit is then optional.
	Global *Global
	// Cost, if set, makes the limits budgets of what each request's
	// response reports it cost, such as the tokens an LLM API used
	// ("cost"), local and global alike; see Cost.
	Cost *Cost
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
	// Unit is the period of RequestsPerUnit ("unit"): Second, Minute, Hour
	// or Day; empty means Second.
	Unit Unit
	// TokensPerFill is the number of tokens each FillInterval adds
	// ("tokens_per_fill", > 0), instead of RequestsPerUnit.
	TokensPerFill int64
	// FillInterval is the period of TokensPerFill ("fill_interval", a
	// duration such as "500ms", at least MinFillInterval).
	FillInterval time.Duration
	// Burst is the bucket's size ("burst"): how many requests may come at
	// once after a quiet period. Zero means the tokens of one fill.
	Burst int64
	// Key gives each distinct value its own bucket ("key"); nil means one
	// bucket for every request. Each part is one of:
	//	header:<name>      the request header's first value
	//	source_ip          the client's IP address, without the port
	//	path               the path's key (below)
	//	path_segments:<n>  its first n segments ("/api/v1" for n = 2)
	//	route              the name of the route Envoy matched
	//	body:<path>        a field of the JSON request body ("body:tenant")
	// Several parts combine: one bucket per distinct combination. The
	// path's key (see match.Request.PathKey) gives every spelling of a path
	// one bucket: "/a//b", "/a/./b", "/a;x/b", "/A/b", "/a./b" and "/a/b/"
	// are "/a/b". Paths that cannot be read safely ("/a%00", "/a#b") share
	// one bucket. A body field is a string, a number or a boolean, and is
	// missing (below) if the body does not have one there, cannot be read,
	// or reads differently to different parsers (a key given twice; see the
	// match package's "JSON bodies"). The global limit's path and authority entries send the
	// same values.
	Key []string
	// MissingKey says what happens to a request that lacks a key part
	// ("missing_key"): MissingKeyFallback limits all such requests with
	// one shared fallback bucket; MissingKeyAllow lets them through
	// unlimited. Empty means MissingKeyFallback.
	MissingKey MissingKey
	// MaxKeys bounds the number of keys a keyed limit keeps a bucket of
	// their own for ("max_keys", ≥ 1). Zero means DefaultMaxKeys. A key
	// whose slots are all held by active buckets draws from one of
	// MaxKeys overflow buckets, shared with the other keys that spill
	// there; a bucket that is full again (idle for a fill or more) frees
	// its slot, so clients cycling through key values cannot grow the
	// proxy's memory. Slots and overflow buckets are chosen by a keyed
	// hash under a secret of the proxy's (see the package documentation),
	// so clients cannot pick values that collide with another client's:
	// denying a client that way takes the traffic of MaxKeys clients each
	// using its whole limit.
	MaxKeys int
}

// Rule limits the requests that match it.
type Rule struct {
	// Match selects the requests ("match"), in the shape every filter
	// shares (see the match package); the zero Match selects all.
	Match match.Match
	// Limit is the limit they get ("limit").
	Limit Limit
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
func ParseConfig(config gjson.Result) (Config, error) { return definition.Parse(config) }

func decodeConfig(o *conf.Object) Config {
	for _, old := range []string{"status", "body", "content_type"} {
		o.Moved(old, "deny."+old)
	}
	cfg := Config{
		Limit:            decodeLimit(o),
		Scope:            Scope(o.String("scope", "")),
		FailureMode:      decodeFailureMode(o),
		StatusOnError:    policy.DecodeStatus(o, "status_on_error", 0),
		Deny:             policy.DecodeDenyResponse(o.Object("deny")),
		RateLimitHeaders: o.Bool("rate_limit_headers", false),
		Domain:           o.String("domain", ""),
		Global:           decodeGlobal(o.Object("global")),
		Cost:             decodeCost(o.Object("cost")),
	}
	if rules := o.Objects("rules"); rules != nil {
		cfg.Rules = make([]Rule, len(rules))
		for i, r := range rules {
			m := r.Object("match")
			oldMatch(m)
			cfg.Rules[i].Match = match.DecodeWithBody(m)
			if !r.Has("limit") {
				r.Fail("limit", "is required")
			}
			cfg.Rules[i].Limit = decodeLimit(r.Object("limit"))
		}
	}
	return cfg
}

// oldMatch reports the forms a rule's match object had before it was the
// match package's: "path" and "path_prefix" strings. (The match package
// itself refuses the old "present": false.)
func oldMatch(m *conf.Object) {
	const hint = `is now a path match object: "path": {"exact": ...} or {"prefix": ...}`
	if m.Value("path").Type == gjson.String {
		m.Fail("path", hint)
	}
	// Looked up only if given: a key looked up in vain is listed among the
	// known fields.
	if m.Raw().Get("path_prefix").Exists() {
		m.Value("path_prefix")
		m.Fail("path_prefix", hint)
	}
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

// decodeFailureMode reads "failure_mode", "open" or "closed"; empty when
// absent, for New to apply the default, so that a Config built in Go and
// one decoded from JSON get it alike.
func decodeFailureMode(o *conf.Object) policy.FailureMode {
	if !o.Has("failure_mode") {
		return ""
	}
	return policy.DecodeFailureMode(o, "")
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
