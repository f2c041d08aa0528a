// Package policy runs a chain of HTTP policy filters inside one proxy-wasm
// plugin for Envoy and Istio.
//
// The filters live in their own packages (ratelimit, headerauth,
// headermutate, authz, metrics) and know nothing of each other. This package
// is the dispatcher: the only code that implements the SDK's VMContext,
// PluginContext and HttpContext. It reads the plugin configuration, builds
// the chain once when the plugin starts, and for every request calls each
// filter's phases in order with a per-request Exchange.
//
// # Composing a plugin
//
// A plugin is a main package whose init function calls Serve (a module built
// with -buildmode=c-shared never runs main). Build the chain in Go:
//
//	func init() {
//		policy.Serve(policy.Static(
//			ratelimit.Filter(ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 2, Unit: ratelimit.Second}}),
//			headermutate.Filter(headermutate.Config{Response: headermutate.Ops{Set: [][2]string{{"who-am-i", "wasm-extension"}}}}),
//		))
//	}
//
// or let the plugin configuration (Istio's pluginConfig) choose among the
// filter kinds the plugin links in:
//
//	func init() {
//		policy.Serve(policy.Configured(ratelimit.Kind, headerauth.Kind, headermutate.Kind))
//	}
//
// with a configuration such as
//
//	{"filters": [
//	  {"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}},
//	  {"name": "headerauth", "mode": "shadow", "config": {"header": "allow", "values": ["true"]}}
//	]}
//
// Each entry has a "name" (the filter kind), an optional "id" (its name in
// logs and metrics; required to tell apart two filters of one kind), an
// optional "mode" ("enforce", the default, or "shadow"), an optional
// "match" (the requests it runs on: see "Filters on some requests") and
// its "config".
// The top level also takes "failure_mode" ("closed", the default, or
// "open": what a request gets when a filter panics), "status_on_error" (the
// status of a request failed closed, default 500), "body_limit" (the
// largest body the chain reads, in bytes, default 1048576, at most 64 MiB),
// "metrics_prefix" (default "policy") and "flush_interval" (how often
// metrics reach the proxy, default "1s"). Any error (malformed JSON, an unknown filter or
// key, a key given twice, a missing field, a wrong type, a value out of
// range, a field spelt the old way) fails the plugin start with one log
// line naming where and why; writing "values": "true" in the headerauth
// entry above gives
//
//	policy: invalid plugin configuration: filters[1] (headerauth): config.values: must be an array of strings, not a string
//
// and Envoy keeps the previous configuration.
//
// # Filters on some requests
//
// A WasmPlugin applies to every request of a workload. An entry's "match"
// (Spec.Match in Go) narrows its filter to some of them, in the match
// vocabulary every filter's rules use (package match), with "routes", the
// names of Envoy's routes, added: a rate limit on the route "login" and
// an API key check on the host "api.example.com" sit in one chain as
//
//	{"filters": [
//	  {"name": "ratelimit", "match": {"routes": ["login"]},
//	   "config": {"requests_per_unit": 5, "unit": "minute"}},
//	  {"name": "headerauth", "match": {"hosts": ["api.example.com"]},
//	   "config": {"header": "x-api-key", "values": ["k1"]}}
//	]}
//
// or in Go
//
//	policy.Static(
//		ratelimit.Filter(ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 5, Unit: ratelimit.Minute}}).
//			WithMatch(match.Match{Routes: []string{"login"}}),
//		headerauth.Filter(headerauth.Config{Rule: headerauth.Rule{Header: "x-api-key", Values: []string{"k1"}}}).
//			WithMatch(match.Match{Hosts: []string{"api.example.com"}}),
//	)
//
// A filter runs on every request that possibly matches its entry
// (match.Matcher.Possibly): under some reading of its path, of its host,
// of a header sent twice. A filter that restricts requests must not be
// skipped by a spelling of the path that a backend reads as the one it
// guards ("/login;x" and "/LOGIN" are "/login" to some backends), so the
// entry errs towards running it; a filter that only lets requests
// through, or adds to them, costs nothing more for it. The match is
// decided once per request, when the chain comes to the filter, on the
// request as earlier filters left it. A skipped filter sees nothing of
// the request, its response included, and is counted in
// policy_filter_skipped_total{filter} instead of
// policy_filter_requests_total. An entry's match cannot read the body.
//
// # How a chain runs
//
// The request phases call the filters in chain order; the response phases
// call them in reverse, like Envoy's encoder filters, so a chain m1, m2, m3
// nests as m1(m2(m3(h))): m3 sees the response first and m1 last. A filter
// returns Continue, Deny (with a local response) or Pause:
//
//   - The first Deny sends its response; later request filters do not run.
//     Envoy then passes the local reply through the plugin's response phase,
//     so response filters see it (Exchange.LocalResponse is set) and, for
//     instance, add their headers to it.
//   - Pause stops the chain until the filter resumes it, typically when an
//     HTTPCall answers; the chain then goes on with the next filter. A body
//     that arrives meanwhile is held and passed on after the resume.
//   - A filter in shadow mode never denies: its denial is logged and counted
//     and the request continues.
//   - A chain with a body filter (RequestBodyFilter, ResponseBodyFilter)
//     holds the headers of a request (or response) that has a body until
//     the body is complete, then runs its body filters on the whole body:
//     one may still deny, answer in place of the response, or replace the
//     body (Exchange.SetRequestBody, SetResponseBody), which sets the
//     content-length to match. A body over body_limit is not read: the
//     request gets 413 (or, failing open, goes on, its body filters
//     deciding without the body: Exchange.BodyTooLarge) and a response
//     goes on unchanged; both are counted in
//     policy_body_too_large_total{side} and logged once. A chain without
//     body filters reads no body and holds nothing.
//   - A stream filter (ResponseStreamFilter) sees a response body chunk by
//     chunk as it passes, and may rewrite each chunk: the chain holds
//     nothing, so a stream of events reaches the client as it comes and
//     memory does not grow with it. In a chain that holds the response
//     for a body filter, it gets the whole body at once.
//   - A filter whose decision needs the request body (a BodyReader: authz
//     or jwt with a rule on the body) decides a request that has one in
//     the body phase, and the filters after it wait for it: they run their
//     request headers phase after it, in chain order. No filter runs
//     before one that precedes it in the chain, and none for a request an
//     earlier filter denied on its body. A body filter never delays the
//     filters after it in the headers phase.
//   - A panic in a filter is recovered, logged once with the filter's name
//     and counted; the request gets 500 or the status_on_error status
//     (failure_mode "closed", the default) or continues ("open"). The VM
//     keeps serving. So does a panic outside any request: in a filter's
//     OnTick, in its Build (the plugin then refuses to start, naming the
//     filter), or in a callback the filter runs through Env.Guard (the
//     answer to an HTTP call it made from OnTick); it is logged once and
//     counted in policy_filter_panics_total{filter}. (Upstream Go builds
//     only: TinyGo cannot recover from a panic.)
//
// For every filter the chain counts requests and decisions:
// policy_filter_requests_total and policy_filter_decisions_total with
// decision allowed, denied, shadow_denied, paused or error. See the metrics
// package for how the tags become Prometheus labels.
package policy
