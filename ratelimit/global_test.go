package ratelimit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// globalConfig is a filter configuration with a global limit whose
// "global" object has the given descriptors and extra members, and the
// filter's own extra members at the top.
func globalConfig(descriptors, extra, top string) string {
	if extra != "" {
		extra = ", " + extra
	}
	if top != "" {
		top += ", "
	}
	return `{` + top + `"global": {"cluster": "ratelimit", "domain": "api", "descriptors": ` + descriptors + extra + `}}`
}

// perClient is the example's descriptor: one limit per x-client value.
const perClient = `[{"entries": [{"generic_key": "per-client"}, {"request_header": {"name": "x-client", "key": "client"}}]}]`

// TestGlobalDescriptors: every action builds its entry from the request; a
// descriptor an entry cannot be built for is left out; no descriptor, no
// check.
func TestGlobalDescriptors(t *testing.T) {
	const descriptors = `[
		{"entries": [{"generic_key": "per-client"}, {"request_header": {"name": "X-Client", "key": "client"}}]},
		{"entries": [{"request_header": {"name": "x-client", "key": "client"}}, {"path": {}}]},
		{"entries": [{"remote_address": {}}]},
		{"entries": [{"authority": {"key": "host"}}, {"method": {}}]},
		{"entries": [{"route": {}}]},
		{"entries": [{"header_value_match": {"match": {"headers": [{"name": "x-admin", "present": true}], "path": {"prefix": "/admin/"}}, "value": "admin"}}]},
		{"entries": [{"request_header": {"name": "x-plan", "key": "plan", "default": "free"}}]},
		{"entries": [{"generic_key": {"key": "tier", "value": "gold"}}]}]`
	full := `{"domain":"api","descriptors":[` +
		`{"entries":[{"key":"generic_key","value":"per-client"},{"key":"client","value":"c1"}]},` +
		`{"entries":[{"key":"client","value":"c1"},{"key":"path","value":"/admin/b/c"}]},` +
		`{"entries":[{"key":"remote_address","value":"10.1.2.3"}]},` +
		`{"entries":[{"key":"host","value":"api.example.com"},{"key":"method","value":"GET"}]},` +
		`{"entries":[{"key":"route","value":"r1"}]},` +
		`{"entries":[{"key":"header_match","value":"admin"}]},` +
		`{"entries":[{"key":"plan","value":"pro"}]},` +
		`{"entries":[{"key":"tier","value":"gold"}]}],"hitsAddend":1}`
	cases := []struct {
		name string
		req  request
		body string // "" for no check
	}{
		{name: "every action", req: request{method: "get", path: "/admin//b/./c;x?q=1", source: "10.1.2.3:5555", route: "r1",
			headers: [][2]string{{":authority", "API.Example.com.:8080"}, {"x-client", "c1"}, {"x-client", "c2"}, {"x-admin", "yes"}, {"x-plan", "pro"}}},
			body: full},
		// Without x-client, route name, x-admin or x-plan: the descriptors
		// that need them are left out, x-plan's default is taken.
		{name: "missing header and route", req: request{method: "POST", path: "/a", source: "[2001:db8::1]:443", headers: [][2]string{{":authority", "a.example.com"}}},
			body: `{"domain":"api","descriptors":[` +
				`{"entries":[{"key":"remote_address","value":"2001:db8::1"}]},` +
				`{"entries":[{"key":"host","value":"a.example.com"},{"key":"method","value":"POST"}]},` +
				`{"entries":[{"key":"plan","value":"free"}]},` +
				`{"entries":[{"key":"tier","value":"gold"}]}],"hitsAddend":1}`},
		// The path and host are the values the local limit keys with: the
		// path's key (loose, lower case) and the canonical address, so a
		// limit on /login in the service holds for every spelling of it.
		{name: "path and host as keys", req: request{path: "/LOGIN./?x=1", headers: [][2]string{{":authority", "[::ffff:127.0.0.1]:8080"}, {"x-client", "c1"}}},
			body: `{"domain":"api","descriptors":[` +
				`{"entries":[{"key":"generic_key","value":"per-client"},{"key":"client","value":"c1"}]},` +
				`{"entries":[{"key":"client","value":"c1"},{"key":"path","value":"/login"}]},` +
				`{"entries":[{"key":"host","value":"127.0.0.1"},{"key":"method","value":"GET"}]},` +
				`{"entries":[{"key":"plan","value":"free"}]},` +
				`{"entries":[{"key":"tier","value":"gold"}]}],"hitsAddend":1}`},
		// A path and an authority that cannot be read safely share one
		// value, no readable path's or host's.
		{name: "unreadable path and authority", req: request{path: "/admin/%00", headers: [][2]string{{":authority", "a:80:80"}, {"x-client", "c1"}, {"x-admin", ""}}},
			body: `{"domain":"api","descriptors":[` +
				`{"entries":[{"key":"generic_key","value":"per-client"},{"key":"client","value":"c1"}]},` +
				`{"entries":[{"key":"client","value":"c1"},{"key":"path","value":"(unreadable)"}]},` +
				`{"entries":[{"key":"host","value":"(unreadable)"},{"key":"method","value":"GET"}]},` +
				`{"entries":[{"key":"header_match","value":"admin"}]},` +
				`{"entries":[{"key":"plan","value":"free"}]},` +
				`{"entries":[{"key":"tier","value":"gold"}]}],"hitsAddend":1}`},
		// A header value cannot break out of its JSON string, and bytes
		// that are not UTF-8 become U+FFFD.
		{name: "value escaped", req: request{path: "/x", headers: [][2]string{{"x-client", "c\"1\\\t\x7f\xff}]"}}},
			body: `{"domain":"api","descriptors":[` +
				`{"entries":[{"key":"generic_key","value":"per-client"},{"key":"client","value":"c\"1\\\u0009\u007f` + "\ufffd" + `}]"}]},` +
				`{"entries":[{"key":"client","value":"c\"1\\\u0009\u007f` + "\ufffd" + `}]"},{"key":"path","value":"/x"}]},` +
				`{"entries":[{"key":"host","value":"example.com"},{"key":"method","value":"GET"}]},` +
				`{"entries":[{"key":"plan","value":"free"}]},` +
				`{"entries":[{"key":"tier","value":"gold"}]}],"hitsAddend":1}`},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(globalConfig(descriptors, `"authority": "rls.internal"`, ""), ""))
				defer reset()
				id, calls := begin(t, host, c.req)
				if len(calls) != 1 {
					t.Fatalf("%d checks, want 1", len(calls))
				}
				call := calls[0]
				if call.Upstream != "ratelimit" {
					t.Errorf("check sent to %q, want ratelimit", call.Upstream)
				}
				for _, h := range [][2]string{{":method", "POST"}, {":path", "/json"}, {":authority", "rls.internal"},
					{"content-type", "application/json"}, {"content-length", itoa(uint32(len(c.body)))}} {
					if got := wasmtest.HeaderValues(call.Headers, h[0]); len(got) != 1 || got[0] != h[1] {
						t.Errorf("check header %s = %q, want %q", h[0], got, h[1])
					}
				}
				if string(call.Body) != c.body {
					t.Errorf("check body\n got %s\nwant %s", call.Body, c.body)
				}
				host.CallOnHttpCallResponse(call.CalloutID, [][2]string{{":status", "200"}}, nil, []byte(`{"overallCode":"OK"}`))
				if res := end(t, host, r.Wasm, id); res.status != 200 {
					t.Errorf("status %d, want 200", res.status)
				}
			})
		}
		t.Run("no descriptor applies", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, pluginConfig(globalConfig(perClient, "", ""), ""))
			defer reset()
			id, calls := begin(t, host, request{path: "/"})
			if len(calls) != 0 {
				t.Fatalf("%d checks for a request without x-client, want none", len(calls))
			}
			if res := end(t, host, r.Wasm, id); res.status != 200 {
				t.Errorf("status %d, want 200", res.status)
			}
			if n := wasmtest.Counter(t, host, globalCounter("checks_total", "result", "ok")); n != 0 {
				t.Errorf("checks{ok} = %d, want 0", n)
			}
		})
	})
}

