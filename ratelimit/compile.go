package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/sjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/conf"
)

// maxCount bounds token counts, so that no bucket arithmetic overflows.
const maxCount = 1_000_000_000_000

// maxMaxKeys bounds max_keys: each slot may cost the proxy a record of
// about 80 bytes of shared data, per keyed limit.
const maxMaxKeys = 1_000_000

// compiled is a validated Config, ready for requests.
type compiled struct {
	rules       []*rule // the configured rules, then the default limit if any
	status      uint32
	body        []byte // the configured body; nil for the default one
	contentType string
	headers     bool
	failClosed  bool
	worker      bool
}

// rule is a compiled Rule; the default limit is a rule that matches all.
type rule struct {
	name    string // "rules[2]" or "default", for logs
	methods []string
	path    string
	prefix  string
	headers []HeaderMatch // names lower-cased

	tbl          *table
	parts        []keyPart
	allowMissing bool
	describe     string // "2 per second"
	jsonBody     []byte // the default denial body, without retry_after
}

// compile validates cfg and builds what requests need. domain names the
// shared-data records.
func compile(cfg Config, domain string) (*compiled, error) {
	c := &compiled{status: 429, headers: cfg.RateLimitHeaders, contentType: cfg.ContentType}
	switch cfg.Scope {
	case "", ScopeProxy:
	case ScopeWorker:
		c.worker = true
	default:
		return nil, conf.Errorf("scope", `must be "proxy" or "worker", not %q`, cfg.Scope)
	}
	switch cfg.FailureMode {
	case "", FailOpen:
	case FailClosed:
		c.failClosed = true
	default:
		return nil, conf.Errorf("failure_mode", `must be "open" or "closed", not %q`, cfg.FailureMode)
	}
	if cfg.Status != 0 {
		if cfg.Status < 400 || cfg.Status > 599 {
			return nil, conf.Errorf("status", "must be between 400 and 599, not %d", cfg.Status)
		}
		c.status = uint32(cfg.Status)
	}
	if cfg.Body != "" {
		c.body = []byte(cfg.Body)
		if c.contentType == "" {
			c.contentType = "text/plain; charset=utf-8"
		}
	} else if c.contentType == "" {
		c.contentType = "application/json"
	}
	prefix := "ratelimit/" + domain + "/"
	for i, r := range cfg.Rules {
		path := "rules" + conf.Index(i)
		cr, err := compileMatch(r.Match, path, conf.Join(path, "match"))
		if err != nil {
			return nil, err
		}
		if err := cr.compileLimit(r.Limit, conf.Join(path, "limit"), prefix+strconv.Itoa(i)+"/"); err != nil {
			return nil, err
		}
		c.rules = append(c.rules, cr)
	}
	if len(cfg.Rules) == 0 || !cfg.Limit.isZero() {
		def := &rule{name: "default"}
		if err := def.compileLimit(cfg.Limit, "", prefix+"default/"); err != nil {
			return nil, err
		}
		c.rules = append(c.rules, def)
	}
	return c, nil
}

func (l Limit) isZero() bool {
	return l.RequestsPerUnit == 0 && l.Unit == "" && l.TokensPerFill == 0 && l.FillInterval == 0 &&
		l.Burst == 0 && l.Key == nil && l.MissingKey == "" && l.MaxKeys == 0
}

func compileMatch(m Match, name, path string) (*rule, error) {
	r := &rule{name: name, path: m.Path, prefix: m.PathPrefix}
	for i, method := range m.Methods {
		if method == "" {
			return nil, conf.Errorf(conf.Join(path, "methods"+conf.Index(i)), "must not be empty")
		}
		r.methods = append(r.methods, strings.ToUpper(method))
	}
	switch {
	case m.Path != "" && m.PathPrefix != "":
		return nil, conf.Errorf(conf.Join(path, "path_prefix"), "cannot be combined with path")
	case m.Path != "" && m.Path[0] != '/':
		return nil, conf.Errorf(conf.Join(path, "path"), `must start with "/", not %q`, m.Path)
	case m.PathPrefix != "" && m.PathPrefix[0] != '/':
		return nil, conf.Errorf(conf.Join(path, "path_prefix"), `must start with "/", not %q`, m.PathPrefix)
	}
	for i, h := range m.Headers {
		at := conf.Join(path, "headers"+conf.Index(i))
		switch {
		case h.Name == "":
			return nil, conf.Errorf(conf.Join(at, "name"), "is required")
		case h.Absent && h.Equals != "":
			return nil, conf.Errorf(conf.Join(at, "equals"), `cannot be combined with "present": false`)
		}
		h.Name = policy.HeaderName(h.Name)
		r.headers = append(r.headers, h)
	}
	return r, nil
}

// compileLimit validates l (at path) into r, with records named prefix….
func (r *rule) compileLimit(l Limit, path, prefix string) error {
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
		rt = rate{fill: l.TokensPerFill, interval: int64(l.FillInterval)}
		r.describe = fmt.Sprintf("%d per %s", l.TokensPerFill, l.FillInterval)
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
			return conf.Errorf(at("unit"), `must be "second", "minute", "hour" or "day", not %q`, l.Unit)
		}
		if l.Unit == "" {
			l.Unit = Second
		}
		rt = rate{fill: l.RequestsPerUnit, interval: int64(unit)}
		r.describe = fmt.Sprintf("%d per %s", l.RequestsPerUnit, l.Unit)
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
			return conf.Errorf(at("missing_key"), `must be "fallback" or "allow", not %q`, l.MissingKey)
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
	r.tbl = newTable(rt, prefix, slots)
	body, _ := sjson.SetBytes([]byte(`{"error":"rate limit exceeded"}`), "limit", r.describe)
	r.jsonBody = body
	return nil
}

var units = map[Unit]time.Duration{"": time.Second, Second: time.Second, Minute: time.Minute, Hour: time.Hour, Day: 24 * time.Hour}

// checkCount checks a count of tokens or keys given explicitly.
func checkCount(v int64) error {
	switch {
	case v < 1:
		return fmt.Errorf("must be > 0, not %d", v)
	case v > maxCount:
		return fmt.Errorf("must be at most %d, not %d", int64(maxCount), v)
	}
	return nil
}
