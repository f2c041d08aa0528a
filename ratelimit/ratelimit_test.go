package ratelimit_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

const ms = time.Millisecond

// step is a request and what must come of it.
type step struct {
	request
	status     uint32      // 200: it went upstream
	retryAfter string      // the retry-after of a denial
	headers    [][2]string // each must be in the response exactly once
	absent     []string    // headers the response must not have
	body       string      // the local reply's exact body, if set
}

type limitCase struct {
	name      string
	config    string // the filter's config object
	mode      string // "" (enforce) or "shadow"
	steps     []step
	decisions map[string]uint64 // filter_decisions_total by decision, at the end
	log       string            // a substring some log line must contain
	records   map[string]bool   // shared-data records that must (true) or must not exist
}

const tutorial = `{"requests_per_unit": 2, "unit": "second"}`

func at(d time.Duration) request { return request{at: d} }

func withHeader(d time.Duration, name, value string) request {
	return request{at: d, headers: [][2]string{{name, value}}}
}

var limitCases = []limitCase{
	{name: "Istio tutorial: 2 per second", config: tutorial, steps: []step{
		{request: at(0), status: 200, absent: []string{"retry-after", "x-ratelimit-limit"}},
		{request: at(250 * ms), status: 200},
		{request: at(500 * ms), status: 429, retryAfter: "1",
			headers: [][2]string{{"content-type", "application/json"}},
			body:    `{"error":"rate limit exceeded","limit":"2 per second","retry_after":1}`},
		{request: at(999 * ms), status: 429, retryAfter: "1"},
		{request: at(1000 * ms), status: 200},
	}, decisions: map[string]uint64{"allowed": 3, "denied": 2}, log: "rate limit exceeded: 2 per second (default)"},

	{name: "the tutorial code's 403 and body", config: `{"requests_per_unit": 2, "deny": {"status": 403, "body": "rate limited, wait and retry."}}`,
		steps: []step{
			{request: at(0), status: 200}, {request: at(0), status: 200},
			{request: at(0), status: 403, retryAfter: "1", body: "rate limited, wait and retry.",
				headers: [][2]string{{"content-type", "text/plain; charset=utf-8"}}},
		}},

	{name: "a configured reply keeps the default body", config: `{"requests_per_unit": 1, "rate_limit_headers": true,
			"deny": {"status": 503, "headers": {"Cache-Control": "no-store", "x-limited": "yes"}}}`,
		steps: []step{
			{request: at(0), status: 200, absent: []string{"cache-control", "x-limited"}},
			{request: at(0), status: 503, retryAfter: "1",
				headers: [][2]string{{"content-type", "application/json"}, {"cache-control", "no-store"}, {"x-limited", "yes"},
					{"x-ratelimit-limit", "1"}, {"x-ratelimit-remaining", "0"}},
				body: `{"error":"rate limit exceeded","limit":"1 per second","retry_after":1}`},
		}},

	{name: "content_type of the default body", config: `{"requests_per_unit": 1, "deny": {"content_type": "application/problem+json"}}`,
		steps: []step{
			{request: at(0), status: 200},
			{request: at(0), status: 429, headers: [][2]string{{"content-type", "application/problem+json"}},
				body: `{"error":"rate limit exceeded","limit":"1 per second","retry_after":1}`},
		}},

	{name: "a configured body with its content_type", config: `{"requests_per_unit": 1, "deny": {"body": "<p>slow down</p>", "content_type": "text/html"}}`,
		steps: []step{
			{request: at(0), status: 200},
			{request: at(0), status: 429, retryAfter: "1", headers: [][2]string{{"content-type", "text/html"}}, body: "<p>slow down</p>"},
		}},

	{name: "a content-type header for the default body", config: `{"requests_per_unit": 1, "deny": {"headers": {"Content-Type": "text/json"}}}`,
		steps: []step{
			{request: at(0), status: 200},
			{request: at(0), status: 429, headers: [][2]string{{"content-type", "text/json"}}},
		}},

	{name: "a configured body with a content-type header", config: `{"requests_per_unit": 1, "deny": {"body": "a,b\n", "headers": {"Content-Type": "text/csv"}}}`,
		steps: []step{
			{request: at(0), status: 200},
			{request: at(0), status: 429, headers: [][2]string{{"content-type", "text/csv"}}, body: "a,b\n"},
		}},

	{name: "retry-after is whole seconds rounded up", config: `{"tokens_per_fill": 1, "fill_interval": "2500ms"}`,
		steps: []step{
			{request: at(0), status: 200},
			{request: at(100 * ms), status: 429, retryAfter: "3",
				body: `{"error":"rate limit exceeded","limit":"1 per 2.5s","retry_after":3}`},
			{request: at(2400 * ms), status: 429, retryAfter: "1"},
			{request: at(2500 * ms), status: 200},
		}},

	{name: "per minute, burst above the rate", config: `{"requests_per_unit": 2, "unit": "minute", "burst": 3}`,
		steps: []step{
			{request: at(0), status: 200}, {request: at(0), status: 200}, {request: at(0), status: 200},
			{request: at(59 * time.Second), status: 429, retryAfter: "1"},
			{request: at(60 * time.Second), status: 200}, {request: at(60 * time.Second), status: 200},
			{request: at(61 * time.Second), status: 429, retryAfter: "59"},
		}},

	{name: "rate-limit headers on allowed and denied responses", config: `{"requests_per_unit": 2, "rate_limit_headers": true}`,
		steps: []step{
			{request: at(0), status: 200, headers: [][2]string{
				{"x-ratelimit-limit", "2"}, {"x-ratelimit-remaining", "1"}, {"x-ratelimit-reset", "1"}}},
			{request: at(300 * ms), status: 200, headers: [][2]string{{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1"}}},
			{request: at(600 * ms), status: 429, retryAfter: "1", headers: [][2]string{
				{"x-ratelimit-limit", "2"}, {"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1"}}},
		}},

	{name: "one bucket per header value; one fallback bucket without it", config: `{"requests_per_unit": 1, "key": ["header:X-User"]}`,
		steps: []step{
			{request: withHeader(0, "x-user", "alice"), status: 200},
			{request: withHeader(0, "x-user", "alice"), status: 429},
			{request: withHeader(0, "x-user", "bob"), status: 200},
			{request: at(0), status: 200},
			{request: at(0), status: 429},
			{request: withHeader(time.Second, "x-user", "alice"), status: 200},
		}},

	{name: "requests without the key let through", config: `{"requests_per_unit": 1, "key": ["header:x-user"], "missing_key": "allow"}`,
		steps: []step{
			{request: at(0), status: 200}, {request: at(0), status: 200}, {request: at(0), status: 200},
			{request: withHeader(0, "x-user", "alice"), status: 200},
			{request: withHeader(0, "x-user", "alice"), status: 429},
		}},

	{name: "source IP without the port", config: `{"requests_per_unit": 1, "key": ["source_ip"]}`,
		steps: []step{
			{request: request{source: "10.0.0.1:1000"}, status: 200},
			{request: request{source: "10.0.0.1:2000"}, status: 429},
			{request: request{source: "10.0.0.2:1000"}, status: 200},
			{request: request{source: "[2001:db8::1]:443"}, status: 200},
			{request: request{source: "[2001:db8::1]:80"}, status: 429},
		}},

	{name: "path without the query", config: `{"requests_per_unit": 1, "key": ["path"]}`,
		steps: []step{
			{request: request{path: "/a?x=1"}, status: 200},
			{request: request{path: "/a?x=2"}, status: 429},
			{request: request{path: "/b"}, status: 200},
		}},

	// Every spelling of a path is one key: a client cannot get fresh
	// buckets by writing the path differently.
	{name: "path in normal form", config: `{"requests_per_unit": 1, "key": ["path"]}`,
		steps: []step{
			{request: request{path: "/a/b"}, status: 200},
			{request: request{path: "/a//b"}, status: 429},
			{request: request{path: "//a/b"}, status: 429},
			{request: request{path: "/a/./b"}, status: 429},
			{request: request{path: "/a;x/b"}, status: 429},
			{request: request{path: "/a/b;x"}, status: 429},
			{request: request{path: "/a/b?x"}, status: 429},
			{request: request{path: "/a/c/../b"}, status: 429},
			{request: request{path: "/c/..;/a/b"}, status: 429},
			{request: request{path: "/%61/%62"}, status: 429},
			{request: request{path: "/a%2Fb"}, status: 429},
			{request: request{path: `/a\b`}, status: 429},
			// Read loosely: a trailing "/", trailing dots and spaces, case.
			{request: request{path: "/a/b/"}, status: 429},
			{request: request{path: "/a./b%20"}, status: 429},
			{request: request{path: "/A/B"}, status: 429},
			{request: request{path: "/a/b/c"}, status: 200}, // another path
			{request: request{path: "/a/c"}, status: 200},
			// Paths that cannot be read share one bucket of their own.
			{request: request{path: "/a%00"}, status: 200},
			{request: request{path: "/a#b"}, status: 429},
			{request: request{path: "/a/b%zz"}, status: 429},
			{request: request{path: "a/b"}, status: 429},
			{request: request{path: "/a/b\x01"}, status: 429},
			{request: request{path: "/a/b", at: time.Second}, status: 200},
		}},

	{name: "path prefix of two segments", config: `{"requests_per_unit": 1, "key": ["path_segments:2"]}`,
		steps: []step{
			{request: request{path: "/api/users/1"}, status: 200},
			{request: request{path: "/api/users/2?page=3"}, status: 429},
			{request: request{path: "/api/users"}, status: 429},
			{request: request{path: "/api//users/3"}, status: 429},
			{request: request{path: "/api;v=1/users"}, status: 429},
			{request: request{path: "/api/orders/../users"}, status: 429},
			{request: request{path: "/api/orders/1"}, status: 200},
			{request: request{path: "/api"}, status: 200},
			{request: request{path: "/api/%00"}, status: 200}, // unreadable: the bucket of ""
			{request: request{path: "/%00/users"}, status: 429},
		}},

	{name: "route name, with a fallback for requests without one", config: `{"requests_per_unit": 1, "key": ["route"]}`,
		steps: []step{
			{request: at(0), status: 200},
			{request: at(0), status: 429},
			{request: request{route: "orders"}, status: 200},
			{request: request{route: "orders"}, status: 429},
			{request: request{route: "users"}, status: 200},
		}},

	{name: "combined key", config: `{"requests_per_unit": 1, "key": ["header:x-user", "path"]}`,
		steps: []step{
			{request: request{path: "/x", headers: [][2]string{{"x-user", "a"}}}, status: 200},
			{request: request{path: "/x", headers: [][2]string{{"x-user", "a"}}}, status: 429},
			{request: request{path: "/y", headers: [][2]string{{"x-user", "a"}}}, status: 200},
			{request: request{path: "/x", headers: [][2]string{{"x-user", "b"}}}, status: 200},
			{request: request{path: "/x"}, status: 200}, // fallback
		}},

	{name: "rules: first match wins, unmatched requests unlimited", config: `{"rules": [
			{"match": {"methods": ["post"], "path": {"exact": "/login"}}, "limit": {"requests_per_unit": 1, "unit": "minute", "key": ["source_ip"]}},
			{"match": {"path": {"prefix": "/api/"}, "headers": [{"name": "X-Tier", "equals": "free"}]}, "limit": {"requests_per_unit": 1}},
			{"match": {"path": {"prefix": "/api/"}, "headers": [{"name": "x-tier", "absent": true}]}, "limit": {"requests_per_unit": 2}}]}`,
		steps: []step{
			{request: request{method: "POST", path: "/login", source: "1.1.1.1:1"}, status: 200},
			{request: request{at: 30 * time.Second, method: "POST", path: "/login?next=/", source: "1.1.1.1:2"}, status: 429, retryAfter: "30",
				body: `{"error":"rate limit exceeded","limit":"1 per minute","retry_after":30}`},
			{request: request{at: 30 * time.Second, method: "POST", path: "/login", source: "2.2.2.2:1"}, status: 200},
			{request: request{at: 30 * time.Second, path: "/login"}, status: 200},
			{request: request{at: 30 * time.Second, path: "/login"}, status: 200},
			{request: request{at: 31 * time.Second, path: "/api/x", headers: [][2]string{{"x-tier", "free"}}}, status: 200},
			{request: request{at: 31 * time.Second, path: "/api/y", headers: [][2]string{{"x-tier", "free"}}}, status: 429},
			{request: request{at: 31 * time.Second, path: "/api/x", headers: [][2]string{{"x-tier", "paid"}}}, status: 200},
			{request: request{at: 31 * time.Second, path: "/api/x", headers: [][2]string{{"x-tier", "paid"}}}, status: 200},
			{request: request{at: 31 * time.Second, path: "/api/x"}, status: 200},
			{request: request{at: 31 * time.Second, path: "/api/x"}, status: 200},
			{request: request{at: 31 * time.Second, path: "/api/x"}, status: 429},
			{request: request{at: 31 * time.Second, path: "/apis/x"}, status: 200},
		}, log: "rate limit exceeded: 1 per minute (rules[0])"},

	{name: "default limit behind the rules", config: `{"requests_per_unit": 1, "rules": [{"match": {"path": {"exact": "/healthz"}}, "limit": {"requests_per_unit": 100}}]}`,
		steps: []step{
			{request: request{path: "/healthz"}, status: 200}, {request: request{path: "/healthz"}, status: 200},
			{request: request{path: "/"}, status: 200}, {request: request{path: "/"}, status: 429},
			{request: request{path: "/healthz"}, status: 200},
		}},

	{name: "every spelling of /login counts against its limit", config: loginLimit, steps: loginSpellingSteps()},

	{name: "a doubtful path counts against the default limit too", config: loginLimit, steps: concat(
		[]step{{request: request{path: "/login"}, status: 200}},
		// Certainly /login: the default's bucket is not touched.
		repeat(100, step{request: request{path: "/login"}, status: 429}),
		[]step{{request: request{path: "/other"}, status: 200}},
		// /login to some backends, //login to others: both buckets.
		repeat(99, step{request: request{path: "//login"}, status: 429,
			body: `{"error":"rate limit exceeded","limit":"1 per minute","retry_after":60}`}),
		[]step{{request: request{path: "/other"}, status: 429, retryAfter: "1",
			body: `{"error":"rate limit exceeded","limit":"100 per second","retry_after":1}`}},
	), log: "rate limit exceeded: 100 per second (default)"},

	{name: "a generous rule does not lift the strict default off other paths", config: `{"requests_per_unit": 1, "unit": "minute",
			"rules": [{"match": {"path": {"prefix": "/bulk/"}}, "limit": {"requests_per_unit": 100}}]}`,
		steps: []step{
			{request: request{path: "/bulk/a"}, status: 200},
			{request: request{path: "/bulk/b"}, status: 200},
			// /bulk/..;/login is /login to a backend that strips ";"
			// parameters: it takes the default's one token.
			{request: request{path: "/bulk/..;/login"}, status: 200},
			{request: request{path: "/bulk/..;/login"}, status: 429, retryAfter: "60",
				body: `{"error":"rate limit exceeded","limit":"1 per minute","retry_after":60}`},
			{request: request{path: "/login"}, status: 429},
			{request: request{path: "/bulk/%2e%2e/login"}, status: 429},
			{request: request{path: "/bulk/..%2Flogin"}, status: 429},
			{request: request{path: `/bulk\..\login`}, status: 429},
			{request: request{path: "/bulk/%00/../../login"}, status: 429},
			{request: request{path: "/BULK/a"}, status: 429},
			{request: request{path: "/bulk/c"}, status: 200},
			{request: request{path: "/bulk/..;/login", at: time.Minute}, status: 200},
		}},

	{name: "shadow mode lets denied requests through and counts them", config: `{"requests_per_unit": 2, "rate_limit_headers": true}`, mode: "shadow",
		steps: []step{
			{request: at(0), status: 200}, {request: at(0), status: 200},
			{request: at(0), status: 200, headers: [][2]string{{"x-ratelimit-remaining", "0"}}, absent: []string{"retry-after"}},
		}, decisions: map[string]uint64{"allowed": 2, "shadow_denied": 1, "denied": 0},
		log: "would deny with 429 (shadow mode): rate limit exceeded"},

	{name: "proxy scope keeps the bucket in shared data", config: tutorial + ``,
		steps:   []step{{request: at(0), status: 200}},
		records: map[string]bool{"ratelimit/ratelimit/default/all": true}},

	{name: "domain names the records", config: `{"requests_per_unit": 2, "domain": "shop"}`,
		steps:   []step{{request: at(0), status: 200}},
		records: map[string]bool{"ratelimit/shop/default/all": true, "ratelimit/ratelimit/default/all": false}},

	{name: "worker scope keeps the bucket in the VM", config: `{"requests_per_unit": 2, "scope": "worker"}`,
		steps: []step{
			{request: at(0), status: 200}, {request: at(0), status: 200}, {request: at(0), status: 429},
			{request: at(time.Second), status: 200},
		}, records: map[string]bool{"ratelimit/ratelimit/default/all": false}},
}

// loginLimit limits /login to 1 request a minute, and every other request
// to 100 a second.
const loginLimit = `{"requests_per_unit": 100,
	"rules": [{"match": {"path": {"prefix": "/login"}}, "limit": {"requests_per_unit": 1, "unit": "minute"}}]}`

// loginSpellings are paths some backend reads as /login, or that cannot be
// read safely.
var loginSpellings = []string{"/LOGIN", "//login", "/login;x", "/x/../login", "/Login?next=/",
	"/%6Cogin", "/x/..;/login", `/x\..\login`, "/x%2F..%2Flogin", "/login%00", "login"}

// loginSpellingSteps drains the /login bucket with /login, finds each
// spelling denied, then, a minute apart, lets each spelling take the
// refilled token and finds /login denied.
func loginSpellingSteps() []step {
	steps := []step{{request: request{path: "/login"}, status: 200}, {request: request{path: "/login"}, status: 429}}
	for _, p := range loginSpellings {
		steps = append(steps, step{request: request{path: p}, status: 429})
	}
	// Paths that are not /login however they are read.
	for _, p := range []string{"/log/in", "/api/login", "/logi", "/x/%2E%2E/x/login", "/login/../x"} {
		steps = append(steps, step{request: request{path: p}, status: 200})
	}
	for i, p := range loginSpellings {
		at := time.Duration(i+1) * time.Minute
		steps = append(steps,
			step{request: request{at: at, path: p}, status: 200},
			step{request: request{at: at, path: "/login"}, status: 429},
			step{request: request{at: at, path: p}, status: 429})
	}
	return steps
}

func repeat(n int, s step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func concat(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestRequests(t *testing.T) {
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range limitCases {
			t.Run(c.name, func(t *testing.T) { runCase(t, r, c) })
		}
	})
}

func runCase(t *testing.T, r wasmtest.Runner, c limitCase) {
	host, reset := wasmtest.Start(t, r.VM, pluginConfig(c.config, c.mode))
	defer reset()
	for i, s := range c.steps {
		res := send(t, host, r.Wasm, s.request)
		if res.status != s.status {
			t.Fatalf("request %d (t0+%v %s): status %d, want %d; body %q", i, s.at, s.path, res.status, s.status, res.body)
		}
		if ra := wasmtest.HeaderValues(res.headers, "retry-after"); s.retryAfter != "" && !slices.Equal(ra, []string{s.retryAfter}) {
			t.Errorf("request %d: retry-after %q, want %q", i, ra, s.retryAfter)
		}
		for _, h := range s.headers {
			if got := wasmtest.HeaderValues(res.headers, h[0]); !slices.Equal(got, []string{h[1]}) {
				t.Errorf("request %d: %s = %q, want [%q]; headers %q", i, h[0], got, h[1], res.headers)
			}
		}
		for _, name := range s.absent {
			if got := wasmtest.HeaderValues(res.headers, name); got != nil {
				t.Errorf("request %d: unexpected %s %q", i, name, got)
			}
		}
		if s.body != "" && res.body != s.body {
			t.Errorf("request %d: body %q, want %q", i, res.body, s.body)
		}
	}
	for d, want := range c.decisions {
		if got := wasmtest.Counter(t, host, decisions(d)); got != want {
			t.Errorf("decisions %s = %d, want %d", d, got, want)
		}
	}
	if c.log != "" && !wasmtest.AnyContains(wasmtest.Logs(host), c.log) {
		t.Errorf("no log line contains %q: %q", c.log, wasmtest.Logs(host))
	}
	for name, want := range c.records {
		_, _, err := proxywasm.GetSharedData(name)
		if exists := err == nil; exists != want {
			t.Errorf("shared-data record %q exists: %v, want %v (err %v)", name, exists, want, err)
		}
		if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
			t.Errorf("reading %q: %v", name, err)
		}
	}
}
