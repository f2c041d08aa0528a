package headerauth_test

import (
	"slices"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// Filter configurations the cases share.
const (
	// tutorial is the managed-mesh tutorial's check.
	tutorial = `{"header": "allow", "values": ["true"], "deny": {"body": "denied\n", "headers": {"x-denied-by": "headerauth"}}}`
	// apiKeys forwards the caller's name instead of its key.
	apiKeys = `{"header": "x-api-key", "keys": {"alice": "k-alice-0001", "bob": "k-bob-0002"},
		"strip": true, "identity_header": "x-consumer",
		"bypass": [{"path": {"exact": "/healthz"}}],
		"deny": {"status": 401, "body": "key required\n", "headers": {"WWW-Authenticate": "ApiKey realm=\"shop\""}}}`
	bypass = `{"header": "allow", "values": ["true"],
		"bypass": [{"path": {"exact": "/healthz"}}, {"path": {"prefix": "/public/"}}, {"methods": ["OPTIONS"]}]}`
)

type request struct {
	method, path string // GET / when empty
	headers      [][2]string
}

type authCase struct {
	name   string
	config string // the filter's config object
	mode   string // "" (enforce) or "shadow"
	req    request

	status      uint32 // the local reply's status; 0: the request goes upstream
	body        string
	respHeaders [][2]string // each must be in the local reply

	upstream    [][2]string // each header's values upstream must be exactly these
	notUpstream []string    // headers that must not reach the upstream

	decision string // allowed, denied or shadow_denied
	bypassed bool
	log      string // a substring some log line must contain
}

func TestRequests(t *testing.T) {
	cases := []authCase{
		{name: "no header", config: tutorial, status: 403, body: "denied\n",
			respHeaders: [][2]string{{"x-denied-by", "headerauth"}}, decision: "denied",
			log: `filter headerauth denied with 403: header "allow" is missing`},
		{name: "wrong value", config: tutorial, req: request{headers: [][2]string{{"allow", "false"}}},
			status: 403, body: "denied\n", decision: "denied",
			log: `header "allow" has a value that is not allowed`},
		{name: "right value", config: tutorial, req: request{headers: [][2]string{{"allow", "true"}}},
			upstream: [][2]string{{"allow", "true"}}, decision: "allowed"},
		{name: "mixed-case header name in the request", config: tutorial,
			req: request{headers: [][2]string{{"Allow", "true"}}}, decision: "allowed"},
		{name: "mixed-case header name in the config", config: `{"header": "X-Allow", "values": ["true"]}`,
			req: request{headers: [][2]string{{"x-allow", "true"}}}, decision: "allowed"},
		{name: "values match exactly by default", config: tutorial,
			req: request{headers: [][2]string{{"allow", "TRUE"}}}, status: 403, decision: "denied"},
		{name: "values ignore case on request", config: `{"header": "allow", "values": ["true"], "ignore_case": true}`,
			req: request{headers: [][2]string{{"allow", "TRUE"}}}, decision: "allowed"},
		{name: "any of several values", config: `{"header": "allow", "values": ["true", "yes"]}`,
			req: request{headers: [][2]string{{"allow", "yes"}}}, decision: "allowed"},
		{name: "repeated header, every value allowed", config: `{"header": "allow", "values": ["true", "yes"]}`,
			req: request{headers: [][2]string{{"allow", "yes"}, {"allow", "true"}}}, decision: "allowed"},
		{name: "repeated header, one value not allowed", config: tutorial,
			req: request{headers: [][2]string{{"allow", "true"}, {"allow", "false"}}}, status: 403, decision: "denied"},
		{name: "comma-joined values are one value", config: tutorial,
			req: request{headers: [][2]string{{"allow", "true,true"}}}, status: 403, decision: "denied"},
		{name: "presence rule", config: `{"header": "x-user"}`,
			req: request{headers: [][2]string{{"x-user", "anything"}}}, decision: "allowed"},
		{name: "absent rule", config: `{"header": "x-internal", "absent": true}`,
			req: request{headers: [][2]string{{"x-internal", "1"}}}, status: 403, decision: "denied",
			log: `header "x-internal" must be absent`},
		{name: "all_of names the failing rule", config: `{"all_of": [{"header": "allow", "values": ["true"]}, {"header": "x-tenant", "values": ["a", "b"]}]}`,
			req: request{headers: [][2]string{{"allow", "true"}, {"x-tenant", "c"}}}, status: 403, decision: "denied",
			log: `all_of[1]: header "x-tenant" has a value that is not allowed`},
		{name: "rules must all pass", config: `{"rules": [{"header": "allow", "values": ["true"]}, {"header": "x-debug", "absent": true}]}`,
			req: request{headers: [][2]string{{"allow", "true"}, {"x-debug", "1"}}}, status: 403, decision: "denied",
			log: `rules[1]: header "x-debug" must be absent`},
		{name: "rules pass", config: `{"rules": [{"header": "allow", "values": ["true"]}, {"header": "x-debug", "absent": true}]}`,
			req: request{headers: [][2]string{{"allow", "true"}}}, decision: "allowed"},
		{name: "any_of passes on its second rule", config: `{"any_of": [{"header": "allow", "values": ["true"]}, {"header": "x-internal"}]}`,
			req: request{headers: [][2]string{{"x-internal", "1"}}}, decision: "allowed"},

		{name: "bypass path", config: bypass, req: request{path: "/healthz"}, decision: "allowed", bypassed: true},
		{name: "bypass path ignores the query", config: bypass, req: request{path: "/healthz?verbose=1"}, decision: "allowed", bypassed: true},
		{name: "bypass path prefix", config: bypass, req: request{path: "/public/logo.png"}, decision: "allowed", bypassed: true},
		{name: "a prefix is not a word prefix", config: bypass, req: request{path: "/publicity"}, status: 403, decision: "denied"},
		{name: "exact path only", config: bypass, req: request{path: "/healthz/more"}, status: 403, decision: "denied"},
		{name: "dot segments are resolved", config: bypass, req: request{path: "/public/../admin"}, status: 403, decision: "denied"},
		{name: "encoded dot segments are resolved", config: bypass, req: request{path: "/public/%2e%2e/admin"}, status: 403, decision: "denied"},
		{name: "a dot segment that stays under the prefix bypasses", config: bypass,
			req: request{path: "/public/./logo.png"}, decision: "allowed", bypassed: true},
		{name: "bypass method", config: bypass, req: request{method: "OPTIONS", path: "/orders"}, decision: "allowed", bypassed: true},
		{name: "the method of one entry and the path of another do not add up", config: `{"header": "allow", "values": ["true"],
			"bypass": [{"methods": ["OPTIONS"], "path": {"prefix": "/cors/"}}, {"path": {"exact": "/healthz"}}]}`,
			req: request{method: "OPTIONS", path: "/admin"}, status: 403, decision: "denied"},

		{name: "valid key: stripped, identity set", config: apiKeys,
			req:      request{headers: [][2]string{{"x-api-key", "k-bob-0002"}}},
			upstream: [][2]string{{"x-consumer", "bob"}}, notUpstream: []string{"x-api-key"}, decision: "allowed"},
		{name: "forged identity is overwritten", config: apiKeys,
			req:      request{headers: [][2]string{{"x-consumer", "admin"}, {"x-api-key", "k-alice-0001"}}},
			upstream: [][2]string{{"x-consumer", "alice"}}, notUpstream: []string{"x-api-key"}, decision: "allowed"},
		{name: "forged identity is removed from bypassed requests", config: apiKeys,
			req:         request{path: "/healthz", headers: [][2]string{{"x-consumer", "admin"}, {"x-api-key", "k-alice-0001"}}},
			notUpstream: []string{"x-consumer", "x-api-key"}, decision: "allowed", bypassed: true},
		{name: "wrong key: 401 with a challenge", config: apiKeys,
			req:    request{headers: [][2]string{{"x-api-key", "k-alice-0002"}}},
			status: 401, body: "key required\n", respHeaders: [][2]string{{"www-authenticate", `ApiKey realm="shop"`}},
			decision: "denied", log: `header "x-api-key" does not carry a valid key`},
		{name: "a key sent twice", config: apiKeys,
			req:    request{headers: [][2]string{{"x-api-key", "k-alice-0001"}, {"x-api-key", "k-bob-0002"}}},
			status: 401, decision: "denied", log: `header "x-api-key" is sent 2 times`},
		{name: "secret values", config: `{"header": "x-token", "values": ["t-1", "t-2"], "secret": true}`,
			req: request{headers: [][2]string{{"x-token", "t-2"}}}, upstream: [][2]string{{"x-token", "t-2"}}, decision: "allowed"},

		// ignore_case folds ASCII letters only, and rules on :path,
		// :authority and :method are conditions of the match package.
		{name: "ignore_case folds ASCII", config: `{"header": "x-role", "values": ["key"], "ignore_case": true}`,
			req: request{headers: [][2]string{{"x-role", "KEY"}}}, decision: "allowed"},
		{name: "ignore_case does not fold the Kelvin sign", config: `{"header": "x-role", "values": ["key"], "ignore_case": true}`,
			req: request{headers: [][2]string{{"x-role", "\u212aey"}}}, status: 403, decision: "denied"},
		{name: "a :path rule in normal form", config: `{"header": ":path", "values": ["/status"]}`,
			req: request{path: "/x/../status?q=1"}, decision: "allowed"},
		{name: "a :path rule and a parameter", config: `{"header": ":path", "values": ["/status"]}`,
			req: request{path: "/status;x"}, status: 403, decision: "denied"},
		{name: "a :method rule and an override header", config: `{"header": ":method", "values": ["GET"]}`,
			req: request{headers: [][2]string{{"x-http-method-override", "DELETE"}}}, status: 403, decision: "denied"},

		{name: "shadow mode lets a denial through", config: tutorial, mode: "shadow",
			decision: "shadow_denied", log: `would deny with 403 (shadow mode): header "allow" is missing`},
		{name: "shadow mode still strips and removes forged identities", config: apiKeys, mode: "shadow",
			req:         request{headers: [][2]string{{"x-consumer", "admin"}, {"x-api-key", "wrong"}}},
			notUpstream: []string{"x-consumer", "x-api-key"}, decision: "shadow_denied"},
		{name: "shadow mode allows what passes", config: apiKeys, mode: "shadow",
			req:      request{headers: [][2]string{{"x-api-key", "k-bob-0002"}}},
			upstream: [][2]string{{"x-consumer", "bob"}}, decision: "allowed"},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { c.run(t, r) })
		}
	})
}

