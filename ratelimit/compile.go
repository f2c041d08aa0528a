package ratelimit

import (
	"strconv"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/text"
	"github.com/wasmpolicy/policy/match"
)

// maxCount bounds token counts, so that no bucket arithmetic overflows.
const maxCount = 1_000_000_000_000

// MinFillInterval is the shortest fill_interval: with fills closer than
// that, a bucket refills between any two requests and limits nothing.
const MinFillInterval = 50 * time.Millisecond

// maxMaxKeys bounds max_keys: each slot may cost the proxy a record of
// about 80 bytes of shared data, and its overflow bucket one of about 40
// (with its name), per keyed limit.
const maxMaxKeys = 1_000_000

// compiled is a validated Config, ready for requests.
type compiled struct {
	rules      []*rule         // the configured rules, then the default limit if any
	deny       policy.Response // the configured reply; Body nil for the default one
	onError    uint32          // the status when failing closed
	headers    bool
	failClosed bool
	worker     bool
	global     *global  // nil without a global limit
	cost       *costing // nil without a cost
	// body is set when a rule or a key reads the JSON request body: a
	// request with a body is then limited in its body phase.
	body bool
}

// rule is a compiled Rule; the default limit is a rule that matches all.
type rule struct {
	name string         // "rules[2]" or "default", for logs
	when *match.Matcher // nil for the default

	tbl          *table
	parts        []keyPart
	allowMissing bool
	describe     string // "2 per second"
	jsonBody     []byte // the default denial body, unfinished: see withRetryAfter
}

// compile validates cfg and builds what requests need. domain names the
// shared-data records.
func compile(cfg Config, domain string) (*compiled, error) {
	c := &compiled{headers: cfg.RateLimitHeaders}
	switch cfg.Scope {
	case "", ScopeProxy:
	case ScopeWorker:
		c.worker = true
	default:
		return nil, conf.Errorf("scope", `must be "proxy" or "worker", not %q`, string(cfg.Scope))
	}
	if err := cfg.FailureMode.Check(cfg.StatusOnError); err != nil {
		return nil, err
	}
	c.failClosed = cfg.FailureMode == policy.FailClosed
	deny, err := cfg.Deny.Response(policy.Response{Status: 429})
	if err != nil {
		return nil, conf.Within("deny", err)
	}
	for _, h := range cfg.Deny.Headers {
		if ownHeader(policy.HeaderName(h[0])) {
			return nil, conf.Errorf(conf.Join("deny", conf.Join("headers", h[0])), "is set by the filter")
		}
	}
	if _, typed := deny.Header("content-type"); deny.Body == "" && !typed {
		deny.Headers = append(deny.Headers, [2]string{"content-type", "application/json"})
	}
	c.deny, c.onError = deny, cfg.StatusOnError
	if c.onError == 0 {
		c.onError = deny.Status
	}
	prefix := "ratelimit/" + domain + "/"
	sec := newSecret(domain) // every keyed limit of the domain places keys with it
	for i, r := range cfg.Rules {
		path := "rules" + conf.Index(i)
		cr, err := compileMatch(r.Match, path, conf.Join(path, "match"))
		if err != nil {
			return nil, err
		}
		if err := cr.compileLimit(r.Limit, conf.Join(path, "limit"), prefix+strconv.Itoa(i)+"/", sec); err != nil {
			return nil, err
		}
		c.rules = append(c.rules, cr)
	}
	if cfg.Global != nil {
		if c.global, err = compileGlobal(*cfg.Global, c.deny, c.onError, c.headers); err != nil {
			return nil, err
		}
	}
	if len(cfg.Rules) == 0 && cfg.Global == nil || !cfg.Limit.isZero() {
		def := &rule{name: "default"}
		if err := def.compileLimit(cfg.Limit, "", prefix+"default/", sec); err != nil {
			return nil, err
		}
		c.rules = append(c.rules, def)
	}
	if cfg.Cost != nil {
		if c.cost, err = compileCost(*cfg.Cost); err != nil {
			return nil, err
		}
		if c.global != nil {
			c.global.costed = true
		}
	}
	c.body = c.global != nil && c.global.readsBody() || c.cost != nil && c.cost.readsBody()
	for _, r := range c.rules {
		c.body = c.body || r.when.ReadsBody()
		for _, p := range r.parts {
			c.body = c.body || p.kind == partBody
		}
	}
	return c, nil
}

func (l Limit) isZero() bool {
	return l.RequestsPerUnit == 0 && l.Unit == "" && l.TokensPerFill == 0 && l.FillInterval == 0 &&
		l.Burst == 0 && l.Key == nil && l.MissingKey == "" && l.MaxKeys == 0
}