func globalCounter(name, key, value string) string {
	return "filter=.=ratelimit;.;" + key + "=.=" + value + ";.;policy_ratelimit_global_" + name
}

// The service's answers, as envoyproxy/ratelimit writes them.
const (
	overLimit = `{"overallCode":"OVER_LIMIT","statuses":[` +
		`{"code":"OVER_LIMIT","currentLimit":{"requestsPerUnit":3,"unit":"MINUTE"},"durationUntilReset":"41.200s"},` +
		`{"code":"OK","currentLimit":{"requestsPerUnit":100,"unit":"HOUR"},"limitRemaining":57,"durationUntilReset":"1500s"}]}`
	underLimit = `{"overallCode":"OK","statuses":[` +
		`{"code":"OK","currentLimit":{"requestsPerUnit":3,"unit":"MINUTE"},"limitRemaining":2,"durationUntilReset":"41s"},` +
		`{"code":"OK","currentLimit":{"requestsPerUnit":100,"unit":"HOUR"},"limitRemaining":57,"durationUntilReset":"1500s"},` +
		`{"code":"OK"}]}`
)

func TestGlobalDecisions(t *testing.T) {
	headersOn := `"rate_limit_headers": true`
	cases := []struct {
		name, top, extra, mode string
		status                 int    // the service's; 0 for no answer
		answer                 string // its body

		want       uint32
		body       string
		headers    [][2]string // on the client's response
		notHeaders []string
		result     string // ratelimit_global_checks_total result
		reason     string // ratelimit_global_errors_total reason
		decision   string
		log        string
	}{
		{name: "under the limit", status: 200, answer: underLimit, want: 200, notHeaders: []string{"x-ratelimit-limit", "retry-after"},
			result: "ok", decision: "allowed"},
		{name: "under the limit with headers", top: headersOn, status: 200, answer: underLimit, want: 200,
			headers: [][2]string{{"x-ratelimit-limit", "3, 3;w=60, 100;w=3600"}, {"x-ratelimit-remaining", "2"}, {"x-ratelimit-reset", "41"}},
			result:  "ok", decision: "allowed"},
		{name: "over the limit", status: 429, answer: overLimit, want: 429,
			body:    `{"error":"rate limit exceeded","limit":"3 per minute","retry_after":42}`,
			headers: [][2]string{{"retry-after", "42"}, {"content-type", "application/json"}}, notHeaders: []string{"x-ratelimit-limit"},
			result: "over_limit", decision: "denied"},
		{name: "over the limit with headers", top: headersOn, status: 429, answer: overLimit, want: 429,
			headers: [][2]string{{"retry-after", "42"}, {"x-ratelimit-limit", "3, 3;w=60, 100;w=3600"}, {"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "42"}},
			result:  "over_limit", decision: "denied"},
		{name: "retry-after rounds up", status: 429, want: 429,
			answer:  `{"overallCode":"OVER_LIMIT","statuses":[{"code":"OVER_LIMIT","currentLimit":{"requestsPerUnit":5,"unit":"SECOND"},"durationUntilReset":"0.500s"}]}`,
			headers: [][2]string{{"retry-after", "1"}}, result: "over_limit", decision: "denied"},
		{name: "retry-after is the longest over-limit window", status: 429, want: 429,
			answer: `{"overallCode":"OVER_LIMIT","statuses":[{"code":"OVER_LIMIT","currentLimit":{"requestsPerUnit":5,"unit":"SECOND"},"durationUntilReset":"1s"},` +
				`{"code":"OVER_LIMIT","currentLimit":{"requestsPerUnit":50,"unit":"MINUTE"},"durationUntilReset":"30s"}]}`,
			headers: [][2]string{{"retry-after", "30"}}, result: "over_limit", decision: "denied"},
		{name: "configured reply", top: `"deny": {"status": 503, "body": "slow down\n"}`, status: 429, answer: overLimit, want: 503,
			body: "slow down\n", headers: [][2]string{{"retry-after", "42"}, {"content-type", "text/plain; charset=utf-8"}},
			result: "over_limit", decision: "denied"},
		{name: "shadow mode lets the request through with the headers", mode: "shadow", top: headersOn, status: 429, answer: overLimit, want: 200,
			headers: [][2]string{{"x-ratelimit-remaining", "0"}}, notHeaders: []string{"retry-after"},
			result: "over_limit", decision: "shadow_denied"},
		// Failures, open by default.
		{name: "UNKNOWN fails open", status: 500, answer: `{"overallCode":"UNKNOWN"}`, want: 200, result: "error", reason: "server_error", decision: "allowed",
			log: `policy: filter ratelimit: rate limit service "ratelimit": answered 500: "{\"overallCode\":\"UNKNOWN\"}" (server_error); letting requests through (failure_mode open); 0 more failures since the last report`},
		{name: "no answer fails open", want: 200, result: "error", reason: "unavailable", decision: "allowed", log: "(unavailable); letting requests through"},
		{name: "no answer fails closed", extra: `"failure_mode": "closed"`, want: 429, body: `{"error":"rate limit service unavailable"}`,
			headers: [][2]string{{"content-type", "application/json"}}, notHeaders: []string{"retry-after"},
			result: "error", reason: "unavailable", decision: "denied", log: "(unavailable); denying requests with 429 (failure_mode closed)"},
		{name: "status_on_error", extra: `"failure_mode": "closed", "status_on_error": 500`, status: 503, answer: "upstream connect error", want: 500,
			result: "error", reason: "server_error", decision: "denied", log: `answered 503: "upstream connect error" (server_error); denying requests with 500`},
		{name: "the filter's status_on_error", top: `"status_on_error": 503`, extra: `"failure_mode": "closed"`, want: 503,
			result: "error", reason: "unavailable", decision: "denied"},
		{name: "a bad request fails", extra: `"failure_mode": "closed"`, status: 400, answer: "", want: 429,
			result: "error", reason: "rejected", decision: "denied", log: `answered "400": no body (rejected)`},
		{name: "a body that is not JSON", extra: `"failure_mode": "closed"`, status: 200, answer: `{"overallCode":"OK"`, want: 429,
			result: "error", reason: "malformed", decision: "denied", log: "with a body that is not JSON"},
		{name: "200 saying OVER_LIMIT", extra: `"failure_mode": "closed"`, status: 200, answer: `{"overallCode":"OVER_LIMIT"}`, want: 429,
			result: "error", reason: "malformed", decision: "denied", log: `answered 200 with overallCode "\"OVER_LIMIT\"", not "OK"`},
		{name: "429 saying OK fails open", status: 429, answer: `{"overallCode":"OK"}`, want: 200,
			result: "error", reason: "malformed", decision: "allowed"},
		{name: "no overallCode", status: 200, answer: `{}`, want: 200, result: "error", reason: "malformed", decision: "allowed"},
		{name: "a bad durationUntilReset", extra: `"failure_mode": "closed"`, status: 429, want: 429,
			answer: `{"overallCode":"OVER_LIMIT","statuses":[{"code":"OVER_LIMIT","durationUntilReset":"soon"}]}`,
			result: "error", reason: "malformed", decision: "denied", log: `durationUntilReset "soon"`},
		{name: "a bad currentLimit", status: 200,
			answer: `{"overallCode":"OK","statuses":[{"code":"OK","currentLimit":{"requestsPerUnit":-3,"unit":"MINUTE"}}]}`, want: 200,
			result: "error", reason: "malformed", decision: "allowed"},
		{name: "shadow mode lets a failed check through", mode: "shadow", extra: `"failure_mode": "closed"`, want: 200,
			result: "error", reason: "unavailable", decision: "shadow_denied"},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(globalConfig(perClient, c.extra, c.top), c.mode))
				defer reset()
				id, calls := begin(t, host, request{headers: [][2]string{{"x-client", "c1"}}})
				if len(calls) != 1 {
					t.Fatalf("%d checks, want 1", len(calls))
				}
				var headers [][2]string
				if c.status != 0 {
					headers = [][2]string{{":status", itoa(uint32(c.status))}, {"content-type", "application/json"}}
				}
				host.CallOnHttpCallResponse(calls[0].CalloutID, headers, nil, []byte(c.answer))
				res := end(t, host, r.Wasm, id)
				if res.status != c.want {
					t.Fatalf("status %d, want %d", res.status, c.want)
				}
				if c.body != "" && res.body != c.body {
					t.Errorf("body %q, want %q", res.body, c.body)
				}
				for _, h := range c.headers {
					if got := wasmtest.HeaderValues(res.headers, h[0]); len(got) != 1 || got[0] != h[1] {
						t.Errorf("header %s = %q, want %q", h[0], got, h[1])
					}
				}
				for _, name := range c.notHeaders {
					if got := wasmtest.HeaderValues(res.headers, name); got != nil {
						t.Errorf("response carries %s: %q", name, got)
					}
				}
				for _, result := range []string{"ok", "over_limit", "error"} {
					want := uint64(0)
					if result == c.result {
						want = 1
					}
					if got := wasmtest.Counter(t, host, globalCounter("checks_total", "result", result)); got != want {
						t.Errorf("checks{%s} = %d, want %d", result, got, want)
					}
				}
				for _, reason := range []string{"unavailable", "server_error", "rejected", "malformed", "dispatch"} {
					want := uint64(0)
					if reason == c.reason {
						want = 1
					}
					if got := wasmtest.Counter(t, host, globalCounter("errors_total", "reason", reason)); got != want {
						t.Errorf("errors{%s} = %d, want %d", reason, got, want)
					}
				}
				if got := wasmtest.Counter(t, host, decisions(c.decision)); got != 1 {
					t.Errorf("decisions{%s} = %d, want 1", c.decision, got)
				}
				warnings := host.GetWarnLogs()
				if c.log != "" && !wasmtest.AnyContains(warnings, c.log) {
					t.Errorf("no warning containing %q in %q", c.log, warnings)
				}
				if c.reason == "" && len(warnings) != 0 {
					t.Errorf("warnings without a failure: %q", warnings)
				}
			})
		}
	})
}

