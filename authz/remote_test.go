package authz_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// remoteConfig is an authz config asking the service "ext-authz" for every
// request, with extra members added to its "remote" object and the config
// members rules added at the top.
func remoteConfig(extra, rules string) string {
	if extra != "" {
		extra = ", " + extra
	}
	if rules != "" {
		rules += ", "
	}
	return `{` + rules + `"remote": {"cluster": "ext-authz", "path_prefix": "/check",
		"request_headers": ["x-user", "Cookie"],
		"upstream_headers": ["x-auth-user", "x-auth-groups"],
		"client_headers": ["www-authenticate", "location"]` + extra + `}}`
}

// clientRequest carries headers the service must see, one it must not, and
// forged copies of the headers only the service may set.
var clientRequest = req{method: "POST", path: "/orders?id=1", host: "shop.example.com", headers: [][2]string{
	{"authorization", "Bearer t0k"}, {"x-user", "u1"}, {"cookie", "session=1"}, {"x-secret", "s"},
	{"x-auth-user", "mallory"}, {"x-auth-groups", "admins"},
}}

// reply is the service's answer; no headers means the call failed or timed
// out, as the proxy reports it.
type reply struct {
	headers [][2]string
	body    string
}

func TestRemote(t *testing.T) {
	cases := []struct {
		name, config, mode string
		reply              reply

		status      uint32 // 0: allowed upstream
		body        string
		client      [][2]string // headers the reply must carry
		notClient   []string    // headers it must not carry
		upstream    [][2]string // request headers the upstream must get
		notUpstream []string    // request headers it must not get
		result      string      // authz_remote_checks_total result
		errReason   string      // authz_remote_errors_total reason, if any
		failOpen    bool
		decision    string // filter_decisions_total decision
		log         string // a warning that must be logged
	}{
		{name: "allow copies upstream headers",
			reply:    reply{headers: [][2]string{{":status", "200"}, {"x-auth-user", "alice"}, {"x-other", "1"}}},
			upstream: [][2]string{{"x-auth-user", "alice"}, {"x-secret", "s"}}, notUpstream: []string{"x-auth-groups", "x-other"},
			result: "allowed", decision: "allowed"},
		{name: "allow with 204 and several upstream headers",
			reply:    reply{headers: [][2]string{{":status", "204"}, {"x-auth-user", "alice"}, {"x-auth-groups", "ops"}}},
			upstream: [][2]string{{"x-auth-user", "alice"}, {"x-auth-groups", "ops"}},
			result:   "allowed", decision: "allowed"},
		{name: "deny with headers and body",
			reply: reply{headers: [][2]string{{":status", "401"}, {"www-authenticate", `Bearer realm="shop"`}, {"x-internal", "trace"}, {"x-auth-user", "alice"}},
				body: "token expired\n"},
			status: 401, body: "token expired\n", client: [][2]string{{"www-authenticate", `Bearer realm="shop"`}},
			notClient: []string{"x-internal", "x-auth-user"}, result: "denied", decision: "denied"},
		{name: "deny with a redirect",
			reply:  reply{headers: [][2]string{{":status", "302"}, {"location", "https://login.example.com/"}}},
			status: 302, client: [][2]string{{"location", "https://login.example.com/"}}, result: "denied", decision: "denied"},
		{name: "a 5xx answer is a failure",
			reply:  reply{headers: [][2]string{{":status", "500"}, {"www-authenticate", "Bearer"}}, body: "oops"},
			status: 403, body: "access denied\n", notClient: []string{"www-authenticate"},
			result: "error", errReason: "server_error", decision: "denied",
			log: `policy: filter authz: authorization service "ext-authz": answered 500 after *ms (timeout 200ms): "oops"; request denied with 403 (failure_mode closed)`},
		// Envoy answers the call itself when it cannot ask the service.
		{name: "Envoy's answer to a connection failure",
			reply: reply{headers: [][2]string{{":status", "503"}, {"content-type", "text/plain"}},
				body: "upstream connect error or disconnect/reset before headers. reset reason: connection failure"},
			status: 403, body: "access denied\n", result: "error", errReason: "server_error", decision: "denied",
			log: `: answered 503 after *ms (timeout 200ms): "upstream connect error or disconnect/reset before headers. reset reason: connection failure"; request denied with 403 (failure_mode closed)`},
		{name: "Envoy's answer to a timeout, failing open", config: remoteConfig(`"failure_mode": "open"`, ""),
			reply:       reply{headers: [][2]string{{":status", "504"}}, body: "upstream request timeout"},
			notUpstream: []string{"x-auth-user", "x-auth-groups"},
			result:      "error", errReason: "server_error", failOpen: true, decision: "allowed",
			log: `: answered 504 after *ms (timeout 200ms): "upstream request timeout"; request allowed (failure_mode open)`},
		{name: "a 5xx answer's body is cut and escaped in the log",
			reply:  reply{headers: [][2]string{{":status", "502"}}, body: "a\r\nfake: log line\x00" + strings.Repeat("x", 200)},
			status: 403, result: "error", errReason: "server_error", decision: "denied",
			log: `: answered 502 after *ms (timeout 200ms): "a\r\nfake: log line\x00` + strings.Repeat("x", 120-18) + `"...; request denied`},
		{name: "a 5xx answer without a body",
			reply:  reply{headers: [][2]string{{":status", "503"}}},
			status: 403, result: "error", errReason: "server_error", decision: "denied",
			log: `: answered 503 after *ms (timeout 200ms): no body; request denied`},
		{name: "no answer fails closed",
			reply:  reply{},
			status: 403, body: "access denied\n", result: "error", errReason: "unavailable", decision: "denied",
			log: `policy: filter authz: authorization service "ext-authz": the proxy ended the call after *ms without a response: ` +
				`a connection failure, a reset or an answer too large to buffer (the proxy does not say which); request denied with 403 (failure_mode closed)`},
		{name: "failure with status_on_error", config: remoteConfig(`"status_on_error": 503, "timeout": "1s"`, ""),
			reply:  reply{},
			status: 503, result: "error", errReason: "unavailable", decision: "denied", log: ": the proxy ended the call after *ms without a response: "},
		{name: "answer without a status is malformed",
			reply:  reply{headers: [][2]string{{"content-type", "text/plain"}}, body: "ok"},
			status: 403, result: "error", errReason: "malformed", decision: "denied", log: `malformed answer: status ""`},
		{name: "answer with a bad status is malformed",
			reply:  reply{headers: [][2]string{{":status", "2OO"}}},
			status: 403, result: "error", errReason: "malformed", decision: "denied", log: `malformed answer: status "2OO"`},
		{name: "informational status is malformed",
			reply:  reply{headers: [][2]string{{":status", "100"}}},
			status: 403, result: "error", errReason: "malformed", decision: "denied"},
		{name: "fail open on failure", config: remoteConfig(`"failure_mode": "open"`, ""),
			reply:       reply{},
			notUpstream: []string{"x-auth-user", "x-auth-groups"},
			result:      "error", errReason: "unavailable", failOpen: true, decision: "allowed",
			log: "request allowed (failure_mode open)"},
		{name: "fail open on malformed answer", config: remoteConfig(`"failure_mode": "open"`, ""),
			reply:       reply{headers: [][2]string{{":status", "abc"}, {"x-auth-user", "alice"}}},
			notUpstream: []string{"x-auth-user"},
			result:      "error", errReason: "malformed", failOpen: true, decision: "allowed"},
		{name: "shadow mode lets a denied request through", mode: "shadow",
			reply:  reply{headers: [][2]string{{":status", "403"}}},
			result: "denied", decision: "shadow_denied"},
		{name: "shadow mode lets a failed check through", mode: "shadow",
			reply:  reply{},
			result: "error", errReason: "unavailable", decision: "shadow_denied"},
		{name: "rules ask the service for what they do not decide",
			config: remoteConfig("", `"rules": [{"action": "allow", "match": {"path": {"exact": "/healthz"}}}]`),
			reply:  reply{headers: [][2]string{{":status", "403"}}},
			status: 403, result: "denied", decision: "denied"},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				config := c.config
				if config == "" {
					config = remoteConfig("", "")
				}
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, c.mode))
				defer reset()

				id, action := begin(t, host, clientRequest)
				if action != types.ActionPause || host.GetSentLocalResponse(id) != nil {
					t.Fatalf("action %v with reply %v; want the request paused for the check", action, host.GetSentLocalResponse(id))
				}
				calls := host.GetCalloutAttributesFromContext(id)
				if len(calls) != 1 {
					t.Fatalf("%d check requests, want 1", len(calls))
				}
				call := calls[0]
				if call.Upstream != "ext-authz" || len(call.Body) != 0 {
					t.Errorf("check request to %q with body %q; want ext-authz, no body", call.Upstream, call.Body)
				}
				for _, h := range [][2]string{{":method", "POST"}, {":path", "/check/orders?id=1"}, {":authority", "shop.example.com"},
					{"authorization", "Bearer t0k"}, {"x-user", "u1"}, {"cookie", "session=1"}} {
					if got := wasmtest.HeaderValues(call.Headers, h[0]); len(got) != 1 || got[0] != h[1] {
						t.Errorf("check request header %s = %q, want %q", h[0], got, h[1])
					}
				}
				for _, name := range []string{"x-secret", "x-auth-user", "x-auth-groups"} {
					if got := wasmtest.HeaderValues(call.Headers, name); got != nil {
						t.Errorf("check request carries %s: %q", name, got)
					}
				}

				host.CallOnHttpCallResponse(call.CalloutID, c.reply.headers, nil, []byte(c.reply.body))
				o := finish(t, host, id)

				if o.status() != c.status {
					t.Fatalf("status %d, want %d (0 = allowed upstream)", o.status(), c.status)
				}
				if o.local != nil {
					if c.body != "" && string(o.local.Data) != c.body {
						t.Errorf("reply body %q, want %q", o.local.Data, c.body)
					}
					for _, h := range c.client {
						if got := wasmtest.HeaderValues(o.local.Headers, h[0]); len(got) != 1 || got[0] != h[1] {
							t.Errorf("reply header %s = %q, want %q", h[0], got, h[1])
						}
					}
					for _, name := range c.notClient {
						if got := wasmtest.HeaderValues(o.local.Headers, name); got != nil {
							t.Errorf("reply carries %s: %q", name, got)
						}
					}
				}
				for _, h := range c.upstream {
					if got := wasmtest.HeaderValues(o.upstream, h[0]); len(got) != 1 || got[0] != h[1] {
						t.Errorf("upstream header %s = %q, want %q", h[0], got, h[1])
					}
				}
				for _, name := range c.notUpstream {
					if got := wasmtest.HeaderValues(o.upstream, name); got != nil {
						t.Errorf("upstream gets %s: %q", name, got)
					}
				}

				filter := tag("filter", "authz")
				for _, result := range []string{"allowed", "denied", "error"} {
					want := uint64(0)
					if result == c.result {
						want = 1
					}
					if got := counter(t, host, "authz_remote_checks_total", filter, tag("result", result)); got != want {
						t.Errorf("remote_checks{result=%s} = %d, want %d", result, got, want)
					}
				}
				for _, reason := range []string{"server_error", "unavailable", "malformed", "dispatch"} {
					want := uint64(0)
					if reason == c.errReason {
						want = 1
					}
					if got := counter(t, host, "authz_remote_errors_total", filter, tag("reason", reason)); got != want {
						t.Errorf("remote_errors{reason=%s} = %d, want %d", reason, got, want)
					}
				}
				wantOpen := uint64(0)
				if c.failOpen {
					wantOpen = 1
				}
				if got := counter(t, host, "authz_remote_fail_open_total", filter); got != wantOpen {
					t.Errorf("remote_fail_open = %d, want %d", got, wantOpen)
				}
				if got := decisions(t, host, "authz", c.decision); got != 1 {
					t.Errorf("decisions{%s} = %d, want 1", c.decision, got)
				}
				if c.log != "" && !anyMatches(host.GetWarnLogs(), c.log) {
					t.Errorf("no warning containing %q in %q", c.log, host.GetWarnLogs())
				}
				if c.errReason == "" && len(host.GetWarnLogs()) != 0 {
					t.Errorf("warnings without an error: %q", host.GetWarnLogs())
				}
			})
		}
	})
}

