package headerauth

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/match"
)

func TestEval(t *testing.T) {
	const keys = `{"any_of": [
		{"header": "x-api-key", "keys": {"alice": "k-1", "bob": "k-22"}, "identity_header": "x-consumer"},
		{"all_of": [{"header": "x-internal", "values": ["yes"]}, {"header": "x-debug", "absent": true}]}]}`
	cases := []struct {
		config  string
		headers [][2]string
		reason  string // "" for a pass
		grants  []grant
	}{
		{keys, [][2]string{{"x-api-key", "k-22"}}, "", []grant{{"x-consumer", "bob"}}},
		{keys, [][2]string{{"X-API-KEY", "k-1"}}, "", []grant{{"x-consumer", "alice"}}},
		{keys, [][2]string{{"x-internal", "yes"}}, "", nil},
		{keys, [][2]string{{"x-api-key", "k-2"}, {"x-internal", "yes"}, {"x-debug", "1"}},
			`no rule matched (any_of[0]: header "x-api-key" does not carry a valid key; ` +
				`any_of[1].all_of[1]: header "x-debug" must be absent)`, nil},
		{keys, nil, `no rule matched (any_of[0]: header "x-api-key" is missing; any_of[1].all_of[0]: header "x-internal" is missing)`, nil},
		// A Kelvin sign folds to "k" in Unicode, but no proxy treats the
		// names as one header.
		{`{"header": "x-key"}`, [][2]string{{"x-\u212aey", "1"}}, `header "x-key" is missing`, nil},
		{`{"header": "allow", "values": ["Straße"], "ignore_case": true}`, [][2]string{{"allow", "STRASSE"}},
			`header "allow" has a value that is not allowed`, nil},
		{`{"header": "allow", "values": ["Straße"], "ignore_case": true}`, [][2]string{{"allow", "straße"}}, "", nil},
		// ignore_case folds ASCII letters only, as every other comparison
		// of the module does: the Kelvin sign is not "K", nor "ẞ" "ß".
		{`{"header": "x-role", "values": ["key"], "ignore_case": true}`, [][2]string{{"x-role", "\u212aey"}},
			`header "x-role" has a value that is not allowed`, nil},
		{`{"header": "x-role", "values": ["key"], "ignore_case": true}`, [][2]string{{"x-role", "KEY"}}, "", nil},
		{`{"header": "x-role", "values": ["straße"], "ignore_case": true}`, [][2]string{{"x-role", "STRAẞE"}},
			`header "x-role" has a value that is not allowed`, nil},
		// Values of :authority, :path and :method are compared in normal
		// form, as the match package reads them, and must hold however a
		// backend reads the request.
		{`{"header": ":authority", "values": ["example.com"]}`, [][2]string{{":authority", "example.com"}}, "", nil},
		{`{"header": ":authority", "values": ["example.com"]}`, [][2]string{{":authority", "EXAMPLE.com.:443"}}, "", nil},
		{`{"header": ":authority", "values": ["127.0.0.1"]}`, [][2]string{{":authority", "127.1"}}, "", nil},
		{`{"header": ":authority", "values": ["example.com"]}`, [][2]string{{":authority", "example.com:80:80"}},
			`header ":authority" has a value that is not allowed`, nil},
		{`{"header": ":path", "values": ["/status"]}`, [][2]string{{":path", "/status?x=1"}}, "", nil},
		{`{"header": ":path", "values": ["/status"]}`, [][2]string{{":path", "/a/../status"}}, "", nil},
		{`{"header": ":path", "values": ["/status"]}`, [][2]string{{":path", "/status;x"}},
			`header ":path" has a value that is not allowed`, nil},
		{`{"header": ":path", "values": ["/status"]}`, [][2]string{{":path", "/STATUS"}},
			`header ":path" has a value that is not allowed`, nil},
		{`{"header": ":path", "values": ["/status"], "ignore_case": true}`, [][2]string{{":path", "/STATUS"}}, "", nil},
		{`{"header": ":path", "values": ["/a", "/status"]}`, [][2]string{{":path", "/status"}}, "", nil},
		{`{"header": ":method", "values": ["GET"]}`, [][2]string{{":method", "get"}}, "", nil},
		{`{"header": ":method", "values": ["GET"]}`, [][2]string{{":method", "GET"}, {"x-http-method-override", "DELETE"}},
			`header ":method" has a value that is not allowed`, nil},
	}
	for _, c := range cases {
		comp, err := compileJSON(c.config)
		if err != nil {
			t.Fatalf("%s: %v", c.config, err)
		}
		var grants []grant
		reason := comp.rule.eval(c.headers, view(c.headers), &grants)
		if reason != c.reason || len(grants) != len(c.grants) || len(grants) > 0 && grants[0] != c.grants[0] {
			t.Errorf("%s with %q:\n got %q %v\nwant %q %v", c.config, c.headers, reason, grants, c.reason, c.grants)
		}
	}
}

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		got, want string
		eq        int
	}{
		{"k-1", "k-1", 1},
		{"k-1", "k-2", 0},
		{"k-1k-1", "k-1", 0}, // a repetition of want is not want
		{"k-", "k-1", 0},
		{"", "k-1", 0},
		{"K-1", "k-1", 0},
	} {
		if got := equal(c.got, c.want); got != c.eq {
			t.Errorf("equal(%q, %q) = %d, want %d", c.got, c.want, got, c.eq)
		}
	}
}