// TestGlobalFailuresLoggedOncePerMinute: an outage writes one line, then one
// a minute with the count of those left out; every request is answered.
func TestGlobalFailuresLoggedOncePerMinute(t *testing.T) {
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(globalConfig(perClient, `"failure_mode": "closed"`, ""), ""))
		defer reset()
		// The plugin's clock is the emulator's, the same for both runs; the
		// requests are many, the log lines few.
		for i := 0; i < 20; i++ {
			id, calls := begin(t, host, request{headers: [][2]string{{"x-client", "c1"}}})
			if len(calls) != 1 {
				t.Fatalf("request %d: %d checks, want 1", i, len(calls))
			}
			host.CallOnHttpCallResponse(calls[0].CalloutID, nil, nil, nil)
			if res := end(t, host, r.Wasm, id); res.status != 429 {
				t.Fatalf("request %d: status %d, want 429", i, res.status)
			}
		}
		if n := wasmtest.Counter(t, host, globalCounter("errors_total", "reason", "unavailable")); n != 20 {
			t.Errorf("errors{unavailable} = %d, want 20", n)
		}
		if w := host.GetWarnLogs(); len(w) != 1 {
			t.Errorf("%d warnings for 20 failures within a minute, want 1: %q", len(w), w)
		}
	})
}

