package headerauth

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/internal/conf"
)

// decode parses and compiles a JSON filter configuration.
func decode(doc string) (*compiled, error) {
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
		{`{"header": "a", "keys": {"n": "k1", "n": "k2"}}`, `keys.n: is named twice`},
		{`{"header": "a", "keys": {"n": "k1", "m": "k1"}}`, `keys.m: is the same key as keys.n`},
		{`{"header": "a", "keys": {"n": 1}}`, `keys.n: must be a string, not a number`},
		{`{"header": ":path", "strip": true}`, `strip: cannot remove the pseudo-header ":path"`},
		{`{"header": "a", "values": ["x"], "identity_header": "x-who"}`, `identity_header: needs keys`},
		{`{"header": "a", "keys": {"n": "k"}, "identity_header": ":who"}`, `identity_header: ":who" is not a valid header name`},
		{`{"header": "a", "keys": {"n": "k"}, "identity_header": "A"}`, `identity_header: "a" is also a header the client sends (checked at the top-level rule)`},
		{`{"all_of": [{"header": "x-key", "keys": {"n": "k"}, "identity_header": "x-who"}, {"header": "x-who", "absent": true}]}`,
			`all_of[0].identity_header: "x-who" is also a header the client sends (checked at all_of[1])`},
		{`{"header": "a", "bypass": {"paths": ["healthz"]}}`, `bypass.paths[0]: must be a path in normal form`},
		{`{"header": "a", "bypass": {"paths": ["/a?b"]}}`, `bypass.paths[0]: must be a path in normal form`},
		{`{"header": "a", "bypass": {"path_prefixes": ["/a/../b"]}}`, `bypass.path_prefixes[0]: must be a path in normal form`},
		{`{"header": "a", "bypass": {"methods": ["GET", ""]}}`, `bypass.methods[1]: "" is not a valid method`},
		{`{"header": "a", "bypass": {"verbs": ["GET"]}}`, `bypass.verbs: unknown field`},
		{`{"header": "a", "deny": {"www_authenticate": "Basic"}}`, `deny.www_authenticate: is only sent with status 401, not 403`},
		{`{"header": "a", "deny": {"status": 401, "www_authenticate": "Basic", "headers": {"WWW-Authenticate": "Basic"}}}`,
			`deny.www_authenticate: cannot be combined with a www-authenticate entry`},
		{`{"header": "a", "deny": {"headers": {"x y": "1"}}}`, `deny.headers: "x y" is not a valid header name`},
		{`{"header": "a", "deny": {"headers": {"x": "1\n2"}}}`, `deny.headers.x: must be printable`},
	}
	for _, c := range cases {
		_, err := decode(c.config)
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
		{Config{Rule: Rule{AllOf: []Rule{{Header: "a"}, {}}}}, `all_of[1]: must have a rule`},
		{Config{Rule: Rule{Header: "a"}, Deny: DenyResponse{Status: 200}}, `deny.status: must be between 400 and 599, not 200`},
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
		{`{"status": 429, "body": "slow down\n", "headers": {"Retry-After": "1"}}`, 429, "slow down\n", [][2]string{{"retry-after", "1"}}},
		{`{"status": 401}`, 401, defaultBody, [][2]string{{"www-authenticate", `ApiKey realm="api"`}}},
		{`{"status": 401, "www_authenticate": "Bearer"}`, 401, defaultBody, [][2]string{{"www-authenticate", "Bearer"}}},
		{`{"status": 401, "headers": {"WWW-Authenticate": "Basic"}}`, 401, defaultBody, [][2]string{{"www-authenticate", "Basic"}}},
	}
	for _, c := range cases {
		got, err := decode(`{"header": "a", "deny": ` + c.deny + `}`)
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
