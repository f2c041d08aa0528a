package jwt

import (
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz/claims"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/ascii"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/internal/query"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/stats"
)

const kindName = "jwt"

var definition = policy.Define(kindName, decode, New)

// Kind builds the filter from the plugin configuration, for
// policy.Configured:
//
//	{"name": "jwt", "config": {"providers": [...], "rules": [...]}}
var Kind = definition.Kind()

// Filter returns a chain step, for policy.Static, that verifies tokens with
// cfg. An invalid cfg fails the plugin's start.
func Filter(cfg Config) policy.Spec { return definition.Spec(cfg) }

// DefaultClockSkew is the grace on exp, nbf and iat when a provider sets
// none.
const DefaultClockSkew = 60 * time.Second

// Verifier is the filter.
type Verifier struct {
	providers []*provider
	rules     []rule
	any       requirement // what a request no rule applies to needs
	headers   []string    // every claim_to_headers header, removed from every request
	results   map[string]*stats.Counter
	remotes   []*remote // the providers' remote key sets, fetched on the tick
	body      bool      // a rule has conditions on the request body
}

type provider struct {
	name      string
	issuer    string
	audiences []string
	sources   []source
	keys      *KeySet // inline; nil with remote
	remote    *remote // remote_jwks
	failOpen  bool    // failure_mode open: let requests through while remote has no keys
	skew      time.Duration
	forward   bool
	toHeaders []ClaimHeader

	// verified holds tokens whose signature verified, parsed, so that a
	// client sending the same token again costs no parsing and no signature
	// check: one costs milliseconds in a Wasm VM. The claims are checked
	// every time.
	verified map[string]*Token
}

// maxVerified bounds the tokens a provider remembers per VM.
const maxVerified = 256

// checkSignature verifies t's signature with p's keys, or remembers that it
// did.
func (p *provider) checkSignature(t *Token) *Error {
	keys := p.keys
	if p.remote != nil {
		if p.remote.keys == nil {
			p.remote.sync() // another VM may have fetched it
		}
		if keys = p.remote.keys; keys == nil {
			return refuse(NoKeys, "the key set has not been fetched from cluster %q yet", p.remote.cluster)
		}
	}
	if _, ok := p.verified[t.raw]; ok {
		return nil
	}
	err := keys.Verify(t)
	if err != nil && err.Reason == UnknownKey && p.remote != nil && p.remote.unknownKid() {
		err = p.remote.keys.Verify(t) // a newer key set, another VM fetched
	}
	if err != nil {
		return err
	}
	if len(p.verified) >= maxVerified {
		for k := range p.verified { // forget one
			delete(p.verified, k)
			break
		}
	}
	p.verified[t.raw] = t
	return nil
}

// source is where a token is read from: a header (with a prefix), a query
// parameter or a cookie.
type source struct {
	header, prefix string
	param          string
	cookie         string
}

type requirement struct {
	providers    []*provider // one of which must have issued the token
	allowMissing bool
}

type rule struct {
	when *match.Matcher
	requirement
}

// results is every value of the result tag of jwt_requests_total.
var results = []Reason{Malformed, TooLarge, DuplicateKey, BadAlgorithm, UnknownKey, NoFittingKey, BadSignature,
	WrongIssuer, WrongAudience, Expired, NotYetValid, IssuedInFuture, BadClaim, Missing, SeveralTokens, NoKeys}

