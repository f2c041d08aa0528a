package headerauth

import (
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// Config is the configuration of one header check. In JSON the fields of
// Rule sit at the top level of the filter's "config" object, beside
// "rules", "bypass" and "deny":
//
//	{"header": "allow", "values": ["true"], "deny": {"status": 403, "body": "no\n"},
//	 "bypass": [{"path": {"exact": "/healthz"}}, {"methods": ["OPTIONS"]}]}
//	{"rules": [{"header": "allow", "values": ["true"]}, {"header": "x-debug", "absent": true}]}
type Config struct {
	// Rules must all pass ("rules"). It is the same as Rule{AllOf: Rules},
	// written as a list; set Rules or Rule, not both.
	Rules []Rule
	// Rule is the check every request must pass when there is no Rules:
	// one header rule, or a group of rules (AllOf, AnyOf).
	Rule Rule
	// Bypass lists requests that skip the check ("bypass"): a request
	// skips it if it certainly matches one of them (see the match
	// package), so a path that only some backend would read as
	// "/public/x" does not bypass through "/public/". Each entry must set
	// a condition: an empty one would match every request.
	Bypass []match.Match
	// Deny ("deny") is the reply to requests that fail the check: 403 with
	// the body "access denied\n" unless it says otherwise. A 401 carries
	// www-authenticate: ApiKey realm="api" unless Deny.Headers sets one.
	Deny policy.DenyResponse
}

// Rule is one condition on the request headers: a header rule (Header set)
// or a group (AllOf or AnyOf set), never both.
//
// A header rule with neither Values nor Keys requires the header to be
// present, with any value. If the header appears more than once, every
// occurrence must pass (as in Envoy's RBAC, which joins repeated values and
// so rejects a mixed set); a key must be sent exactly once.
type Rule struct {
	// Header is the header to check ("header"). Names match ignoring
	// ASCII case; pseudo-headers such as ":authority" may be used.
	Header string
	// Values are the values the header may have ("values"); each must be
	// non-empty. nil means any value. The values of :method, :path and
	// :authority are conditions of the match package (methods, an exact
	// path in normal form, hosts without a port), which the request must
	// certainly meet however a backend reads it: "/status" passes
	// "/a/../status?x" but not "/status;x", "127.0.0.1" passes "127.1",
	// and "GET" does not pass a request claiming another method through
	// X-HTTP-Method-Override.
	Values []string
	// Keys are named secret keys ("keys", an object from name to key): the
	// header must carry exactly one of them. Keys are compared in constant
	// time and never logged; the matched key's name can be forwarded in
	// IdentityHeader. Keys and Values cannot be combined.
	Keys []Key
	// Absent inverts the rule: the header must not be present ("absent").
	// It takes no other field.
	Absent bool
	// IgnoreCase compares Values ignoring ASCII letter case
	// ("ignore_case"), as every comparison of the module does: "Key"
	// passes "key", the Kelvin sign in "\u212Aey" does not.
	// Names always match ignoring case; secrets never do.
	IgnoreCase bool
	// Secret treats Values as secrets ("secret"): compared in constant time
	// and never logged. Keys are always secret.
	Secret bool
	// Strip removes the header before the request goes upstream ("strip"),
	// so credentials do not reach the backend. It applies to every request
	// the filter lets through, bypassed ones included.
	Strip bool
	// IdentityHeader, with Keys, is set to the name of the matched key
	// ("identity_header"). Any copy the client sent is removed from every
	// request, so the backend can trust it; it is overwritten, never
	// appended to.
	IdentityHeader string

	// AllOf passes when every rule in it passes ("all_of").
	AllOf []Rule
	// AnyOf passes when at least one rule in it passes ("any_of"); the
	// first that passes sets the identity headers.
	AnyOf []Rule
}

// Key is a named secret, such as an API key.
type Key struct {
	// Name identifies the key's holder; it is what IdentityHeader carries
	// and may appear in logs.
	Name string
	// Value is the secret the client sends; it never appears in logs.
	Value string
}

// ParseConfig decodes a JSON filter configuration. It rejects unknown
// fields and wrong types, naming the path; New checks the values.
func ParseConfig(config gjson.Result) (Config, error) { return definition.Parse(config) }

func decode(o *conf.Object) Config {
	cfg := Config{Rules: decodeRules(o, "rules"), Rule: decodeRule(o)}
	if o.Value("bypass").IsObject() {
		o.Fail("bypass", `is now a list of match objects: [{"path": {"exact": "/healthz"}}, {"path": {"prefix": "/public/"}}, {"methods": ["OPTIONS"]}]`)
	}
	for _, b := range o.Objects("bypass") {
		cfg.Bypass = append(cfg.Bypass, match.DecodeWithBody(b))
	}
	d := o.Object("deny")
	d.Moved("www_authenticate", `a "www-authenticate" entry of deny.headers`)
	cfg.Deny = policy.DecodeDenyResponse(d)
	return cfg
}

// decodeRule reads the rule fields of o.
func decodeRule(o *conf.Object) Rule {
	r := Rule{
		Header:         o.String("header", ""),
		Values:         o.Strings("values"),
		Absent:         o.Bool("absent", false),
		IgnoreCase:     o.Bool("ignore_case", false),
		Secret:         o.Bool("secret", false),
		Strip:          o.Bool("strip", false),
		IdentityHeader: o.String("identity_header", ""),
		AllOf:          decodeRules(o, "all_of"),
		AnyOf:          decodeRules(o, "any_of"),
	}
	if r.Header == "" && o.Has("header") {
		o.Fail("header", "must not be empty")
	}
	if keys := o.StringMap("keys"); keys != nil {
		r.Keys = make([]Key, len(keys))
		for i, kv := range keys {
			r.Keys[i] = Key{Name: kv[0], Value: kv[1]}
		}
	}
	return r
}

// decodeRules reads the array of rules at key: nil if absent, empty (not
// nil) if the array is.
func decodeRules(o *conf.Object, key string) []Rule {
	objs := o.Objects(key)
	if objs == nil {
		return nil
	}
	rules := make([]Rule, len(objs))
	for i, e := range objs {
		rules[i] = decodeRule(e)
	}
	return rules
}