// TestGlobalBehindLocal: the local limit stands in front; a request it
// denies is answered without a check.
func TestGlobalBehindLocal(t *testing.T) {
	config := globalConfig(perClient, "", `"requests_per_unit": 2, "unit": "minute", "key": ["header:x-client"]`)
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, ""))
		defer reset()
		for i, want := range []uint32{200, 429, 429, 429} {
			id, calls := begin(t, host, request{headers: [][2]string{{"x-client", "c1"}}})
			if want := i < 2; (len(calls) == 1) != want {
				t.Fatalf("request %d: %d checks, want a check: %v", i, len(calls), want)
			}
			if len(calls) == 1 {
				answer := underLimit
				status := "200"
				if i == 1 {
					answer, status = overLimit, "429"
				}
				host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", status}}, nil, []byte(answer))
			}
			res := end(t, host, r.Wasm, id)
			if res.status != want {
				t.Fatalf("request %d: status %d, want %d", i, res.status, want)
			}
			if i >= 2 && !strings.Contains(res.body, `"limit":"2 per minute"`) {
				t.Errorf("request %d: body %q, want the local limit's", i, res.body)
			}
		}
		if n := wasmtest.Counter(t, host, globalCounter("checks_total", "result", "over_limit")); n != 1 {
			t.Errorf("checks{over_limit} = %d, want 1", n)
		}
		// Another client has its own local bucket and is checked.
		if _, calls := begin(t, host, request{headers: [][2]string{{"x-client", "c2"}}}); len(calls) != 1 {
			t.Errorf("c2: %d checks, want 1", len(calls))
		}
	})
}