// New validates cfg, parses its key sets and defines the filter's metric
// jwt_requests_total{result}: "verified", "no_token" (let through without
// a token), "failed_open" (let through without verification, its
// provider's remote key set not fetched yet and its failure_mode open) or
// the Reason a request was refused. With a remote key set it also defines
// jwt_jwks_fetches_total{provider, result}: "success", "unavailable" (no
// response), "bad_status" (not 200) or "malformed" (not a valid key set).
func New(cfg Config, env *policy.Env) (*Verifier, error) {
	v, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	for _, p := range cfg.Providers {
		// A shared key never shows in a line of the plugin's log.
		gjson.Get(p.JWKS, `keys.#(kty=="oct")#.k`).ForEach(func(_, k gjson.Result) bool {
			env.Secret(k.String())
			return true
		})
	}
	v.results = map[string]*stats.Counter{}
	for _, r := range append([]Reason{"verified", "no_token", "failed_open"}, results...) {
		v.results[string(r)] = env.Counter("jwt_requests_total", stats.Tag{Key: "result", Value: string(r)})
	}
	for _, p := range v.providers {
		if p.remote != nil {
			p.remote.start(env)
			v.remotes = append(v.remotes, p.remote)
		}
	}
	return v, nil
}

// OnTick fetches the remote key sets that are due, and adopts those
// another VM fetched.
func (v *Verifier) OnTick(now time.Time) {
	for _, r := range v.remotes {
		r.tick(now)
	}
}

func compile(cfg Config) (*Verifier, error) {
	if len(cfg.Providers) == 0 {
		return nil, conf.Errorf("providers", "must list at least one provider")
	}
	v := &Verifier{}
	byName := map[string]*provider{}
	issuers := map[string]string{}
	seenHeader := map[string]bool{}
	for i, p := range cfg.Providers {
		at := "providers" + conf.Index(i)
		c, err := compileProvider(p)
		if err != nil {
			return nil, conf.Within(at, err)
		}
		if _, dup := byName[c.name]; dup {
			return nil, conf.Errorf(at+".name", "%q names another provider too", c.name)
		}
		if other, dup := issuers[c.issuer]; dup {
			return nil, conf.Errorf(at+".issuer", "%q is already the issuer of provider %q", c.issuer, other)
		}
		byName[c.name], issuers[c.issuer] = c, c.name
		for _, h := range c.toHeaders {
			if !seenHeader[h.Header] {
				seenHeader[h.Header] = true
				v.headers = append(v.headers, h.Header)
			}
		}
		v.providers = append(v.providers, c)
	}
	v.any = requirement{providers: v.providers}
	for i, r := range cfg.Rules {
		at := "rules" + conf.Index(i)
		when, err := match.Compile(r.Match)
		if err != nil {
			return nil, conf.Within(at+".match", err)
		}
		c := rule{when: when, requirement: requirement{allowMissing: r.AllowMissing}}
		for j, name := range r.Requires {
			p, ok := byName[name]
			if !ok {
				return nil, conf.Errorf(at+".requires"+conf.Index(j), "%q is not the name of a provider", name)
			}
			c.providers = append(c.providers, p)
		}
		if len(c.providers) == 0 {
			c.providers = v.providers
		}
		v.rules = append(v.rules, c)
		v.body = v.body || when.ReadsBody()
	}
	return v, nil
}

// ReadsRequestBody implements policy.BodyReader: a request with a body is
// verified once the body is there when a rule has conditions on it.
func (v *Verifier) ReadsRequestBody() bool { return v.body }