// TestRemoteWithRules shows that rules decide without a callout when they
// can, and that every one of several paused requests is resumed.
func TestRemoteWithRules(t *testing.T) {
	config := remoteConfig(`"failure_mode": "closed"`, `"rules": [
		{"name": "health", "action": "allow", "match": {"path": {"exact": "/healthz"}}},
		{"name": "blocked", "action": "deny", "match": {"path": {"prefix": "/blocked/"}}},
		{"name": "api", "action": "remote", "match": {"path": {"prefix": "/api/"}}}],
		"default": "allow"`)
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, ""))
		defer reset()

		if o := send(t, host, req{path: "/healthz", headers: [][2]string{{"x-auth-user", "mallory"}}}); o.status() != 0 || wasmtest.HeaderValues(o.upstream, "x-auth-user") != nil {
			t.Errorf("/healthz: status %d, x-auth-user %q; want allowed without the forged header", o.status(), wasmtest.HeaderValues(o.upstream, "x-auth-user"))
		}
		if o := send(t, host, req{path: "/blocked/x"}); o.status() != 403 {
			t.Errorf("/blocked/x: status %d, want 403", o.status())
		}
		if o := send(t, host, req{path: "/other"}); o.status() != 0 {
			t.Errorf("/other: status %d, want allowed by default", o.status())
		}

		// Three API requests wait at once; the service answers them out of
		// order, one with a failure.
		answers := []reply{
			{headers: [][2]string{{":status", "200"}, {"x-auth-user", "a"}}},
			{headers: [][2]string{{":status", "403"}}},
			{},
		}
		want := []uint32{0, 403, 403}
		ids := make([]uint32, len(answers))
		for i := range answers {
			var action types.Action
			ids[i], action = begin(t, host, req{path: "/api/" + string(rune('a'+i))})
			if action != types.ActionPause {
				t.Fatalf("request %d: action %v, want paused", i, action)
			}
		}
		for _, i := range []int{2, 0, 1} {
			calls := host.GetCalloutAttributesFromContext(ids[i])
			if len(calls) != 1 {
				t.Fatalf("request %d: %d check requests, want 1", i, len(calls))
			}
			if got := wasmtest.HeaderValues(calls[0].Headers, ":path"); len(got) != 1 || got[0] != "/check/api/"+string(rune('a'+i)) {
				t.Errorf("request %d: check path %q", i, got)
			}
			host.CallOnHttpCallResponse(calls[0].CalloutID, answers[i].headers, nil, nil)
		}
		for i, id := range ids {
			if o := finish(t, host, id); o.status() != want[i] {
				t.Errorf("request %d: status %d, want %d", i, o.status(), want[i])
			}
		}
		for rule, n := range map[string]uint64{"health": 1, "blocked": 1, "api": 3} {
			if got := counter(t, host, "authz_rule_matches_total", tag("filter", "authz"), tag("rule", rule)); got != n {
				t.Errorf("rule_matches{rule=%s} = %d, want %d", rule, got, n)
			}
		}
	})
}