// TestGlobalPausedRequestsResumed: several requests wait at once and are
// answered out of order; each is resumed or answered.
func TestGlobalPausedRequestsResumed(t *testing.T) {
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(globalConfig(perClient, "", ""), ""))
		defer reset()
		answers := []struct {
			status [][2]string
			body   string
			want   uint32
		}{
			{[][2]string{{":status", "200"}}, underLimit, 200},
			{[][2]string{{":status", "429"}}, overLimit, 429},
			{nil, "", 200},
		}
		ids := make([]uint32, len(answers))
		calls := make([]uint32, len(answers))
		for i := range answers {
			id, c := begin(t, host, request{headers: [][2]string{{"x-client", "c" + itoa(uint32(i))}}})
			if len(c) != 1 {
				t.Fatalf("request %d: %d checks, want 1", i, len(c))
			}
			ids[i], calls[i] = id, c[0].CalloutID
		}
		for _, i := range []int{2, 0, 1} {
			host.CallOnHttpCallResponse(calls[i], answers[i].status, nil, []byte(answers[i].body))
		}
		for i, id := range ids {
			if res := end(t, host, r.Wasm, id); res.status != answers[i].want {
				t.Errorf("request %d: status %d, want %d", i, res.status, answers[i].want)
			}
		}
	})
}