func compileProvider(p Provider) (*provider, error) {
	if p.Name == "" || !stats.Valid(p.Name) {
		return nil, conf.Errorf("name", "must be letters, digits, '_', '-' and '/' only, not %q", p.Name)
	}
	if p.Issuer == "" {
		return nil, conf.Errorf("issuer", "is required")
	}
	c := &provider{name: p.Name, issuer: p.Issuer, audiences: p.Audiences, skew: p.ClockSkew, forward: p.Forward,
		verified: map[string]*Token{}}
	switch {
	case c.skew < 0:
		return nil, conf.Errorf("clock_skew", "must not be negative, not %s", c.skew)
	case c.skew == 0:
		c.skew = DefaultClockSkew
	}
	for i, h := range p.FromHeaders {
		name := policy.HeaderName(h.Name)
		if !httptoken.Valid(name) {
			return nil, conf.Errorf("from_headers"+conf.Index(i)+".name", "%q is not a header name", h.Name)
		}
		c.sources = append(c.sources, source{header: name, prefix: h.ValuePrefix})
	}
	for i, q := range p.FromParams {
		if q == "" || strings.ContainsAny(q, "&=#?% ") {
			return nil, conf.Errorf("from_params"+conf.Index(i), "%q is not a query parameter name", q)
		}
		c.sources = append(c.sources, source{param: q})
	}
	for i, k := range p.FromCookies {
		if !httptoken.Valid(k) {
			return nil, conf.Errorf("from_cookies"+conf.Index(i), "%q is not a cookie name", k)
		}
		c.sources = append(c.sources, source{cookie: k})
	}
	if len(c.sources) == 0 {
		c.sources = []source{{header: "authorization", prefix: "Bearer "}}
	}
	for i, h := range p.ClaimToHeaders {
		at := "claim_to_headers" + conf.Index(i)
		name := policy.HeaderName(h.Header)
		if !httptoken.Valid(name) {
			return nil, conf.Errorf(at+".header", "%q is not a header name", h.Header)
		}
		for _, s := range c.sources {
			if s.header == name || name == "cookie" && s.cookie != "" {
				return nil, conf.Errorf(at+".header", "%q is where the provider's token is read from", h.Header)
			}
		}
		if h.Claim == "" {
			return nil, conf.Errorf(at+".claim", "is required")
		}
		c.toHeaders = append(c.toHeaders, ClaimHeader{Claim: h.Claim, Header: name})
	}
	switch p.FailureMode {
	case "", policy.FailClosed:
	case policy.FailOpen:
		c.failOpen = true
	default:
		return nil, conf.Errorf("failure_mode", `must be "open" or "closed", not %q`, string(p.FailureMode))
	}
	if r := p.RemoteJWKS; r != nil {
		if p.JWKS != "" {
			return nil, conf.Errorf("jwks", "and remote_jwks exclude each other: give the key set inline or where to fetch it")
		}
		if err := checkRemote(r); err != nil {
			return nil, conf.Within("remote_jwks", err)
		}
		c.remote = newRemote(c.name, r)
		c.remote.changed = func() { clear(c.verified) } // a key may have been withdrawn
		return c, nil
	}
	keys, err := ParseKeySet([]byte(p.JWKS), true)
	if err != nil {
		return nil, conf.Within("jwks", conf.Errorf("", "%v", err))
	}
	c.keys = keys
	return c, nil
}

func checkRemote(r *RemoteJWKS) error {
	switch {
	case r.Cluster == "":
		return conf.Errorf("cluster", "is required: the Envoy cluster the key set is fetched from")
	case !strings.HasPrefix(r.Path, "/"):
		return conf.Errorf("path", "must start with '/', not %q", r.Path)
	case strings.ContainsAny(r.Path+r.Authority, " \t\r\n"):
		return conf.Errorf("path", "must not contain spaces or line breaks")
	case r.Timeout < 0 || r.Timeout > time.Minute:
		return conf.Errorf("timeout", "must be between 0 (for 1s) and 1m, not %s", r.Timeout)
	case r.CacheDuration != 0 && r.CacheDuration < 10*time.Second:
		return conf.Errorf("cache_duration", "must be at least 10s, not %s", r.CacheDuration)
	}
	return nil
}

