package authz

import (
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/internal/conf"
)

// Config is the declarative form of the filter: rules tried in order, a
// default action, and optionally a remote authorization service. It is
// decoded from the filter's JSON "config" by ParseConfig, or written in Go
// and passed to Filter or New, which validate it and compile its matchers.
// Field comments give each field's JSON name.
type Config struct {
	// Rules ("rules") are tried in order; the first whose Match matches
	// decides the request with its Action.
	Rules []Rule
	// Default ("default") is the action when no rule matches. Empty means
	// ActionRemote when Remote is set, else ActionDeny; a Config with
	// neither rules nor Remote must set it.
	Default Action
	// DenyResponse ("deny_response") is what a request denied by a rule or
	// by the default action gets.
	DenyResponse DenyResponse
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
type Rule struct {
	// Name ("name") labels the rule in logs and in the
	// authz_rule_matches_total metric: letters, digits, '_', '-', '/'. It
	// defaults to the rule's index ("0", "1", ...).
	Name string
	// Action ("action") is required.
	Action Action
	// Match ("match") selects the requests the rule applies to. Every field
	// that is set must match; a zero Match matches every request.
	Match Match
}

// Match is a rule's conditions. Lists of alternatives (methods, hosts,
// source IPs) match if any entry does; lists of conditions (headers, claims)
// match if all do.
type Match struct {
	// Methods ("methods") are upper-case request methods, any of which
	// matches: ["GET", "HEAD"].
	Methods []string
	// Path ("path") matches the request path without its query string.
	Path PathMatch
	// Hosts ("hosts") match the request's authority without its port,
	// ignoring case: "api.example.com", or "*.example.com" for any
	// subdomain (not example.com itself).
	Hosts []string
	// Headers ("headers") are request header conditions, all of which must
	// hold.
	Headers []HeaderMatch
	// SourceIPs ("source_ips") are addresses ("192.0.2.7") and CIDR ranges
	// ("10.0.0.0/8", "2001:db8::/32") of the downstream peer (the proxy's
	// source.address), any of which matches. Behind another proxy that is
	// the other proxy's address, not the client's.
	SourceIPs []string
	// Claims ("claims") are conditions on the payload of the JWT in the
	// request's "authorization: Bearer" header, all of which must hold. A
	// missing or malformed token matches no claim condition. The token's
	// signature is NOT checked: see the package documentation.
	Claims []ClaimMatch
}

// PathMatch matches the request path without its query string. At most one
// field may be set; none means any path.
type PathMatch struct {
	// Exact ("exact") is the whole path: "/healthz".
	Exact string
	// Prefix ("prefix") is a string prefix: "/api/" matches "/api/users".
	// "/admin" also matches "/administrator"; end a prefix with "/" or use
	// Glob to match whole segments.
	Prefix string
	// Glob ("glob") matches segment by segment: a "*" segment matches any one
	// non-empty segment, and a final "**" segment matches the rest of the
	// path, zero or more segments. "/status/*" matches "/status/418" but not
	// "/status" or "/status/418/x"; "/admin/**" matches "/admin" and
	// "/admin/users/7".
	Glob string
}

// HeaderMatch is a condition on a request header. Exactly one of Present,
// Absent, Equals and Prefix is set. A header with several values matches
// Equals or Prefix if one of its values does.
type HeaderMatch struct {
	// Name ("name") is the header name, matched case-insensitively.
	Name string
	// Present ("present": true) requires the header.
	Present bool
	// Absent ("absent": true) requires that the header is missing.
	Absent bool
	// Equals ("equals") is the value required.
	Equals string
	// Prefix ("prefix") is a prefix the value must start with.
	Prefix string
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

// DenyResponse is the local reply sent when a rule or the default denies.
type DenyResponse struct {
	// Status ("status") is the status code, 403 when 0.
	Status uint32
	// Body ("body") is the response body, "access denied\n" when empty.
	Body string
	// Headers ("headers", an object of strings) are added to the reply.
	Headers [][2]string
}

// Remote is an external authorization service asked over HTTP, as Envoy's
// ext_authz HTTP service is. The service gets a request with the original
// method, the original path behind PathPrefix, the original authority, no
// body, and the request's authorization header plus RequestHeaders. A 2xx
// answer allows the request; any other status denies it with the service's
// status and body.
type Remote struct {
	// Cluster ("cluster", required) is the proxy cluster of the service,
	// e.g. "outbound|8000||ext-authz.auth.svc.cluster.local" in Istio.
	Cluster string
	// PathPrefix ("path_prefix") is put before the request's path in the
	// check request: "/check" turns "/orders?id=1" into
	// "/check/orders?id=1". Empty by default.
	PathPrefix string
	// Timeout ("timeout", a duration such as "200ms") bounds the wait for
	// the answer; 200ms when 0.
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
	// FailOpen ("fail_open") lets the request continue when the service
	// cannot be asked or gives no usable answer (timeout, connection
	// failure, malformed answer). By default such a request is denied with
	// StatusOnError (fail closed). Either way the error is counted and
	// logged.
	FailOpen bool
	// StatusOnError ("status_on_error") is the status sent when failing
	// closed; 403 when 0.
	StatusOnError uint32
}

// ParseConfig decodes the filter's JSON "config" object. It checks types and
// rejects unknown fields; New checks the values. Error paths are relative to
// the object: `rules[2].match.source_ips[0]: ...`.
func ParseConfig(raw gjson.Result) (Config, error) {
	o := conf.New("", raw)
	var c Config
	for _, r := range o.Objects("rules") {
		c.Rules = append(c.Rules, parseRule(r))
		o.Check(r.Err())
	}
	c.Default = Action(o.String("default", ""))
	if d := o.Object("deny_response"); d.Raw().Exists() {
		c.DenyResponse = DenyResponse{
			Status:  status(d, "status"),
			Body:    d.String("body", ""),
			Headers: d.StringMap("headers"),
		}
		o.Check(d.Err())
	}
	if r := o.Object("remote"); r.Raw().Exists() {
		c.Remote = parseRemote(r)
		o.Check(r.Err())
	}
	return c, o.Err()
}

func parseRule(o *conf.Object) Rule {
	r := Rule{Name: o.String("name", ""), Action: Action(o.RequiredString("action"))}
	m := o.Object("match")
	r.Match.Methods = m.Strings("methods")
	if p := m.Object("path"); p.Raw().Exists() {
		r.Match.Path = PathMatch{Exact: p.String("exact", ""), Prefix: p.String("prefix", ""), Glob: p.String("glob", "")}
		m.Check(p.Err())
	}
	r.Match.Hosts = m.Strings("hosts")
	for _, h := range m.Objects("headers") {
		r.Match.Headers = append(r.Match.Headers, HeaderMatch{
			Name:    h.RequiredString("name"),
			Present: h.Bool("present", false),
			Absent:  h.Bool("absent", false),
			Equals:  nonEmpty(h, "equals"),
			Prefix:  nonEmpty(h, "prefix"),
		})
		m.Check(h.Err())
	}
	r.Match.SourceIPs = m.Strings("source_ips")
	for _, c := range m.Objects("claims") {
		r.Match.Claims = append(r.Match.Claims, ClaimMatch{
			Path:    c.RequiredString("path"),
			Present: c.Bool("present", false),
			Equals:  nonEmpty(c, "equals"),
		})
		m.Check(c.Err())
	}
	o.Check(m.Err())
	return r
}

func parseRemote(o *conf.Object) *Remote {
	timeout := o.Duration("timeout", defaultTimeout)
	if timeout <= 0 {
		o.Fail("timeout", "must be positive, not %s", timeout)
	}
	return &Remote{
		Cluster:         o.RequiredString("cluster"),
		PathPrefix:      o.String("path_prefix", ""),
		Timeout:         timeout,
		RequestHeaders:  o.Strings("request_headers"),
		UpstreamHeaders: o.Strings("upstream_headers"),
		ClientHeaders:   o.Strings("client_headers"),
		FailOpen:        o.Bool("fail_open", false),
		StatusOnError:   status(o, "status_on_error"),
	}
}

// nonEmpty reads an optional string that, when present, must not be empty:
// an empty value would be indistinguishable from an absent one in Config.
func nonEmpty(o *conf.Object, key string) string {
	if o.Has(key) {
		return o.RequiredString(key)
	}
	return ""
}

// status reads a status code; New checks its range.
func status(o *conf.Object, key string) uint32 {
	n := o.Int(key, 0)
	if n < 0 || n > 999 {
		o.Fail(key, "must be an HTTP status code (200-599), not %d", n)
		return 0
	}
	if o.Has(key) && n == 0 {
		o.Fail(key, "must be an HTTP status code (200-599), not 0")
	}
	return uint32(n)
}
