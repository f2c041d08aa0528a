package authz

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// fakeRequest is a request for the tests of decide; it is a match.Source,
// as *policy.Exchange is.
type fakeRequest struct {
	method, path, authority, sourceIP string
	headers                           [][2]string
}

func (r fakeRequest) Method() string    { return r.method }
func (r fakeRequest) Path() string      { return r.path }
func (r fakeRequest) Authority() string { return r.authority }
func (r fakeRequest) SourceIP() string  { return r.sourceIP }
func (r fakeRequest) RouteName() string { return "" }
func (r fakeRequest) RequestHeaderValues(name string) []string {
	var out []string
	for _, h := range r.headers {
		if strings.EqualFold(h[0], name) { // the Exchange folds ASCII case
			out = append(out, h[1])
		}
	}
	return out
}

func decideFor(a *Authorizer, q fakeRequest) (Action, int) {
	var req match.Request
	req.Reset(q)
	var v view
	v.reset(&req)
	return a.decide(&v)
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

		// Between the scheme and the token, any run of spaces and tabs.
		{"tab", []string{"Bearer\th." + payload + ".s"}, "a"},
		{"tabs and spaces", []string{"Bearer \t \t h." + payload + ".s"}, "a"},
		{"several spaces", []string{"Bearer    h." + payload + ".s"}, "a"},
		{"spaces and tabs around the value", []string{" \tBearer h." + payload + ".s\t "}, "a"},
		{"scheme in capitals", []string{"BEARER\th." + payload + ".s"}, "a"},
		// Never a token from another scheme, or a scheme run into it.
		{"scheme run into the token", []string{"Bearerh." + payload + ".s"}, ""},
		{"scheme and a comma", []string{"Bearer,h." + payload + ".s"}, ""},
		{"longer scheme", []string{"Bearerx h." + payload + ".s"}, ""},
		{"scheme with a prefix", []string{"XBearer h." + payload + ".s"}, ""},
		{"another scheme with a tab", []string{"Basic\th." + payload + ".s"}, ""},
		{"bearer as the second word", []string{"Token Bearer h." + payload + ".s"}, ""},
		{"no-break space", []string{"Bearer\u00a0h." + payload + ".s"}, ""},
		{"vertical tab", []string{"Bearer\vh." + payload + ".s"}, ""},
		{"scheme and tabs only", []string{"Bearer\t\t"}, ""},
		{"a later value with a tab", []string{"Basic x", "bearer\th." + payload + ".s"}, "a"},
	}
	for _, c := range cases {
		cl := bearerClaims(c.header)
		if got := cl.payload.Get("sub").String(); cl.ok != (c.sub != "") || got != c.sub {
			t.Errorf("%s: ok %v sub %q, want sub %q", c.name, cl.ok, got, c.sub)
		}
	}
}

