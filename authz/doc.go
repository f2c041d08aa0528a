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
// Filter from a typed Config. Rules are tried in order; the first whose
// every condition matches decides (allow, deny, or ask the remote service);
// when none matches the default does:
//
//	{"name": "authz", "config": {
//	  "rules": [
//	    {"name": "status", "action": "allow",
//	     "match": {"methods": ["GET"], "path": {"glob": "/status/*"}}},
//	    {"name": "admin", "action": "allow",
//	     "match": {"path": {"glob": "/admin/**"},
//	               "headers": [{"name": "x-role", "equals": "admin"}]}}
//	  ],
//	  "default": "deny"}}
//
// A rule matches on method, path (exact, prefix, or a glob whose "*"
// segments match one segment), host, request headers (present, absent,
// equals, prefix), source address in CIDR ranges, and claims of the JWT in
// the authorization header. The matchers are compiled once, when the plugin
// starts; an invalid rule fails the start with the path of the field and the
// reason.
//
// The JWT claims are read, not verified: this filter does not check the
// token's signature, issuer, audience or expiry, so a client can write any
// claim it likes into a token of its own. Match on claims only behind a step
// that verifies the token and rejects bad ones, such as Istio's
// RequestAuthentication (with an AuthorizationPolicy requiring a principal)
// or Envoy's jwt_authn filter.
//
// Paths are matched as the proxy forwards them. Enable Envoy's path
// normalization (normalize_path and merge_slashes; Istio turns them on) so
// that "/status/../admin" cannot pass for a "/status/" path.
//
// # Remote authorization
//
// With a "remote" service, the action "remote" (the default when a service
// is configured) pauses the request and sends a check request to the
// service's cluster, as Envoy's ext_authz HTTP service does: same method,
// the path behind a prefix, the authorization header and the headers
// listed. A 2xx answer allows the request and copies the listed headers onto
// it; any other answer denies it with the service's status, body and listed
// headers. A timeout (200ms by default), a connection failure or a
// malformed answer denies with status_on_error (403), or lets the request
// through with fail_open; both are counted and logged. Whatever happens,
// the paused request is resumed or answered.
//
// # Shadow mode and metrics
//
// In shadow mode the chain logs and counts a denial instead of sending it,
// as for every filter, and counts each decision in
// filter_decisions_total{filter, decision}. The declarative filter also
// counts authz_rule_matches_total{filter, rule}; with a remote service,
// authz_remote_checks_total{filter, result=allowed|denied|error},
// authz_remote_errors_total{filter, reason=unavailable|malformed|dispatch}
// and authz_remote_fail_open_total{filter}.
package authz