// headerSource is a request made of its headers, pseudo-headers included.
type headerSource [][2]string

func (s headerSource) value(name string) string {
	if v := s.RequestHeaderValues(name); len(v) > 0 {
		return v[0]
	}
	return ""
}
func (s headerSource) Method() string    { return s.value(":method") }
func (s headerSource) Path() string      { return s.value(":path") }
func (s headerSource) Authority() string { return s.value(":authority") }
func (s headerSource) SourceIP() string  { return "192.0.2.9" }
func (s headerSource) RouteName() string { return "" }
func (s headerSource) RequestHeaderValues(name string) []string {
	var out []string
	for _, h := range s {
		if sameName(h[0], name) {
			out = append(out, h[1])
		}
	}
	return out
}

// view is the request of headers as matchers read it.
func view(headers [][2]string) *match.Request {
	var r match.Request
	r.Reset(headerSource(headers))
	return &r
}

// source is a request as the bypass reads it.
type source struct{ method, path string }

func (s source) Method() string                      { return s.method }
func (s source) Path() string                        { return s.path }
func (s source) Authority() string                   { return "example.com" }
func (s source) RequestHeaderValues(string) []string { return nil }
func (s source) SourceIP() string                    { return "192.0.2.9" }
func (s source) RouteName() string                   { return "" }

// bypassed reports whether c lets method and path skip the check.
func bypassed(c *compiled, method, path string) bool {
	var r match.Request
	r.Reset(source{method, path})
	return c.bypass(&r)
}

// TestBypass checks a list of entries: a request skips the check if one
// entry certainly matches it, every condition of that entry holding.
func TestBypass(t *testing.T) {
	comp, err := compileJSON(`{"header": "a", "bypass": [{"path": {"exact": "/healthz"}}, {"path": {"exact": "/"}},
		{"path": {"prefix": "/static/"}}, {"methods": ["options"]}, {"methods": ["GET"], "path": {"prefix": "/docs/"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/healthz", true},
		{"GET", "/healthz?x=1", true},
		{"GET", "/", true},
		{"GET", "/?a", true},
		{"GET", "/healthz/", false},
		{"GET", "/HEALTHZ", false},
		{"GET", "/healthz;x", false},
		{"GET", "/static/a/b.css", true},
		{"GET", "/static/./a", true}, // every backend reads /static/a
		{"GET", "/static", false},
		{"GET", "/static/../admin", false},
		{"GET", "/static/..", true}, // that is "/", an entry of its own
		{"GET", "/static/%2e%2e/admin", false},
		{"GET", "/static/..;/admin", false},
		{"GET", "/static/..%2Fadmin", false},
		{"GET", `/static/..\admin`, false},
		{"GET", "/static/%00/../admin", false},
		{"GET", "/static#/../admin", false},
		{"OPTIONS", "/anything", true},
		{"options", "/anything", true}, // methods compare ignoring case
		{"GET", "/docs/a", true},
		{"POST", "/docs/a", false}, // the entry's method does not hold
		{"GET", "/docs", false},
		{"GET", "", false},
		{"GET", "*", false},
	} {
		if got := bypassed(comp, c.method, c.path); got != c.want {
			t.Errorf("bypass(%s %s) = %v, want %v", c.method, c.path, got, c.want)
		}
	}
}

// TestReasonsNeverCarryValues checks every reason eval can give for a
// request whose header values are all one marker.
func TestReasonsNeverCarryValues(t *testing.T) {
	const marker = "v-9f8e7d"
	for _, config := range []string{
		`{"header": "h", "values": ["a"]}`,
		`{"header": "h", "values": ["a"], "secret": true}`,
		`{"header": "h", "keys": {"n": "a"}}`,
		`{"header": "h", "absent": true}`,
		`{"any_of": [{"header": "h", "keys": {"n": "a"}}, {"header": "h", "values": ["b"], "ignore_case": true}]}`,
	} {
		comp, err := compileJSON(config)
		if err != nil {
			t.Fatal(err)
		}
		for _, headers := range [][][2]string{{{"h", marker}}, {{"h", marker}, {"h", marker}}} {
			reason := comp.rule.eval(headers, view(headers), new([]grant))
			if reason == "" || strings.Contains(reason, marker) {
				t.Errorf("%s: reason %q: want a denial that does not quote the value", config, reason)
			}
		}
	}
}