func (c authCase) run(t *testing.T, r wasmtest.Runner) {
	host, reset := wasmtest.Start(t, r.VM, pluginConfig(c.config, c.mode))
	defer reset()
	method, path := c.req.method, c.req.path
	if method == "" {
		method = "GET"
	}
	if path == "" {
		path = "/"
	}
	e := send(host, method, path, c.req.headers)

	switch {
	case c.status == 0 && e.local != nil:
		t.Fatalf("got local reply %d %q, want the request to go upstream", e.local.StatusCode, e.local.Data)
	case c.status == 0 && e.action != types.ActionContinue:
		t.Fatalf("action = %v, want continue", e.action)
	case c.status != 0 && e.local == nil:
		t.Fatalf("the request went upstream, want local reply %d", c.status)
	case c.status != 0:
		if e.local.StatusCode != c.status {
			t.Errorf("status = %d, want %d", e.local.StatusCode, c.status)
		}
		if c.body != "" && string(e.local.Data) != c.body {
			t.Errorf("body = %q, want %q", e.local.Data, c.body)
		}
		for _, h := range c.respHeaders {
			if got := wasmtest.HeaderValues(e.local.Headers, h[0]); !slices.Equal(got, []string{h[1]}) {
				t.Errorf("reply header %s = %q, want [%q]", h[0], got, h[1])
			}
		}
	}
	for _, h := range c.upstream {
		if got := wasmtest.HeaderValues(e.upstream, h[0]); !slices.Equal(got, []string{h[1]}) {
			t.Errorf("upstream header %s = %q, want [%q]", h[0], got, h[1])
		}
	}
	for _, name := range c.notUpstream {
		if got := wasmtest.HeaderValues(e.upstream, name); got != nil {
			t.Errorf("upstream header %s = %q, want it removed", name, got)
		}
	}

	for _, d := range []string{"allowed", "denied", "shadow_denied"} {
		want := uint64(0)
		if d == c.decision {
			want = 1
		}
		if got := wasmtest.Counter(t, host, decisions(d)); got != want {
			t.Errorf("decision %s counted %d times, want %d", d, got, want)
		}
	}
	wantBypassed := uint64(0)
	if c.bypassed {
		wantBypassed = 1
	}
	if got := wasmtest.Counter(t, host, bypassedTotal); got != wantBypassed {
		t.Errorf("bypassed counted %d times, want %d", got, wantBypassed)
	}
	if c.log != "" && !wasmtest.AnyContains(wasmtest.Logs(host), c.log) {
		t.Errorf("no log line contains %q; logs: %q", c.log, wasmtest.Logs(host))
	}
}

