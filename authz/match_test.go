package authz

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/internal/conf"
)

// fakeRequest is a request for the pure matcher tests.
type fakeRequest struct {
	method, path, authority, sourceIP string
	headers                           [][2]string
}

func (r fakeRequest) Method() string    { return r.method }
func (r fakeRequest) Path() string      { return r.path }
func (r fakeRequest) Authority() string { return r.authority }
func (r fakeRequest) SourceIP() string  { return r.sourceIP }
func (r fakeRequest) RequestHeaderValues(name string) []string {
	var out []string
	for _, h := range r.headers {
		if h[0] == name {
			out = append(out, h[1])
		}
	}
	return out
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"/", "/", true},
		{"/", "/a", false},
		{"/*", "/a", true},
		{"/*", "/", false},
		{"/a/*/c", "/a/b/c", true},
		{"/a/*/c", "/a//c", false},
		{"/a/*/c", "/a/b/c/", false},
		{"/a/*", "/a/b/", false},
		{"/a/**", "/a", true},
		{"/a/**", "/a/b/c/", true},
		{"/a/**", "/ab", false},
		{"/**", "/", true},
		{"/**", "/x/y", true},
		{"/a", "", false},
		{"/a", "a", false},
	}
	for _, c := range cases {
		if got := globMatch(strings.Split(c.pattern[1:], "/"), c.path); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}