// TestDecide checks what authz adds to the match package: an allow rule
// applies only to a request that certainly matches it, a deny or remote
// rule to one that possibly does; a rule's claims must hold as well; the
// first rule that applies decides, and the default decides the rest.
func TestDecide(t *testing.T) {
	a, err := compile(Config{
		Rules: []Rule{
			{Name: "public", Action: ActionAllow, Match: match.Match{Path: match.Path{Prefix: "/public/"}}},
			{Name: "admin", Action: ActionDeny, Match: match.Match{Path: match.Path{Glob: "/admin/**"}}},
			{Name: "ops", Action: ActionAllow, Match: match.Match{Path: match.Path{Glob: "/ops/**"}},
				Claims: []ClaimMatch{{Path: "groups", Equals: "ops"}}},
			{Name: "api", Action: ActionRemote, Match: match.Match{Path: match.Path{Prefix: "/api/"}}},
			{Action: ActionAllow, Match: match.Match{Methods: []string{"GET"}}},
		},
		Remote: &Remote{Cluster: "authz"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ops := [2]string{"authorization", "Bearer h.eyJncm91cHMiOlsib3BzIl19.s"} // {"groups":["ops"]}
	cases := []struct {
		name   string
		req    fakeRequest
		action Action
		rule   int
	}{
		{"allow rule, certain match", fakeRequest{method: "POST", path: "/public/a"}, ActionAllow, 0},
		{"allow rule, only some readings match", fakeRequest{method: "POST", path: "/public/..;/admin"}, ActionDeny, 1},
		{"allow rule, unreadable path", fakeRequest{method: "POST", path: "/public/%00"}, ActionDeny, 1},
		{"allow rule, case differs", fakeRequest{method: "POST", path: "/Public/a"}, ActionRemote, -1},
		{"deny rule, certain match", fakeRequest{method: "GET", path: "/admin/x"}, ActionDeny, 1},
		{"deny rule, some reading matches", fakeRequest{method: "GET", path: "/x/..%2Fadmin"}, ActionDeny, 1},
		{"deny rule, case differs", fakeRequest{method: "GET", path: "/ADMIN"}, ActionDeny, 1},
		{"claims and path hold", fakeRequest{method: "POST", path: "/ops/x", headers: [][2]string{ops}}, ActionAllow, 2},
		{"claims hold, path only possibly", fakeRequest{method: "POST", path: "/OPS/x", headers: [][2]string{ops}}, ActionRemote, -1},
		{"path holds, no token", fakeRequest{method: "POST", path: "/ops/x"}, ActionRemote, -1},
		{"remote rule, certain match", fakeRequest{method: "POST", path: "/api/x"}, ActionRemote, 3},
		{"remote rule, some reading matches", fakeRequest{method: "POST", path: "/api;v=2/x"}, ActionRemote, 3},
		{"remote rule, case differs", fakeRequest{method: "POST", path: "/API/x"}, ActionRemote, 3},
		{"first match wins", fakeRequest{method: "GET", path: "/admin/x"}, ActionDeny, 1},
		{"a later rule", fakeRequest{method: "GET", path: "/x"}, ActionAllow, 4},
		{"the default", fakeRequest{method: "POST", path: "/x"}, ActionRemote, -1},
	}
	for _, c := range cases {
		action, rule := decideFor(a, c.req)
		if action != c.action || rule != c.rule {
			t.Errorf("%s: %s %s: %s by rule %d, want %s by rule %d", c.name, c.req.method, c.req.path, action, rule, c.action, c.rule)
		}
	}
	if a.rules[4].name != "4" {
		t.Errorf("unnamed rule is called %q, want its index", a.rules[4].name)
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
		t.Errorf("timeout %v, status_on_error %d, fail open %v; want 200ms, 403, false", r.timeout, r.onError.Status, r.failOpen)
	}
	if strings.Join(r.send, ",") != "authorization,x-user" {
		t.Errorf("headers sent %q, want authorization and x-user once each, lower-cased", r.send)
	}
	if a.deny.Status != 403 || string(a.deny.Body) != defaultDenyBody || len(a.deny.Headers) != 0 {
		t.Errorf("deny reply %d %q %q", a.deny.Status, a.deny.Body, a.deny.Headers)
	}
	a, err = compile(Config{Rules: []Rule{{Action: ActionAllow}}})
	if err != nil || a.def != ActionDeny {
		t.Errorf("rules without default: %v, default %q; want deny", err, a.def)
	}
	a, err = compile(Config{Default: ActionAllow, Remote: &Remote{Cluster: "authz", FailureMode: policy.FailOpen, StatusOnError: 503}})
	if err != nil || a.def != ActionAllow || !a.remote.failOpen || a.remote.onError.Status != 503 {
		t.Errorf("explicit default and failure mode: %v", err)
	}
}

// TestTypedConfigErrors checks that a Config written in Go is validated with
// the same paths as JSON.
func TestTypedConfigErrors(t *testing.T) {
	allow := func(m match.Match) Config { return Config{Rules: []Rule{{Action: ActionAllow, Match: m}}} }
	cases := []struct {
		cfg  Config
		path string
	}{
		{Config{}, "rules"},
		{allow(match.Match{SourceIPs: []string{"fe80::1%eth0"}}), "rules[0].match.source_ips[0]"},
		{allow(match.Match{Path: match.Path{Prefix: "/public/../admin"}}), "rules[0].match.path.prefix"},
		{Config{Rules: []Rule{{Action: ActionAllow}, {Action: ActionAllow, Claims: []ClaimMatch{{Path: "a", Present: true, Equals: "b"}}}}}, "rules[1].claims[0]"},
		{Config{Rules: []Rule{{Action: ActionAllow, Claims: []ClaimMatch{{Equals: "b"}}}}}, "rules[0].claims[0].path"},
		{Config{Default: ActionDeny, Deny: policy.DenyResponse{Status: 600}}, "deny.status"},
		{Config{Default: ActionDeny, Deny: policy.DenyResponse{Status: 200}}, "deny.status"},
		{Config{Remote: &Remote{Cluster: "c", Timeout: time.Microsecond}}, "remote.timeout"},
		{Config{Remote: &Remote{Cluster: "c", ClientHeaders: []string{"bad header"}}}, "remote.client_headers[0]"},
		{Config{Remote: &Remote{Cluster: "c", FailureMode: "sometimes"}}, "remote.failure_mode"},
		{Config{Remote: &Remote{Cluster: "c", StatusOnError: 200}}, "remote.status_on_error"},
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
	f.Add([]byte(`{"remote": {"cluster": "c", "timeout": "1s", "upstream_headers": ["x-user"], "failure_mode": "open"}}`))
	requests := []fakeRequest{
		{method: "GET", path: "/status/200", authority: "a.example:80", sourceIP: "10.0.0.1"},
		{method: "POST", path: "/admin?x=1", headers: [][2]string{{"x-role", "admin"}, {"authorization", "Bearer a.eyJyb2xlIjoiYWRtaW4ifQ.b"}}},
		{method: "get", path: "/public/..;/admin%2F%00", authority: "a:80:80", sourceIP: "pipe"},
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
					action, rule := decideFor(a, q)
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