// OnRequestHeaders verifies the request's token as the first applying rule
// asks.
func (v *Verifier) OnRequestHeaders(x *policy.Exchange) policy.Result {
	// Until a token verifies, later filters see a request without claims,
	// also when this filter runs in shadow mode and its denial is ignored.
	claims.Publish(x, claims.Verified{})
	for _, h := range v.headers {
		x.RemoveRequestHeader(h)
	}
	need := v.requirement(x)
	tok, t, p, err := find(x, need.providers)
	if err != nil {
		return v.refuse(err)
	}
	if tok == nil {
		if need.allowMissing {
			v.results["no_token"].Inc()
			return policy.Continue()
		}
		return v.refuse(refuse(Missing, "the request has no token"))
	}
	payload, err := p.verify(t, x.StartTime())
	if err != nil && err.Reason == NoKeys && p.failOpen {
		if !p.forward {
			tok.strip(x)
		}
		v.results["failed_open"].Inc()
		x.Log().Debugf("token not verified, request allowed (failure_mode open): %s", err)
		return policy.Continue()
	}
	if err != nil {
		return v.refuse(err)
	}
	if !p.forward {
		tok.strip(x)
	}
	for _, h := range p.toHeaders {
		if val, ok := headerValue(payload.Payload.Get(h.Claim)); ok {
			x.SetRequestHeader(h.Header, val)
		}
	}
	claims.Publish(x, payload)
	v.results["verified"].Inc()
	return policy.Continue()
}

// requirement is what the first applying rule asks of the request.
func (v *Verifier) requirement(x *policy.Exchange) requirement {
	if len(v.rules) == 0 {
		return v.any
	}
	req := x.Request()
	for i := range v.rules {
		r := &v.rules[i]
		if r.allowMissing && r.when.Certainly(req) || !r.allowMissing && r.when.Possibly(req) {
			return r.requirement
		}
	}
	return v.any
}

func (v *Verifier) refuse(err *Error) policy.Result {
	if c := v.results[string(err.Reason)]; c != nil {
		c.Inc()
	}
	challenge := `Bearer error="invalid_token"`
	body := "invalid token\n"
	if err.Reason == Missing {
		challenge, body = "Bearer", "token required\n" // RFC 6750 §3.1: no error code without credentials
	}
	return policy.Deny(policy.Response{
		Status:  401,
		Headers: [][2]string{{"www-authenticate", challenge}, {"content-type", "text/plain; charset=utf-8"}},
		Body:    body,
		Reason:  "token refused: " + err.Error(),
	})
}

// verify checks a token that names p's issuer: its signature with p's keys,
// its time claims and its audience. It returns the token's claims.
func (p *provider) verify(t *Token, now time.Time) (claims.Verified, *Error) {
	if err := p.checkSignature(t); err != nil {
		err.Detail = "provider " + p.name + ": " + err.Detail
		return claims.Verified{}, err
	}
	if err := (Times{Now: now, Skew: p.skew}).Check(t.Payload); err != nil {
		err.Detail = "provider " + p.name + ": " + err.Detail
		return claims.Verified{}, err
	}
	if len(p.audiences) > 0 {
		ok, err := audienceOK(t.Payload, p.audiences)
		if err != nil {
			return claims.Verified{}, err
		}
		if !ok {
			return claims.Verified{}, refuse(WrongAudience, "provider %s: aud %s names none of %q", p.name, quote(t.Payload.Get("aud").Raw), p.audiences)
		}
	}
	return claims.Verified{Provider: p.name, Payload: t.Payload}, nil
}

// found is a token found in the request, and everywhere it was found.
type found struct {
	value string
	at    []source
}

// find returns the request's token, parsed, and the provider it is for: the one,
// among those the request may use, that reads tokens from where it was
// found and whose issuer it names. No token is no error; two different
// tokens, or a token whose issuer is not one of those providers, are
// errors.
func find(x *policy.Exchange, providers []*provider) (*found, *Token, *provider, *Error) {
	var tok *found
	var readers []*provider // providers reading from a place tok was found
	for _, p := range providers {
		reads := false
		for _, s := range p.sources {
			values := s.read(x)
			for _, val := range values {
				switch {
				case tok == nil:
					tok = &found{value: val}
				case tok.value != val:
					return nil, nil, nil, refuse(SeveralTokens, "the request carries more than one token")
				}
			}
			if len(values) > 0 {
				reads = true
				if !slices.Contains(tok.at, s) {
					tok.at = append(tok.at, s)
				}
			}
		}
		if reads {
			readers = append(readers, p)
		}
	}
	if tok == nil {
		return nil, nil, nil, nil
	}
	for _, p := range readers { // a token p verified before names p's issuer
		if t := p.verified[tok.value]; t != nil {
			return tok, t, p, nil
		}
	}
	// Read the issuer, not trusting it yet, to choose the key set.
	t, err := Parse(tok.value)
	if err != nil {
		return nil, nil, nil, err
	}
	iss := t.Payload.Get("iss")
	for _, p := range readers {
		if iss.Type == gjson.String && iss.Str == p.issuer {
			return tok, t, p, nil
		}
	}
	return nil, nil, nil, refuse(WrongIssuer, "iss %s is not the issuer of a provider this request may use", quote(iss.String()))
}

