package authz_test

import (
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// check is one request of a rules case and the status it must get: 0 for
// allowed (sent upstream), else the local reply's status.
type check struct {
	name string
	req  req
	want uint32
}

// allowRule is a config with one allow rule matching match and a default
// deny.
func allowRule(match string) string {
	return `{"rules": [{"action": "allow", "match": ` + match + `}], "default": "deny"}`
}

func TestRules(t *testing.T) {
	admin := jwt(`{"sub": "alice", "role": "admin", "groups": ["ops", "dev"], "level": 3, "realm_access": {"roles": ["admin"]}}`)
	user := jwt(`{"sub": "bob", "role": "user", "groups": ["dev"], "level": 1}`)
	cases := []struct {
		name   string
		config string
		checks []check
	}{
		// Not in the shared table yet: a "*" segment inside a glob.
		{"path glob inner segment", allowRule(`{"path": {"glob": "/v1/*/items"}}`), []check{
			{"one segment", req{path: "/v1/carts/items"}, 0},
			{"two segments", req{path: "/v1/a/b/items"}, 403},
			{"empty segment", req{path: "/v1//items"}, 403},
			{"missing tail", req{path: "/v1/carts"}, 403},
		}},
		{"headers all must hold", allowRule(`{"headers": [
				{"name": "X-Role", "equals": "admin"},
				{"name": "authorization", "prefix": "Bearer "},
				{"name": "x-debug", "absent": true},
				{"name": "x-tenant", "present": true}]}`), []check{
			{"all hold", req{headers: [][2]string{{"x-role", "admin"}, {"authorization", "Bearer t"}, {"x-tenant", "a"}}}, 0},
			{"equals only one of several values", req{headers: [][2]string{{"x-role", "user"}, {"x-role", "admin"}, {"authorization", "Bearer t"}, {"x-tenant", "a"}}}, 403},
			{"present with empty value", req{headers: [][2]string{{"x-role", "admin"}, {"authorization", "Bearer t"}, {"x-tenant", ""}}}, 0},
			{"equals is case-sensitive", req{headers: [][2]string{{"x-role", "Admin"}, {"authorization", "Bearer t"}, {"x-tenant", "a"}}}, 403},
			{"prefix fails", req{headers: [][2]string{{"x-role", "admin"}, {"authorization", "Basic dTpw"}, {"x-tenant", "a"}}}, 403},
			{"absent fails", req{headers: [][2]string{{"x-role", "admin"}, {"authorization", "Bearer t"}, {"x-tenant", "a"}, {"x-debug", "1"}}}, 403},
			{"present fails", req{headers: [][2]string{{"x-role", "admin"}, {"authorization", "Bearer t"}}}, 403},
			{"no headers", req{}, 403},
		}},
		// The source address comes from the proxy's source.address property.
		{"source ips allow", allowRule(`{"source_ips": ["10.0.0.0/8", "192.0.2.7"]}`), []check{
			{"unparseable source", req{source: "pipe"}, 403},
			{"in range", req{source: "10.1.2.3:50000"}, 0},
			{"single address", req{source: "192.0.2.7:1234"}, 0},
			{"next address", req{source: "192.0.2.8:1234"}, 403},
			{"without port", req{source: "10.0.0.1"}, 0},
		}},
		{"source ips deny", `{"rules": [{"action": "deny", "match": {"source_ips": ["10.0.0.0/8"]}}], "default": "allow"}`, []check{
			{"unparseable source", req{source: "pipe"}, 403},
			{"in range", req{source: "10.1.2.3:50000"}, 403},
			{"outside", req{source: "192.0.2.8:1234"}, 0},
		}},
		{"jwt claims", `{"rules": [{"action": "allow", "claims": [{"path": "role", "equals": "admin"}, {"path": "sub", "present": true}]}], "default": "deny"}`, []check{
			{"well-formed, matching", req{headers: [][2]string{bearer(admin)}}, 0},
			{"scheme is case-insensitive", req{headers: [][2]string{{"authorization", "bearer " + admin}}}, 0},
			{"tab after the scheme", req{headers: [][2]string{{"authorization", "Bearer\t" + admin}}}, 0},
			{"spaces and tabs after the scheme", req{headers: [][2]string{{"authorization", "BEARER \t\t  " + admin}}}, 0},
			{"scheme run into the token", req{headers: [][2]string{{"authorization", "Bearer" + admin}}}, 403},
			{"another scheme with a tab", req{headers: [][2]string{{"authorization", "Basic\t" + admin}}}, 403},
			{"a longer scheme", req{headers: [][2]string{{"authorization", "Bearers\t" + admin}}}, 403},
			{"well-formed, other role", req{headers: [][2]string{bearer(user)}}, 403},
			{"claim missing", req{headers: [][2]string{bearer(jwt(`{"role": "admin"}`))}}, 403},
			{"no token", req{}, 403},
			{"basic credentials", req{headers: [][2]string{{"authorization", "Basic YWxpY2U6cHc="}}}, 403},
			{"two parts", req{headers: [][2]string{bearer("eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ")}}, 403},
			{"payload not base64url", req{headers: [][2]string{bearer("eyJhbGciOiJub25lIn0.!!!.c2ln")}}, 403},
			{"payload not JSON", req{headers: [][2]string{bearer(jwt(`role=admin`))}}, 403},
			{"payload not an object", req{headers: [][2]string{bearer(jwt(`["admin"]`))}}, 403},
			{"payload truncated JSON", req{headers: [][2]string{bearer(jwt(`{"role": "admin", "sub": "x"`))}}, 403},
		}},
		{"jwt array, number and nested claims", `{"rules": [{"action": "allow", "claims": [
				{"path": "groups", "equals": "ops"},
				{"path": "level", "equals": "3"},
				{"path": "realm_access.roles", "equals": "admin"}]}], "default": "deny"}`, []check{
			{"member of all", req{headers: [][2]string{bearer(admin)}}, 0},
			{"not a member", req{headers: [][2]string{bearer(user)}}, 403},
		}},
		{"malformed token matches no deny rule", `{"rules": [
				{"action": "deny", "claims": [{"path": "banned", "present": true}]}],
				"default": "allow"}`, []check{
			{"banned", req{headers: [][2]string{bearer(jwt(`{"banned": true}`))}}, 403},
			{"banned, with a tab after the scheme", req{headers: [][2]string{{"authorization", "Bearer\t" + jwt(`{"banned": true}`)}}}, 403},
			{"not banned", req{headers: [][2]string{bearer(user)}}, 0},
			{"malformed", req{headers: [][2]string{bearer("not.a.jwt")}}, 0},
		}},
		{"match and claims both hold", `{"rules": [{"action": "allow",
				"match": {"path": {"glob": "/ops/**"}},
				"claims": [{"path": "groups", "equals": "ops"}]}], "default": "deny"}`, []check{
			{"both", req{path: "/ops/x", headers: [][2]string{bearer(admin)}}, 0},
			{"claims only", req{path: "/dev/x", headers: [][2]string{bearer(admin)}}, 403},
			{"match only", req{path: "/ops/x", headers: [][2]string{bearer(user)}}, 403},
			{"claims, and a path only some readings match", req{path: "/ops/..;/admin", headers: [][2]string{bearer(admin)}}, 403},
		}},
		{"first match wins", `{"rules": [
				{"name": "no-admin", "action": "deny", "match": {"path": {"prefix": "/admin/"}}},
				{"name": "reads", "action": "allow", "match": {"methods": ["GET"]}}],
				"default": "deny"}`, []check{
			{"first rule", req{path: "/admin/x"}, 403},
			{"second rule", req{path: "/x"}, 0},
			{"default", req{method: "POST", path: "/x"}, 403},
		}},
		{"first match wins, reversed", `{"rules": [
				{"name": "reads", "action": "allow", "match": {"methods": ["GET"]}},
				{"name": "no-admin", "action": "deny", "match": {"path": {"prefix": "/admin/"}}}],
				"default": "allow"}`, []check{
			{"first rule", req{path: "/admin/x"}, 0},
			{"second rule", req{method: "POST", path: "/admin/x"}, 403},
			{"default", req{method: "POST", path: "/x"}, 0},
		}},
		{"default allow", `{"default": "allow"}`, []check{
			{"anything", req{method: "DELETE", path: "/x"}, 0},
		}},
		{"default deny", `{"default": "deny"}`, []check{
			{"anything", req{path: "/"}, 403},
		}},
		{"default is deny when rules are given", `{"rules": [{"action": "allow", "match": {"path": {"exact": "/ok"}}}]}`, []check{
			{"rule", req{path: "/ok"}, 0},
			{"no rule", req{path: "/other"}, 403},
		}},
		{"empty match matches everything", `{"rules": [{"action": "deny", "match": {}}, {"action": "allow"}], "default": "allow"}`, []check{
			{"anything", req{path: "/x"}, 403},
		}},
	}
	replies := []struct {
		name, config string
		status       uint32
		body         string
		header       [2]string // one header the reply carries, if set
	}{
		{"default deny response", `{"default": "deny"}`, 403, "access denied\n", [2]string{}},
		{"configured deny response", `{"default": "deny", "deny": {
			"status": 401, "body": "sign in first\n", "headers": {"www-authenticate": "Bearer realm=\"shop\""}}}`,
			401, "sign in first\n", [2]string{"www-authenticate", `Bearer realm="shop"`}},
		{"configured body gets a content type", `{"default": "deny", "deny": {"body": "no\n"}}`,
			403, "no\n", [2]string{"content-type", "text/plain; charset=utf-8"}},
		{"configured content type", `{"default": "deny", "deny": {"body": "{}", "content_type": "application/json"}}`,
			403, "{}", [2]string{"content-type", "application/json"}},
		{"redirect", `{"default": "deny", "deny": {"status": 302, "headers": {"location": "https://login.example.com/"}}}`,
			302, "access denied\n", [2]string{"location", "https://login.example.com/"}},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range replies {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(c.config, ""))
				defer reset()
				o := send(t, host, req{})
				if o.status() != c.status {
					t.Fatalf("status %d, want %d", o.status(), c.status)
				}
				if string(o.local.Data) != c.body {
					t.Errorf("reply body %q, want %q", o.local.Data, c.body)
				}
				if h := c.header; h[0] != "" {
					if got := wasmtest.HeaderValues(o.local.Headers, h[0]); len(got) != 1 || got[0] != h[1] {
						t.Errorf("reply header %s = %q, want %q", h[0], got, h[1])
					}
				}
			})
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(c.config, ""))
				defer reset()
				for _, ch := range c.checks {
					if got := send(t, host, ch.req).status(); got != ch.want {
						t.Errorf("%s: status %d, want %d (0 = allowed)", ch.name, got, ch.want)
					}
				}
			})
		}
	})
}