func compileMatch(m match.Match, name, path string) (*rule, error) {
	when, err := match.Compile(m)
	if err != nil {
		return nil, conf.Within(path, err)
	}
	return &rule{name: name, when: when}, nil
}

// ownHeader reports whether the filter sets the header name (lower-cased)
// on its replies itself: a configured copy would contradict it.
func ownHeader(name string) bool {
	switch name {
	case "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset":
		return true
	}
	return false
}

// compileLimit validates l (at path) into r, with records named prefix…
// and keys placed by sec.
func (r *rule) compileLimit(l Limit, path, prefix string, sec *secret) error {
	at := func(key string) string { return conf.Join(path, key) }
	var rt rate
	switch {
	case l.RequestsPerUnit != 0 && l.TokensPerFill != 0:
		return conf.Errorf(at("tokens_per_fill"), "cannot be combined with requests_per_unit")
	case l.TokensPerFill != 0:
		if err := checkCount(l.TokensPerFill); err != nil {
			return conf.Within(at("tokens_per_fill"), err)
		}
		if l.Unit != "" {
			return conf.Errorf(at("unit"), "goes with requests_per_unit; tokens_per_fill takes fill_interval")
		}
		if l.FillInterval <= 0 {
			return conf.Errorf(at("fill_interval"), `must be a positive duration such as "1s" with tokens_per_fill, not %s`, l.FillInterval)
		}
		if l.FillInterval < MinFillInterval {
			return conf.Errorf(at("fill_interval"), "must be at least %s (as in Envoy's local rate limit), not %s", MinFillInterval, l.FillInterval)
		}
		rt = rate{fill: l.TokensPerFill, interval: int64(l.FillInterval)}
		r.describe = strconv.FormatInt(l.TokensPerFill, 10) + " per " + l.FillInterval.String()
	default:
		if l.RequestsPerUnit == 0 {
			return conf.Errorf(at("requests_per_unit"), "must be > 0 (or give tokens_per_fill and fill_interval)")
		}
		if err := checkCount(l.RequestsPerUnit); err != nil {
			return conf.Within(at("requests_per_unit"), err)
		}
		if l.FillInterval != 0 {
			return conf.Errorf(at("fill_interval"), "goes with tokens_per_fill; requests_per_unit takes unit")
		}
		unit, ok := units[l.Unit]
		if !ok {
			return conf.Errorf(at("unit"), `must be "second", "minute", "hour" or "day", not %q`, string(l.Unit))
		}
		if l.Unit == "" {
			l.Unit = Second
		}
		rt = rate{fill: l.RequestsPerUnit, interval: int64(unit)}
		r.describe = strconv.FormatInt(l.RequestsPerUnit, 10) + " per " + string(l.Unit)
	}
	rt.burst = rt.fill
	if l.Burst != 0 {
		if err := checkCount(l.Burst); err != nil {
			return conf.Within(at("burst"), err)
		}
		rt.burst = l.Burst
	}

	slots := 0
	if l.Key == nil {
		if l.MissingKey != "" {
			return conf.Errorf(at("missing_key"), "applies only with key")
		}
		if l.MaxKeys != 0 {
			return conf.Errorf(at("max_keys"), "applies only with key")
		}
	} else {
		parts, err := parseKey(l.Key)
		if err != nil {
			return conf.Within(at("key"), err)
		}
		r.parts = parts
		switch l.MissingKey {
		case "", MissingKeyFallback:
		case MissingKeyAllow:
			r.allowMissing = true
		default:
			return conf.Errorf(at("missing_key"), `must be "fallback" or "allow", not %q`, string(l.MissingKey))
		}
		switch slots = l.MaxKeys; {
		case slots == 0:
			slots = DefaultMaxKeys
		case slots < 1:
			return conf.Within(at("max_keys"), checkCount(int64(slots)))
		case slots > maxMaxKeys:
			return conf.Errorf(at("max_keys"), "must be at most %d, not %d", maxMaxKeys, slots)
		}
	}
	r.tbl = newTable(rt, prefix, slots, sec)
	r.jsonBody = exceededBody(r.describe)
	return nil
}

var units = map[Unit]time.Duration{"": time.Second, Second: time.Second, Minute: time.Minute, Hour: time.Hour, Day: 24 * time.Hour}

// checkCount checks a count of tokens or keys given explicitly.
func checkCount(v int64) error {
	switch {
	case v < 1:
		return text.Errorf("must be > 0, not %d", v)
	case v > maxCount:
		return text.Errorf("must be at most %d, not %d", int64(maxCount), v)
	}
	return nil
}