// read returns the tokens at s in the request.
func (s source) read(x *policy.Exchange) []string {
	var out []string
	switch {
	case s.header != "":
		for _, val := range x.RequestHeaderValues(s.header) {
			if t, ok := afterPrefix(val, s.prefix); ok {
				out = append(out, t)
			}
		}
	case s.param != "":
		// As a backend reads the query: "&" and ";" separate parameters,
		// names and values are percent-decoded, so "access%5Ftoken" is
		// access_token too.
		out = query.Values(out, query.Of(x.Path()), s.param)
	case s.cookie != "":
		for _, h := range x.RequestHeaderValues("cookie") {
			for _, c := range strings.Split(h, ";") {
				if k, val, _ := strings.Cut(strings.TrimSpace(c), "="); k == s.cookie {
					out = append(out, val)
				}
			}
		}
	}
	return out
}

// afterPrefix returns what follows prefix (compared ASCII
// case-insensitively) in a header value, without surrounding spaces and
// tabs. An empty prefix takes the whole value.
func afterPrefix(val, prefix string) (string, bool) {
	val = strings.Trim(val, " \t")
	p := strings.TrimRight(prefix, " \t")
	if !ascii.HasPrefixFold(val, p) {
		return "", false
	}
	rest := val[len(p):]
	if p != "" && len(p) < len(prefix) { // the prefix ends in a space: one must follow
		if rest == "" || rest[0] != ' ' && rest[0] != '\t' {
			return "", false
		}
	}
	rest = strings.TrimLeft(rest, " \t")
	return rest, rest != ""
}

// strip removes the token from the request sent upstream, from every place
// it was found.
func (f *found) strip(x *policy.Exchange) {
	for _, s := range f.at {
		s.strip(x)
	}
}

func (s source) strip(x *policy.Exchange) {
	switch {
	case s.header != "":
		x.RemoveRequestHeader(s.header)
	case s.param != "":
		// Every spelling of the parameter goes.
		path := x.Path()
		if rest, removed := query.Without(query.Of(path), s.param); removed {
			path = path[:strings.IndexByte(path, '?')]
			if rest != "" {
				path += "?" + rest
			}
			x.SetRequestHeader(":path", path)
		}
	case s.cookie != "":
		values := x.RequestHeaderValues("cookie")
		x.RemoveRequestHeader("cookie")
		for _, h := range values {
			var keep []string
			for _, c := range strings.Split(h, ";") {
				if k, _, _ := strings.Cut(strings.TrimSpace(c), "="); k != s.cookie {
					keep = append(keep, strings.TrimSpace(c))
				}
			}
			if len(keep) > 0 {
				x.AddRequestHeader("cookie", strings.Join(keep, "; "))
			}
		}
	}
}

// headerValue is a claim as a header value: its text (claims.Text), if it
// has one without control characters.
func headerValue(c gjson.Result) (string, bool) {
	s, ok := claims.Text(c)
	return s, ok && httptoken.ValidValue(s)
}

var (
	_ policy.RequestHeadersFilter = (*Verifier)(nil)
	_ policy.BodyReader           = (*Verifier)(nil)
	_ policy.TickFilter           = (*Verifier)(nil)
)