func TestHostOnly(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM":      "example.com",
		"example.com:8080": "example.com",
		"[::1]:443":        "[::1]",
		"[::1]":            "[::1]",
		"":                 "",
	} {
		if got := hostOnly(in); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBearerClaims(t *testing.T) {
	// {"sub":"a"} with and without base64 padding.
	const payload = "eyJzdWIiOiJhIn0"
	cases := []struct {
		name   string
		header []string
		sub    string // "" when there are no claims
	}{
		{"well-formed", []string{"Bearer h." + payload + ".s"}, "a"},
		{"padded payload", []string{"Bearer h." + payload + "=.s"}, "a"},
		{"second value", []string{"Basic x", "Bearer h." + payload + ".s"}, "a"},
		{"empty signature", []string{"Bearer h." + payload + "."}, "a"},
		{"no header", nil, ""},
		{"no token", []string{"Bearer"}, ""},
		{"four parts", []string{"Bearer h." + payload + ".s.x"}, ""},
		{"empty header part", []string{"Bearer ." + payload + ".s"}, ""},
		{"standard base64", []string{"Bearer h.eyJzdWIiOiJhIn0+.s"}, ""},
	}
	for _, c := range cases {
		cl := bearerClaims(c.header)
		if got := cl.payload.Get("sub").String(); cl.ok != (c.sub != "") || got != c.sub {
			t.Errorf("%s: ok %v sub %q, want sub %q", c.name, cl.ok, got, c.sub)
		}
	}
}

func TestDecide(t *testing.T) {
	a, err := compile(Config{
		Rules: []Rule{
			{Name: "office", Action: ActionAllow, Match: Match{SourceIPs: []string{"192.0.2.0/24"}, Methods: []string{"GET"}}},
			{Action: ActionDeny, Match: Match{Hosts: []string{"*.internal"}}},
			{Name: "ask", Action: ActionRemote, Match: Match{Headers: []HeaderMatch{{Name: "Authorization", Present: true}}}},
		},
		Remote: &Remote{Cluster: "authz"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		req    fakeRequest
		action Action
		rule   int
	}{
		{fakeRequest{method: "GET", sourceIP: "192.0.2.9", authority: "db.internal"}, ActionAllow, 0},
		{fakeRequest{method: "POST", sourceIP: "192.0.2.9", authority: "db.internal"}, ActionDeny, 1},
		{fakeRequest{method: "POST", authority: "x", headers: [][2]string{{"authorization", "t"}}}, ActionRemote, 2},
		{fakeRequest{method: "POST", authority: "x"}, ActionRemote, -1},
	}
	for i, c := range cases {
		action, rule := a.decide(&view{req: c.req})
		if action != c.action || rule != c.rule {
			t.Errorf("case %d: %s by rule %d, want %s by rule %d", i, action, rule, c.action, c.rule)
		}
	}
	if a.rules[1].name != "1" {
		t.Errorf("unnamed rule is called %q, want its index", a.rules[1].name)
	}
}

func TestCompileDefaults(t *testing.T) {
	a, err := compile(Config{Remote: &Remote{Cluster: "authz", RequestHeaders: []string{"X-User", "authorization", "x-user"}}})
	if err != nil {
		t.Fatal(err)
	}
	if a.def != ActionRemote {
		t.Errorf("default %q, want remote when a service is set", a.def)
	}
	r := a.remote
	if r.timeout != 200*time.Millisecond || r.onError.Status != 403 || r.failOpen {
		t.Errorf("timeout %v, status_on_error %d, fail_open %v; want 200ms, 403, false", r.timeout, r.onError.Status, r.failOpen)
	}
	if strings.Join(r.send, ",") != "authorization,x-user" {
		t.Errorf("headers sent %q, want authorization and x-user once each, lower-cased", r.send)
	}
	if a.deny.Status != 403 || string(a.deny.Body) != defaultDenyBody {
		t.Errorf("deny reply %d %q", a.deny.Status, a.deny.Body)
	}
	if _, err := compile(Config{Rules: []Rule{{Action: ActionAllow}}}); err != nil {
		t.Errorf("rules without default: %v", err)
	}
}

// TestTypedConfigErrors checks that a Config written in Go is validated with
// the same paths as JSON.
func TestTypedConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  Config
		path string
	}{
		{Config{}, "rules"},
		{Config{Rules: []Rule{{Action: ActionAllow, Match: Match{SourceIPs: []string{"fe80::1%eth0"}}}}}, "rules[0].match.source_ips[0]"},
		{Config{Rules: []Rule{{Action: ActionAllow}, {Action: ActionAllow, Match: Match{Claims: []ClaimMatch{{Path: "a", Present: true, Equals: "b"}}}}}}, "rules[1].match.claims[0]"},
		{Config{Default: ActionDeny, DenyResponse: DenyResponse{Status: 600}}, "deny_response.status"},
		{Config{Remote: &Remote{Cluster: "c", Timeout: time.Microsecond}}, "remote.timeout"},
		{Config{Remote: &Remote{Cluster: "c", ClientHeaders: []string{"bad header"}}}, "remote.client_headers[0]"},
	}
	for i, c := range cases {
		_, err := compile(c.cfg)
		var e *conf.Error
		if !errors.As(err, &e) || e.Path != c.path || e.Reason == "" {
			t.Errorf("case %d: error %v, want one at %q", i, err, c.path)
		}
	}
}

func TestDecisionResult(t *testing.T) {
	if r := Allow().Result(); r.Action != 0 {
		t.Errorf("Allow: %v", r)
	}
	r := DenyWith(0, "why", [][2]string{{"a", "b"}}).Result()
	if r.Response.Status != 403 || string(r.Response.Body) != defaultDenyBody || r.Response.Reason != "why" || len(r.Response.Headers) != 1 {
		t.Errorf("DenyWith: %+v", r.Response)
	}
	if r := Deny(429, "").WithBody("").Result(); r.Response.Status != 429 || len(r.Response.Body) != 0 {
		t.Errorf("WithBody(\"\"): %+v", r.Response)
	}
}

func TestThrottle(t *testing.T) {
	t0 := time.Unix(1000, 0)
	th := throttle{every: 10 * time.Second}
	steps := []struct {
		at      time.Duration
		ok      bool
		skipped int
	}{{0, true, 0}, {time.Second, false, 0}, {9 * time.Second, false, 0}, {10 * time.Second, true, 2}, {11 * time.Second, false, 0}, {time.Minute, true, 1}}
	for _, s := range steps {
		if ok, skipped := th.allow(t0.Add(s.at)); ok != s.ok || skipped != s.skipped {
			t.Errorf("at %v: %v %d, want %v %d", s.at, ok, skipped, s.ok, s.skipped)
		}
	}
}

// FuzzParseConfig feeds arbitrary JSON to the parser and the compiler: they
// must not panic, must report errors with a reason, and a configuration they
// accept must decide any request with a valid action.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"rules": [{"action": "allow", "match": {"methods": ["GET"], "path": {"glob": "/status/*"}}}], "default": "deny"}`))
	f.Add([]byte(`{"remote": {"cluster": "c", "timeout": "1s", "upstream_headers": ["x-user"]}}`))
	requests := []fakeRequest{
		{method: "GET", path: "/status/200", authority: "a.example:80", sourceIP: "10.0.0.1"},
		{method: "POST", path: "/admin?x=1", headers: [][2]string{{"x-role", "admin"}, {"authorization", "Bearer a.eyJyb2xlIjoiYWRtaW4ifQ.b"}}},
		{},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !gjson.ValidBytes(data) {
			return
		}
		cfg, err := ParseConfig(gjson.ParseBytes(data))
		if err == nil {
			var a *Authorizer
			if a, err = compile(cfg); err == nil {
				for _, q := range requests {
					action, rule := a.decide(&view{req: q})
					if action != ActionAllow && action != ActionDeny && action != ActionRemote || rule < -1 || rule >= len(a.rules) {
						t.Fatalf("decided %q by rule %d", action, rule)
					}
					if action == ActionRemote && a.remote == nil {
						t.Fatal("remote action without a service")
					}
				}
				return
			}
		}
		var e *conf.Error
		if !errors.As(err, &e) || e.Reason == "" {
			t.Fatalf("error without a path and reason: %v", err)
		}
	})
}