// globalConfigErrors are global configurations that must fail the start,
// with the error after "filters[0] (ratelimit): config.".
var globalConfigErrors = []struct{ config, err string }{
	{`{"global": {"domain": "api", "descriptors": [{"entries": [{"generic_key": "a"}]}]}}`, `global.cluster: is required: the Envoy cluster of the rate limit service`},
	{`{"global": {"cluster": "rl", "descriptors": [{"entries": [{"generic_key": "a"}]}]}}`, `global.domain: is required: the domain of the rate limit service's configuration`},
	{`{"global": {"cluster": "rl", "domain": "api"}}`, `global.descriptors: must have at least one descriptor`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": []}}`, `global.descriptors: must have at least one descriptor`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": []}]}}`, `global.descriptors[0].entries: must have at least one entry`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{}]}}`, `global.descriptors[0].entries: must have at least one entry`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [[{"generic_key": "a"}]]}}`, `global.descriptors[0]: must be an object, not an array`},
	{`{"global": {"cluster": "rl", "domain": "api", "timeout": "100us", "descriptors": [{"entries": [{"generic_key": "a"}]}]}}`, `global.timeout: must be at least 1ms, not 100µs`},
	{`{"global": {"cluster": "rl", "domain": "api", "timeout": 20, "descriptors": [{"entries": [{"generic_key": "a"}]}]}}`, `global.timeout: must be a duration string such as "200ms" or "1s", not a number`},
	{`{"global": {"cluster": "rl", "domain": "api", "failure_mode": "deny", "descriptors": [{"entries": [{"generic_key": "a"}]}]}}`, `global.failure_mode: must be "open" or "closed", not "deny"`},
	{`{"global": {"cluster": "rl", "domain": "api", "status_on_error": 200, "descriptors": [{"entries": [{"generic_key": "a"}]}]}}`, `global.status_on_error: must be an HTTP status code from 300 to 599, not 200`},
	{`{"global": {"cluster": "rl", "domain": "api", "failure_mode_deny": true, "descriptors": [{"entries": [{"generic_key": "a"}]}]}}`, `global.failure_mode_deny: unknown field`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{}]}]}}`, `global.descriptors[0].entries[0]: must have one of the fields generic_key, request_header, remote_address, path, authority, method, route, header_value_match, body`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"generic_key": "a", "path": {}}]}]}}`, `global.descriptors[0].entries[0].path: cannot be combined with generic_key: an entry has one action`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"destination_cluster": {}}]}]}}`, `global.descriptors[0].entries[0].destination_cluster: unknown field (known fields: authority, body, generic_key, header_value_match, method, path, remote_address, request_header, route)`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"generic_key": ""}]}]}}`, `global.descriptors[0].entries[0].generic_key: must not be empty`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"generic_key": {"key": "k"}}]}]}}`, `global.descriptors[0].entries[0].generic_key.value: is required`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"generic_key": 7}]}]}}`, `global.descriptors[0].entries[0].generic_key: must be an object, not a number`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"request_header": {"key": "client"}}]}]}}`, `global.descriptors[0].entries[0].request_header.name: is required`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"request_header": {"name": "x-client"}}]}]}}`, `global.descriptors[0].entries[0].request_header.key: is required: the descriptor key the service's configuration names`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"request_header": {"name": ":path", "key": "p"}}]}]}}`, `global.descriptors[0].entries[0].request_header.name: must be a header name, not ":path"`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"request_header": {"name": "x a", "key": "p"}}]}]}}`, `global.descriptors[0].entries[0].request_header.name: must be a header name, not "x a"`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"request_header": {"name": "x", "key": "p", "skip_if_absent": true}}]}]}}`, `global.descriptors[0].entries[0].request_header.skip_if_absent: unknown field`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"path": {"prefix": "/a"}}]}]}}`, `global.descriptors[0].entries[0].path.prefix: unknown field`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"method": "GET"}]}]}}`, `global.descriptors[0].entries[0].method: must be an object, not a string`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"header_value_match": {"match": {"path": {"prefix": "/a"}}}}]}]}}`, `global.descriptors[0].entries[0].header_value_match.value: is required`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"header_value_match": {"value": "v", "match": {"path": {"prefix": "/a/../b"}}}}]}]}}`, `global.descriptors[0].entries[0].header_value_match.match.path.prefix: must be in normal form`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"header_value_match": {"value": "v", "match": {"headers": [{"name": ":path", "prefix": "/"}]}}}]}]}}`, `global.descriptors[0].entries[0].header_value_match.match.headers[0].name: ":path" is a pseudo-header`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"header_value_match": {"value": "v", "headers": []}}]}]}}`, `global.descriptors[0].entries[0].header_value_match.headers: unknown field`},
	{`{"global": "ratelimit"}`, `global: must be an object, not a string`},
	{`{"global": {"cluster": "rl", "domain": "api", "descriptors": [` + strings.Repeat(`{"entries": [{"generic_key": "a"}]},`, 16) + `{"entries": [{"generic_key": "a"}]}]}}`, `global.descriptors: must have at most 16 descriptors, not 17`},
}