func TestShadowAndMetrics(t *testing.T) {
	config := `{"rules": [
		{"name": "health", "action": "allow", "match": {"path": {"exact": "/healthz"}}},
		{"name": "admin", "action": "deny", "match": {"path": {"glob": "/admin/**"}}}],
		"default": "deny"}`
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, mode := range []string{"enforce", "shadow"} {
			t.Run(mode, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, mode))
				defer reset()
				for _, p := range []string{"/healthz", "/healthz", "/admin/x", "/other"} {
					o := send(t, host, req{path: p})
					wantDenied := p != "/healthz" && mode == "enforce"
					if (o.local != nil) != wantDenied {
						t.Errorf("%s: reply %v, want denied=%v", p, o.local, wantDenied)
					}
				}
				denied, shadowDenied := uint64(2), uint64(0)
				if mode == "shadow" {
					denied, shadowDenied = 0, 2
					if !wasmtest.AnyContains(host.GetInfoLogs(), "would deny with 403 (shadow mode): rule admin denies") {
						t.Errorf("no shadow log line naming the rule: %q", host.GetInfoLogs())
					}
				}
				for _, c := range []struct {
					decision string
					want     uint64
				}{{"allowed", 2}, {"denied", denied}, {"shadow_denied", shadowDenied}} {
					if got := decisions(t, host, "authz", c.decision); got != c.want {
						t.Errorf("decisions{%s} = %d, want %d", c.decision, got, c.want)
					}
				}
				for rule, want := range map[string]uint64{"health": 2, "admin": 1} {
					if got := counter(t, host, "authz_rule_matches_total", tag("filter", "authz"), tag("rule", rule)); got != want {
						t.Errorf("rule_matches{rule=%s} = %d, want %d", rule, got, want)
					}
				}
			})
		}
	})
}