// anyMatches reports whether one of lines contains pattern, in which "*"
// stands for any run of digits (a time the test does not control).
func anyMatches(lines []string, pattern string) bool {
	re := regexp.MustCompile(strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, `[0-9]+`))
	for _, l := range lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}

// TestRemoteNoAnswer: when the proxy ends the call with no answer at all,
// the log says how long the call took, and names the timeout only when it
// had passed. Natively the plugin's clock is set; the compiled image runs in
// the test kit's Envoy-like host, whose clock the callout moves on, as a refused
// connection or a reset would take that long.
func TestRemoteNoAnswer(t *testing.T) {
	const prefix = `policy: filter authz: authorization service "ext-authz": `
	const denied = `; request denied with 403 (failure_mode closed)`
	cases := []struct {
		took time.Duration
		log  string
	}{
		{0, prefix + "the proxy ended the call after 0ms without a response: " +
			"a connection failure, a reset or an answer too large to buffer (the proxy does not say which)" + denied},
		{199 * time.Millisecond, prefix + "the proxy ended the call after 199ms without a response: " +
			"a connection failure, a reset or an answer too large to buffer (the proxy does not say which)" + denied},
		{200 * time.Millisecond, prefix + "no response within the 200ms timeout (the proxy ended the call after 200ms)" + denied},
		{1500 * time.Millisecond, prefix + "no response within the 200ms timeout (the proxy ended the call after 1500ms)" + denied},
	}
	start := time.Unix(1_700_000_000, 0)
	for _, c := range cases {
		t.Run(c.took.String(), func(t *testing.T) {
			t.Run("go", func(t *testing.T) {
				now := start
				p := policy.Configured(authz.Kind)
				p.Clock = func() time.Time { return now }
				host, reset := wasmtest.Start(t, p, pluginConfig(remoteConfig("", ""), ""))
				defer reset()
				id, _ := begin(t, host, clientRequest)
				calls := host.GetCalloutAttributesFromContext(id)
				if len(calls) != 1 {
					t.Fatalf("%d check requests, want 1", len(calls))
				}
				now = now.Add(c.took)
				host.CallOnHttpCallResponse(calls[0].CalloutID, nil, nil, nil)
				if o := finish(t, host, id); o.status() != 403 {
					t.Errorf("status %d, want 403", o.status())
				}
				if w := host.GetWarnLogs(); len(w) != 1 || w[0] != c.log {
					t.Errorf("warnings:\n got  %q\n want [%q]", w, c.log)
				}
			})
			t.Run("wasm", func(t *testing.T) {
				// The callout fails after c.took on the plugin's clock.
				var p *policytest.Plugin
				p = policytest.Start(t, wasmtest.Image(t, image), pluginConfig(remoteConfig("", ""), ""),
					policytest.StartTime(start),
					policytest.Callouts(func(policytest.Callout) *policytest.Response {
						p.SetTime(p.Now().Add(c.took))
						return nil
					}))
				res := p.Do(policytest.Request{Headers: clientRequest.all(), Source: "10.1.2.3:51234"})
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				if res.Forwarded != nil {
					t.Error("the upstream was reached")
				}
				if res.Status != 403 {
					t.Errorf("status %d, want 403", res.Status)
				}
				if w := warnings(p); !containsLine(w, c.log) {
					t.Errorf("no warning %q in %q", c.log, w)
				}
			})
		})
	}
}
