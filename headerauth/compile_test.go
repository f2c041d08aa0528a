package headerauth

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// compileJSON parses and compiles a JSON filter configuration.
func compileJSON(doc string) (*compiled, error) {
	cfg, err := ParseConfig(gjson.Parse(doc))
	if err != nil {
		return nil, err
	}
	return compile(cfg)
}

func TestValidation(t *testing.T) {
	cases := []struct{ config, want string }{
		{`{"header": "a", "all_of": [{"header": "b"}]}`, `header: cannot be combined with a group`},
		{`{"all_of": [{"header": "b"}], "any_of": [{"header": "c"}]}`, `any_of: cannot be combined with all_of`},
		{`{"any_of": [{"header": "b"}], "strip": true}`, `strip: applies to a header rule, not to a group`},
		{`{"values": ["x"]}`, `header: is required`},
		{`{"rules": [{"header": "a"}], "any_of": [{"header": "b"}]}`, `rules: cannot be combined with a rule at the top level`},
		{`{"rules": [{"header": "a"}, {"all_of": [{"header": "b"}, {}]}]}`, `rules[1].all_of[1]: must have a rule: "header" for one header rule, or "all_of"`},
		{`{"rules": {"header": "a"}}`, `rules: must be an array of objects, not an object`},
		{`{"all_of": [{"all_of": [{"values": ["x"]}]}]}`, `all_of[0].all_of[0].header: is required`},
		{`{"header": "a", "absent": true, "values": ["x"]}`, `values: cannot be combined with absent`},
		{`{"header": "a", "absent": true, "strip": true}`, `strip: cannot be combined with absent`},
		{`{"header": "a", "values": ["x"], "keys": {"n": "k"}}`, `keys: cannot be combined with values`},
		{`{"header": "a", "values": []}`, `values: must list at least one value`},
		{`{"header": "a", "values": ["x", ""]}`, `values[1]: must not be empty`},
		{`{"header": "a", "values": ["x"], "secret": true, "ignore_case": true}`, `ignore_case: cannot be combined with secret`},
		{`{"header": "a", "secret": true}`, `secret: needs values`},
		{`{"header": "a", "ignore_case": true}`, `ignore_case: needs values`},
		{`{"header": "a", "keys": {}}`, `keys: must name at least one key`},
		{`{"header": "a", "keys": {"n": "k"}, "ignore_case": true}`, `ignore_case: cannot be combined with keys`},
		{`{"header": "a", "keys": {"": "k"}}`, `keys: a key's name must not be empty`},
		{`{"header": "a", "keys": {"n\r\nx": "k"}}`, `keys: the key name "n\r\nx" must be printable`},
		{`{"header": "a", "keys": {"n": ""}}`, `keys.n: must not be empty`},
		{`{"header": "a", "keys": {"n": "k1", "n": "k2"}}`, `keys.n: is given twice`},
		{`{"header": "a", "keys": {"n": "k1", "m": "k1"}}`, `keys.m: is the same key as keys.n`},
		{`{"header": "a", "keys": {"n": 1}}`, `keys.n: must be a string, not a number`},
		{`{"header": ":path", "strip": true}`, `strip: cannot remove the pseudo-header ":path"`},
		// Values of :path, :authority and :method are match conditions.
		{`{"header": ":path", "values": ["/a", "/a/../b"]}`, `values[1]: must be in normal form, without "." or ".." segments and ";" parameters, not "/a/../b"`},
		{`{"header": ":path", "values": ["a"]}`, `values[0]: must start with "/", not "a"`},
		{`{"header": ":authority", "values": ["example.com:8080"]}`, `values[0]: must be a host name ("api.example.com") or "*." and a domain ("*.example.com"), without a port, not "example.com:8080"`},
		{`{"header": ":method", "values": ["GE T"]}`, `values[0]: must be an HTTP method such as "GET", not "GE T"`},
		{`{"header": "a", "values": ["x"], "identity_header": "x-who"}`, `identity_header: needs keys`},
		{`{"header": "a", "keys": {"n": "k"}, "identity_header": ":who"}`, `identity_header: ":who" is not a valid header name`},
		{`{"header": "a", "keys": {"n": "k"}, "identity_header": "A"}`, `identity_header: "a" is also a header the client sends (checked at the top-level rule)`},
		{`{"all_of": [{"header": "x-key", "keys": {"n": "k"}, "identity_header": "x-who"}, {"header": "x-who", "absent": true}]}`,
			`all_of[0].identity_header: "x-who" is also a header the client sends (checked at all_of[1])`},
		{`{"header": "a", "bypass": {"paths": ["/healthz"], "methods": ["OPTIONS"]}}`, `bypass: is now a list of match objects: [{"path": {"exact": "/healthz"}}`},
		{`{"header": "a", "bypass": [{"path": {"prefix": "/public/..;/"}}]}`,
			`bypass[0].path.prefix: must be in normal form, without "." or ".." segments and ";" parameters, not "/public/..;/": requests are matched in normal form`},
		{`{"header": "a", "bypass": [{"path": {"exact": "/healthz"}}, {"path": {"exact": "/a/%2e%2e/b"}}]}`,
			`bypass[1].path.exact: must be in normal form, without "." or ".." segments and ";" parameters, not "/a/%2e%2e/b"`},
		{`{"header": "a", "bypass": [{"path": {"exact": "healthz"}}]}`, `bypass[0].path.exact: must start with "/", not "healthz"`},
		{`{"header": "a", "bypass": [{"path": {"exact": "/a?b"}}]}`, `bypass[0].path.exact: must not contain '?' or '#'`},
		{`{"header": "a", "bypass": [{"path": {"exact": "/a", "prefix": "/b"}}]}`, `bypass[0].path: set only one of exact, prefix and glob`},
		{`{"header": "a", "bypass": [{"methods": ["GET", ""]}]}`, `bypass[0].methods[1]: must be an HTTP method such as "GET", not ""`},
		{`{"header": "a", "bypass": [{"headers": [{"name": ":path", "present": true}]}]}`, `bypass[0].headers[0].name: ":path" is a pseudo-header`},
		{`{"header": "a", "bypass": [{"verbs": ["GET"]}]}`, `bypass[0].verbs: unknown field`},
		{`{"header": "a", "bypass": [{}]}`, `bypass[0]: must set a condition`},
		{`{"header": "a", "bypass": [{"methods": ["OPTIONS"]}, {"headers": []}]}`, `bypass[1]: must set a condition`},
		{`{"header": "a", "bypass": "/healthz"}`, `bypass: must be an array of objects, not a string`},
		{`{"header": "a", "deny": {"status": 401, "www_authenticate": "Basic"}}`,
			`deny.www_authenticate: moved: write it as a "www-authenticate" entry of deny.headers`},
		{`{"header": "a", "deny": {"status": 299}}`, `deny.status: must be an HTTP status code from 300 to 599, not 299`},
		{`{"header": "a", "deny": {"headers": {"x y": "1"}}}`, `deny.headers: "x y" is not a header name`},
		{`{"header": "a", "deny": {"headers": {"x": "1\n2"}}}`, `deny.headers.x: must not contain CR, LF, NUL or other control characters`},
		{`{"header": "a", "header": "b"}`, `header: is given twice`},
	}
	for _, c := range cases {
		_, err := compileJSON(c.config)
		var e *conf.Error
		switch {
		case err == nil:
			t.Errorf("%s: no error, want %q", c.config, c.want)
		case !errors.As(err, &e):
			t.Errorf("%s: error %v is not a *conf.Error", c.config, err)
		case !strings.HasPrefix(err.Error(), c.want):
			t.Errorf("%s:\n got %q\nwant %q...", c.config, err, c.want)
		}
	}
}