// TestDenySpellings is the chain example's rule against the spellings of
// /admin that some backend resolves to it: each is denied, though the
// proxy forwards most of them unchanged, and so is a path no one can read
// safely. Only paths outside /admin/** get through.
func TestDenySpellings(t *testing.T) {
	const config = `{"rules": [{"name": "admin", "action": "deny", "match": {"path": {"glob": "/admin/**"}}}], "default": "allow"}`
	denied := []string{
		"/admin/x",
		"//admin/x",          // merged slashes
		"/admin;x/y",         // a ";" parameter, cut off by Tomcat and Spring
		"/Admin/x",           // case, ignored by some servers
		"/./admin/x",         // a dot segment
		"/public/../admin/x", // a dot-dot segment
		"/%61dmin/x",         // an encoded unreserved character
		"/admin%2Fx",         // an encoded slash, decoded by some servers
		"/public/..;/admin",  // a dot-dot segment with a parameter
		"/%2e%2e/admin",      // an encoded dot-dot segment
		"/..%00",             // unreadable: an encoded NUL
		`/admin\x`,           // a backslash, a separator to some servers
	}
	allowed := []string{"/public/x", "/administrator"}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, ""))
		defer reset()
		for _, p := range denied {
			if got := send(t, host, req{path: p}).status(); got != 403 {
				t.Errorf("%s: status %d, want 403", p, got)
			}
		}
		for _, p := range allowed {
			if got := send(t, host, req{path: p}).status(); got != 0 {
				t.Errorf("%s: status %d, want allowed", p, got)
			}
		}
		if got := counter(t, host, "authz_rule_matches_total", tag("filter", "authz"), tag("rule", "admin")); got != uint64(len(denied)) {
			t.Errorf("rule_matches{rule=admin} = %d, want %d", got, len(denied))
		}
	})
}