func TestGlobalConfigErrors(t *testing.T) { startFails(t, globalConfigErrors) }

// TestGlobalCalloutLatency: the check's duration, by the plugin's clock, is
// recorded in ratelimit_global_callout_milliseconds. Natively the plugin's
// clock is set; the compiled image runs in the test kit's Envoy-like host,
// whose clock the callout moves on.
func TestGlobalCalloutLatency(t *testing.T) {
	const took = 37 * time.Millisecond
	const name = "filter=.=ratelimit;.;policy_ratelimit_global_callout_milliseconds"
	config := pluginConfig(globalConfig(perClient, "", ""), "")
	t.Run("go", func(t *testing.T) {
		now := t0
		p := policy.Configured(ratelimit.Kind)
		p.Clock = func() time.Time { return now }
		host, reset := wasmtest.Start(t, p, config)
		defer reset()
		id, calls := begin(t, host, request{headers: [][2]string{{"x-client", "c1"}}})
		if len(calls) != 1 {
			t.Fatalf("%d checks, want 1", len(calls))
		}
		now = now.Add(took)
		host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", "200"}}, nil, []byte(underLimit))
		end(t, host, nil, id)
		if v, err := host.GetHistogramMetric(name); err != nil || v != 37 {
			t.Errorf("latency recorded %d (%v), want 37", v, err)
		}
	})
	t.Run("wasm", func(t *testing.T) {
		// The check takes took on the plugin's clock.
		var p *policytest.Plugin
		p = wasmtest.Plugin(t, image, config, policytest.StartTime(t0),
			policytest.Callouts(func(policytest.Callout) *policytest.Response {
				p.SetTime(p.Now().Add(took))
				return &policytest.Response{Status: 200, Body: underLimit}
			}))
		res := p.Do(policytest.Request{Headers: [][2]string{{"x-client", "c1"}}})
		if res.Err != nil || res.Status != 200 {
			t.Fatalf("status %d (%v), want 200", res.Status, res.Err)
		}
		if count, sum := p.Histogram(name); count != 1 || sum != 37 {
			t.Errorf("latency histogram: %d values summing to %d, want one value of 37", count, sum)
		}
	})
}