// TestGoConfig checks the same validation on configurations built in Go,
// where nothing went through the JSON decoder.
func TestGoConfig(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, `must have a rule`},
		{Config{Rule: Rule{AnyOf: []Rule{}}}, `any_of: must list at least one rule`},
		{Config{Rules: []Rule{{Header: "a"}}, Rule: Rule{Header: "b"}}, `rules: cannot be combined`},
		{Config{Rules: []Rule{{Header: "a"}, {Header: "b", Secret: true}}}, `rules[1].secret: needs values`},
		{Config{Rule: Rule{Header: "a", Keys: []Key{{"n", "k1"}, {"n", "k2"}}}}, `keys.n: is named twice`},
		{Config{Rule: Rule{AllOf: []Rule{{Header: "a"}, {}}}}, `all_of[1]: must have a rule`},
		{Config{Rule: Rule{Header: "a"}, Deny: policy.DenyResponse{Status: 200}}, `deny.status: must be an HTTP status code from 300 to 599, not 200`},
		{Config{Rule: Rule{Header: "a"}, Bypass: []match.Match{{Path: match.Path{Prefix: "/public/..;/"}}}},
			`bypass[0].path.prefix: must be in normal form, without "." or ".." segments and ";" parameters, not "/public/..;/"`},
		{Config{Rule: Rule{Header: "a"}, Bypass: []match.Match{{Methods: []string{"OPTIONS"}}, {}}}, `bypass[1]: must set a condition`},
		{Config{Rule: Rule{Header: "a"}, Bypass: []match.Match{{Headers: []match.Header{}}}}, `bypass[0]: must set a condition`},
	}
	for _, c := range cases {
		if _, err := compile(c.cfg); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestDenyResponse(t *testing.T) {
	cases := []struct {
		deny    string
		status  uint32
		body    string
		headers [][2]string
	}{
		{`{}`, 403, defaultBody, nil},
		{`{"status": 429, "body": "slow down\n", "headers": {"Retry-After": "1"}}`, 429, "slow down\n",
			[][2]string{{"content-type", "text/plain; charset=utf-8"}, {"retry-after", "1"}}},
		{`{"body": "{}", "content_type": "application/json"}`, 403, "{}", [][2]string{{"content-type", "application/json"}}},
		{`{"status": 302, "headers": {"location": "/login"}}`, 302, defaultBody, [][2]string{{"location", "/login"}}},
		{`{"status": 401}`, 401, defaultBody, [][2]string{{"www-authenticate", `ApiKey realm="api"`}}},
		{`{"status": 401, "headers": {"WWW-Authenticate": "Bearer"}}`, 401, defaultBody, [][2]string{{"www-authenticate", "Bearer"}}},
		{`{"status": 403, "headers": {"www-authenticate": "Basic"}}`, 403, defaultBody, [][2]string{{"www-authenticate", "Basic"}}},
	}
	for _, c := range cases {
		got, err := compileJSON(`{"header": "a", "deny": ` + c.deny + `}`)
		if err != nil {
			t.Errorf("%s: %v", c.deny, err)
			continue
		}
		d := got.deny
		if d.Status != c.status || string(d.Body) != c.body || !equalHeaders(d.Headers, c.headers) {
			t.Errorf("%s: got %d %q %q, want %d %q %q", c.deny, d.Status, d.Body, d.Headers, c.status, c.body, c.headers)
		}
	}
}

func equalHeaders(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