// TestDotSegmentWithParameter is the bypass attack on a prefix: a backend
// that strips ";" parameters before resolving dot segments reads
// "/public/..;/admin" as "/admin", so the request must not skip the check;
// and a bypass prefix written that way is refused.
func TestDotSegmentWithParameter(t *testing.T) {
	const config = `{"header": "x-key", "values": ["k"], "bypass": [{"path": {"prefix": "/public/"}}]}`
	cases := []struct {
		path    string
		key     bool
		allowed bool
	}{
		{"/public/logo.png", false, true},
		{"/public/..;/admin", false, false},
		{"/public/..;/admin", true, true},
		{"/public/..;x=1/admin", false, false},
		{"/public/%2e%2e;/admin", false, false},
		{"/public/..%3B/admin", false, false},
		{"/public//..;/admin", false, false},
		{"/public/..;/..;/admin", false, false},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, ""))
		for _, c := range cases {
			var headers [][2]string
			if c.key {
				headers = [][2]string{{"x-key", "k"}}
			}
			e := send(host, "GET", c.path, headers)
			switch {
			case c.allowed && e.local != nil:
				t.Errorf("GET %s (key %v): local reply %d, want it upstream", c.path, c.key, e.local.StatusCode)
			case !c.allowed && (e.local == nil || e.local.StatusCode != 403):
				t.Errorf("GET %s (key %v): local reply %+v, want 403", c.path, c.key, e.local)
			}
		}
		if got := wasmtest.Counter(t, host, bypassedTotal); got != 1 {
			t.Errorf("bypassed counted %d times, want 1 (/public/logo.png)", got)
		}
		reset()

		started, logs := wasmtest.TryStart(r.VM, pluginConfig(`{"header": "x-key", "values": ["k"], "bypass": [{"path": {"prefix": "/public/..;/"}}]}`, ""))
		const want = `policy: invalid plugin configuration: filters[0] (headerauth): config.bypass[0].path.prefix: ` +
			`must be in normal form, without "." or ".." segments and ";" parameters, not "/public/..;/": requests are matched in normal form`
		if started || len(logs) != 1 || logs[0] != want {
			t.Errorf("started %v, critical logs %q; want it refused with %q", started, logs, want)
		}
	})
}
