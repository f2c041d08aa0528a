package authz

import (
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// Config is the declarative form of the filter: rules tried in order, a
// default action, and optionally a remote authorization service. It is
// decoded from the filter's JSON "config" by ParseConfig, or written in Go
// and passed to Filter or New, which validate it and compile its matchers.
// Field comments give each field's JSON name.
type Config struct {
	// Rules ("rules") are tried in order; the first that applies decides
	// the request with its Action.
	Rules []Rule
	// Default ("default") is the action when no rule applies. Empty means
	// ActionRemote when Remote is set, else ActionDeny; a Config with
	// neither rules nor Remote must set it.
	Default Action
	// Deny ("deny") is the reply to a request denied by a rule or by the
	// default action: 403 with the body "access denied\n" unless it says
	// otherwise.
	Deny policy.DenyResponse
	// Remote ("remote") is the authorization service ActionRemote asks;
	// nil when there is none.
	Remote *Remote
}

// Action is what a matching rule, or the default, does with a request.
type Action string

const (
	// ActionAllow lets the request continue.
	ActionAllow Action = "allow"
	// ActionDeny answers the request with the DenyResponse.
	ActionDeny Action = "deny"
	// ActionRemote pauses the request and asks the Remote service.
	ActionRemote Action = "remote"
)

// Rule is one entry of the rule list.
//
// Whether a rule applies to a request depends on its action, as the match
// package explains: an allow rule applies only to a request that certainly
// matches (every reading of its path, every copy of a header), a deny or
// remote rule to one that possibly does. So a path that some backend could
// resolve to "/admin" is denied by a deny rule on "/admin/**", and a path
// that only some backend would resolve to "/public/x" is not allowed by an
// allow rule on "/public/**".
type Rule struct {
	// Name ("name") labels the rule in logs and in the
	// authz_rule_matches_total metric: letters, digits, '_', '-', '/'.
	// Empty means the rule's index ("0", "1", ...).
	Name string
	// Action ("action") is required.
	Action Action
	// Match ("match") selects the requests the rule applies to, in the
	// shape every filter shares (see the match package); the zero Match
	// selects every request.
	Match match.Match
	// Claims ("claims") are conditions on the payload of the request's JWT,
	// all of which must hold. When a verifying filter (package authz/jwt)
	// ran before this one in the request, they are the claims it verified,
	// and a request it let through without a token matches no claim
	// condition. Otherwise they are read from the "authorization: Bearer"
	// header WITHOUT checking the token: see the package documentation. A
	// missing or malformed token matches no claim condition.
	Claims []ClaimMatch
}

// ClaimMatch is a condition on one claim of a JWT payload. Exactly one of
// Present and Equals is set.
type ClaimMatch struct {
	// Path ("path") is the claim's gjson path in the payload: "sub",
	// "realm_access.roles". Escape dots in claim names with "\.".
	Path string
	// Present ("present": true) requires the claim.
	Present bool
	// Equals ("equals") is the value required. Numbers and booleans compare
	// by their JSON text ("42", "true"); for an array claim, one element
	// must equal it, so {"path": "groups", "equals": "ops"} asks for
	// membership.
	Equals string
}

// Remote is an external authorization service asked over HTTP, as Envoy's
// ext_authz HTTP service is. The service gets a request with the original
// method, the original path behind PathPrefix, the original authority, no
// body, and the request's authorization header plus RequestHeaders. A 2xx
// answer allows the request; a 3xx or 4xx answer denies it with the
// service's status and body; a 5xx answer is a failure (see FailureMode).
type Remote struct {
	// Cluster ("cluster", required) is the proxy cluster of the service,
	// e.g. "outbound|8000||ext-authz.auth.svc.cluster.local" in Istio.
	Cluster string
	// PathPrefix ("path_prefix") is put before the request's path in the
	// check request: "/check" turns "/orders?id=1" into
	// "/check/orders?id=1". Empty by default.
	PathPrefix string
	// Timeout ("timeout", a duration such as "200ms") bounds the wait for
	// the answer; 0 means 200ms, Envoy ext_authz's default. In JSON an
	// explicit 0 is refused: leave the field out for the default.
	Timeout time.Duration
	// RequestHeaders ("request_headers") are request headers sent to the
	// service besides authorization, which is always sent.
	RequestHeaders []string
	// UpstreamHeaders ("upstream_headers") are headers of an allowing
	// answer that are copied onto the request before it goes upstream,
	// replacing the client's values. A copy the client sent itself is
	// always removed, so the upstream can trust these headers.
	UpstreamHeaders []string
	// ClientHeaders ("client_headers") are headers of a denying answer that
	// are sent back to the client with it: "www-authenticate", "location".
	ClientHeaders []string
	// FailureMode ("failure_mode") says what happens to a request when the
	// service cannot be asked or gives no usable answer (a 5xx answer,
	// which is how Envoy reports a timeout or a connection failure; no
	// answer; a malformed answer): policy.FailClosed denies it with
	// StatusOnError, policy.FailOpen lets it continue; empty means
	// policy.FailClosed. Either way the error is counted and logged.
	FailureMode policy.FailureMode
	// StatusOnError ("status_on_error") is the status sent when failing
	// closed; 0 means 403.
	StatusOnError uint32
}

// ParseConfig decodes the filter's JSON "config" object. It checks types and
// rejects unknown fields; New checks the values. Error paths are relative to
// the object: `rules[2].match.source_ips[0]: ...`.
func ParseConfig(raw gjson.Result) (Config, error) { return definition.Parse(raw) }

func decode(o *conf.Object) Config {
	var c Config
	for _, r := range o.Objects("rules") {
		c.Rules = append(c.Rules, decodeRule(r))
	}
	c.Default = Action(o.String("default", ""))
	o.Moved("deny_response", "deny")
	c.Deny = policy.DecodeDenyResponse(o.Object("deny"))
	if r := o.Object("remote"); r.Raw().Exists() {
		c.Remote = decodeRemote(r)
	}
	return c
}

func decodeRule(o *conf.Object) Rule {
	r := Rule{Name: o.String("name", ""), Action: Action(o.RequiredString("action"))}
	m := o.Object("match")
	if m.Raw().Get("claims").Exists() { // not m.Has, which would list claims among the fields of a match
		m.Value("claims") // known, so that the error is this one, not "unknown field"
		m.Fail("claims", "moved: write it beside match, as %s", conf.Join(o.Path(), "claims"))
	}
	r.Match = match.DecodeWithBody(m)
	for _, c := range o.Objects("claims") {
		r.Claims = append(r.Claims, ClaimMatch{
			Path:    c.RequiredString("path"),
			Present: c.Bool("present", false),
			Equals:  nonEmpty(c, "equals"),
		})
	}
	return r
}

// decodeRemote reads a Remote, leaving the fields that are absent zero:
// New applies their defaults, to a Remote built in Go alike.
func decodeRemote(o *conf.Object) *Remote {
	timeout := o.Duration("timeout", 0)
	if timeout <= 0 && o.Has("timeout") {
		o.Fail("timeout", "must be positive, not %s", timeout)
	}
	o.Moved("fail_open", `failure_mode ("open" or "closed")`)
	r := &Remote{
		Cluster:         o.RequiredString("cluster"),
		PathPrefix:      o.String("path_prefix", ""),
		Timeout:         timeout,
		RequestHeaders:  o.Strings("request_headers"),
		UpstreamHeaders: o.Strings("upstream_headers"),
		ClientHeaders:   o.Strings("client_headers"),
	}
	if o.Has("failure_mode") {
		r.FailureMode = policy.DecodeFailureMode(o, "")
	}
	r.StatusOnError = policy.DecodeStatus(o, "status_on_error", 0)
	return r
}

// nonEmpty reads an optional string that, when present, must not be empty:
// an empty value would be indistinguishable from an absent one in Config.
func nonEmpty(o *conf.Object, key string) string {
	if o.Has(key) {
		return o.RequiredString(key)
	}
	return ""
}
