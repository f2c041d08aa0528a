// Package authz decides whether a request may reach the upstream: with a Go
// function, with declarative rules, or by asking an authorization service.
// All three run on the request headers, before the body, and deny with a
// local reply.
//
// # Go predicates
//
// The simplest authorizer is a function of the request. Func turns it into
// a chain step:
//
//	func init() {
//		policy.Serve(policy.Static(
//			authz.Func(func(x *policy.Exchange) authz.Decision {
//				if _, ok := x.RequestHeader("x-api-key"); !ok {
//					return authz.DenyWith(401, "no API key", [][2]string{{"www-authenticate", "ApiKey"}})
//				}
//				return authz.Allow()
//			}),
//		))
//	}
//
// A Decision is Allow(), or a denial made by Deny or DenyWith: a status, a
// reason for the log, response headers, and a body ("access denied\n"
// unless set with WithBody).
//
// # Declarative rules
//
// For configuration without code, Kind builds the filter from JSON, and
// Filter from a typed Config. Rules are tried in order; the first that
// applies decides (allow, deny, or ask the remote service); when none
// applies the default does:
//
//	{"name": "authz", "config": {
//	  "rules": [
//	    {"name": "status", "action": "allow",
//	     "match": {"methods": ["GET"], "path": {"glob": "/status/*"}}},
//	    {"name": "admin", "action": "allow",
//	     "match": {"path": {"glob": "/admin/**"},
//	               "headers": [{"name": "x-role", "equals": "admin"}]},
//	     "claims": [{"path": "groups", "equals": "ops"}]}
//	  ],
//	  "default": "deny",
//	  "deny": {"status": 403, "body": "access denied\n"}}}
//
// A rule's "match" is the request-matching object every filter shares (see
// the match package): methods, path (exact, prefix, or a glob whose "*"
// segments match one segment), hosts, request headers (present, absent,
// equals, prefix), source addresses in CIDR ranges, and fields of the JSON
// request body ("body": [{"path": "user.role", "equals": "admin"}], read
// every way a backend's JSON parser may read them; see the match
// package). A request with a body is decided once its body is there when
// a rule has conditions on it; without such a rule the filter reads no
// body. Beside the match, "claims"
// are conditions on the JWT in the authorization header. Every condition
// of a rule must hold. "deny" is the reply to a denied request: 403
// "access denied\n" unless it sets a status (300-599), headers, a body or
// a content type. The rules are compiled once, when the plugin starts; an
// invalid rule fails the start with the path of the field and the reason.
//
// The JWT claims are read, not verified: this filter does not check the
// token's signature, issuer, audience or expiry, so a client can write any
// claim it likes into a token of its own. Match on claims only behind a step
// that verifies the token and rejects bad ones, such as Istio's
// RequestAuthentication (with an AuthorizationPolicy requiring a principal)
// or Envoy's jwt_authn filter, or the jwt filter of package authz/jwt in
// the same plugin, before this one: when a jwt filter ran in the request,
// the rules see the claims it verified and no others.
//
// A rule sees every way a backend may read the request path, as the match
// package explains: with ";" parameters cut off or kept, "%2F" and "\"
// taken as separators or as text, "//" merged or kept, dot segments
// resolved. The proxy does not settle these for the backend: Istio's
// default path normalization (BASE) resolves dot segments but neither
// merges slashes nor decodes "%2F", and Envoy on its own normalizes nothing
// unless told to. So an allow rule applies only when every reading
// matches, and a deny or remote rule when any reading does, in any letter
// case: a deny rule on "/admin/**" denies "/public/..;/admin" and "/Admin",
// and an allow rule on "/public/**" does not let "/public/..;/admin"
// through. A path that cannot be read safely (an encoded NUL or control
// character, "#", a bad percent-encoding) is denied by every deny rule on
// the path and allowed by no allow rule. Headers sent several times are
// read the same way: an allow rule needs every copy to match, a deny rule
// one.
//
// # Remote authorization
//
// With a "remote" service, the action "remote" (the default when a service
// is configured) pauses the request and sends a check request to the
// service's cluster, as Envoy's ext_authz HTTP service does: same method,
// the path behind a prefix, the authorization header and the headers
// listed. A 2xx answer allows the request and copies the listed headers onto
// it; a 3xx or 4xx answer denies it with the service's status, body and
// listed headers. A 5xx answer is a failure, as it is to Envoy's ext_authz:
// Envoy itself answers the call with 503 when it cannot connect to the
// service and with 504 when the timeout (200ms by default) expires. A
// failure (a 5xx answer, no answer, a malformed answer, a call the proxy
// refuses) denies with status_on_error (403) under the default
// "failure_mode": "closed", or lets the request through with
// "failure_mode": "open"; both are counted and logged, with what the
// proxy reported: the status and the start of the body of a 5xx answer,
// how long the call took when it ended with no answer. Whatever happens,
// the paused request is resumed or answered.
//
// # Shadow mode and metrics
//
// In shadow mode the chain logs and counts a denial instead of sending it,
// as for every filter, and counts each decision in
// filter_decisions_total{filter, decision}. The declarative filter also
// counts authz_rule_matches_total{filter, rule}; with a remote service,
// authz_remote_checks_total{filter, result=allowed|denied|error},
// authz_remote_errors_total{filter, reason=server_error|unavailable|malformed|dispatch}
// and authz_remote_fail_open_total{filter}.
package authz