// TestGlobalGoConfigErrors: what only a Go configuration can get wrong.
func TestGlobalGoConfigErrors(t *testing.T) {
	base := func(e ratelimit.Entry) ratelimit.Config {
		return ratelimit.Config{Global: &ratelimit.Global{Cluster: "rl", Domain: "api",
			Descriptors: []ratelimit.Descriptor{{Entries: []ratelimit.Entry{e}}}}}
	}
	for _, c := range []struct {
		cfg ratelimit.Config
		err string
	}{
		{base(ratelimit.Entry{Action: ratelimit.PathEntry, Value: "x"}), "global.descriptors[0].entries[0].path: takes no value"},
		{base(ratelimit.Entry{Action: ratelimit.GenericKey, Value: "x", Header: "x-a"}), "global.descriptors[0].entries[0].generic_key: takes no header name or default"},
		{base(ratelimit.Entry{Action: "cookie"}), `global.descriptors[0].entries[0]: unknown action "cookie"`},
		{base(ratelimit.Entry{Action: ratelimit.MethodEntry}), ""},
	} {
		started, logs := wasmtest.TryStart(policy.Static(ratelimit.Filter(c.cfg)), "")
		if c.err == "" {
			if !started {
				t.Errorf("%+v: did not start: %q", c.cfg.Global.Descriptors, logs)
			}
			continue
		}
		if started || len(logs) != 1 || !strings.Contains(logs[0], c.err) {
			t.Errorf("%+v: started %v, logs %q; want %q", c.cfg.Global.Descriptors, started, logs, c.err)
		}
	}
}

// TestGlobalUnknownCluster: a check the proxy refuses to send (Envoy
// refuses a cluster it does not know) takes the failure mode at once. The
// proxytest emulator sends every call, so this runs the compiled image in
// the test kit's Envoy-like host, which refuses them all (no Callouts).
func TestGlobalUnknownCluster(t *testing.T) {
	for _, c := range []struct {
		failure string
		status  int
	}{{"open", 200}, {"closed", 503}} {
		t.Run(c.failure, func(t *testing.T) {
			// No Callouts: the kit's host refuses every callout.
			p := wasmtest.Plugin(t, image, pluginConfig(globalConfig(perClient, `"failure_mode": "`+c.failure+`", "status_on_error": 503`, ""), ""),
				policytest.PauseTimeout(2*time.Second))
			res := p.Do(policytest.Request{Headers: [][2]string{{"x-client", "c1"}}})
			if res.Err != nil || res.Status != c.status {
				t.Fatalf("status %d (%v), want %d", res.Status, res.Err, c.status)
			}
			if n := p.Counter(globalCounter("errors_total", "reason", "dispatch")); n != 1 {
				t.Errorf("errors{dispatch} = %d, want 1", n)
			}
			var warnings []string
			for _, l := range p.Logs() {
				if l.Level == "warn" {
					warnings = append(warnings, l.Message)
				}
			}
			if !wasmtest.AnyContains(warnings, `rate limit service "ratelimit": the check could not be sent: `) {
				t.Errorf("no warning of the refused check in %q", warnings)
			}
		})
	}
}
