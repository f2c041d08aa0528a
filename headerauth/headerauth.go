// Package headerauth admits a request only if its headers pass a rule: a
// header must be present, must carry one of a list of values or secret
// keys, or must be absent; rules combine with "rules" (all must pass),
// all_of and any_of. Requests that fail get a local reply (403 by default).
// Requests that match a bypass entry (health checks, CORS preflight) skip
// the check; an entry is a match object of the match package, and a request
// matches it only if it does however a backend reads its path, so
// "/public/..;/admin" does not skip the check through the prefix
// "/public/". An entry may look at fields of the JSON body ("body"): a
// request with a body is then checked once the body is there, and skips
// the check only if every JSON parser reads the field as the entry says.
//
// Secret values and keys are compared in constant time and never logged: a
// denial's log line names the rule and the header that failed, never a
// value. Checked headers can be stripped before the request goes upstream,
// and the name of a matched key can be forwarded in an identity header that
// the filter always overwrites, so a client cannot forge it.
//
// In JSON (the plugin configuration), the filter is named "headerauth":
//
//	{"name": "headerauth", "config": {
//	  "header": "x-api-key", "keys": {"billing": "<billing key>", "search": "<search key>"},
//	  "strip": true, "identity_header": "x-consumer",
//	  "bypass": [{"path": {"exact": "/healthz"}}, {"methods": ["OPTIONS"]}],
//	  "deny": {"status": 401, "body": "a valid x-api-key is required\n"}}}
//
// In Go: policy.Static(headerauth.Filter(headerauth.Config{...})).
//
// The chain counts its decisions (filter_decisions_total with decision
// allowed, denied or shadow_denied); the filter adds
// headerauth_bypassed_total for requests that skipped the check. Both carry
// the plugin's metric prefix and the tag filter=<id>.
package headerauth

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/stats"
)

var definition = policy.Define("headerauth", decode, New)

// Kind builds the filter from its JSON configuration (see ParseConfig).
var Kind = definition.Kind()

// Filter returns cfg as a filter of a chain built in Go; name it or run it
// in shadow mode with the Spec's WithID and Shadow methods.
func Filter(cfg Config) policy.Spec { return definition.Spec(cfg) }

// Auth is the header check. Build it with New (or through Kind or Filter);
// its configuration is immutable afterwards, so one Auth serves every
// request of its VM.
type Auth struct {
	c        *compiled
	bypassed *stats.Counter
}

// New validates cfg and builds the filter; env is the one the chain passes
// to a spec's Build. Errors name the JSON path of the offending field.
func New(cfg Config, env *policy.Env) (*Auth, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	declareSecrets(env, append(cfg.Rules, cfg.Rule))
	return &Auth{c: c, bypassed: env.Counter("headerauth_bypassed_total")}, nil
}

// declareSecrets declares the keys of rules, and the values of rules marked
// secret, secret to the plugin's loggers (Env.Secret).
func declareSecrets(env *policy.Env, rules []Rule) {
	for _, r := range rules {
		for _, k := range r.Keys {
			env.Secret(k.Value)
		}
		if r.Secret {
			env.Secret(r.Values...)
		}
		declareSecrets(env, r.AllOf)
		declareSecrets(env, r.AnyOf)
	}
}

// OnRequestHeaders checks the request. Whatever the outcome, it strips the
// headers marked strip and removes identity headers the client sent; a
// request that passes then gets the identities of the keys it matched.
// (Stripping a denied request matters in shadow mode, where it goes on.)
//
// When a bypass entry has conditions on the JSON body, the chain calls it
// once a request's body is there (ReadsRequestBody).
func (a *Auth) OnRequestHeaders(x *policy.Exchange) policy.Result {
	if a.c.bypass(x.Request()) {
		a.bypassed.Inc()
		a.forward(x, nil)
		return policy.Continue()
	}
	var grants []grant
	if reason := a.c.rule.eval(x.RequestHeaders(), x.Request(), &grants); reason != "" {
		a.forward(x, nil)
		resp := a.c.deny
		resp.Reason = reason
		return policy.Deny(resp)
	}
	a.forward(x, grants)
	return policy.Continue()
}

// forward prepares the request for the upstream: stripped headers go, and
// each identity header is set from grants or else removed.
func (a *Auth) forward(x *policy.Exchange, grants []grant) {
	for _, h := range a.c.strip {
		if present(x, h) {
			x.RemoveRequestHeader(h)
		}
	}
	for _, h := range a.c.identities {
		if name, ok := granted(grants, h); ok {
			x.SetRequestHeader(h, name) // replaces every copy the client sent
		} else if present(x, h) {
			x.RemoveRequestHeader(h)
		}
	}
}

func present(x *policy.Exchange, name string) bool {
	for _, h := range x.RequestHeaders() {
		if sameName(h[0], name) {
			return true
		}
	}
	return false
}

// granted returns the name the first matched key gives header.
func granted(grants []grant, header string) (string, bool) {
	for _, g := range grants {
		if g.header == header {
			return g.name, true
		}
	}
	return "", false
}

// ReadsRequestBody implements policy.BodyReader: the request body is read
// only when a bypass entry has conditions on it.
func (a *Auth) ReadsRequestBody() bool { return a.c.body }

var (
	_ policy.RequestHeadersFilter = (*Auth)(nil)
	_ policy.BodyReader           = (*Auth)(nil)
)
