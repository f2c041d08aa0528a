package match_test

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/matchcases"
	"github.com/wasmpolicy/policy/match"
)

// request is a match.Source built from a header list, as the proxy
// delivers it.
type request struct {
	headers [][2]string
	source  string
	route   string
}

func (r *request) get(name string) string {
	for _, h := range r.headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}
func (r *request) Method() string    { return r.get(":method") }
func (r *request) Path() string      { return r.get(":path") }
func (r *request) Authority() string { return r.get(":authority") }
func (r *request) RouteName() string { return r.route }
func (r *request) SourceIP() string {
	s := r.source
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return strings.Trim(s, "[]")
}
func (r *request) RequestHeaderValues(name string) []string {
	var out []string
	for _, h := range r.headers {
		if strings.EqualFold(h[0], name) { // the Exchange folds ASCII case
			out = append(out, h[1])
		}
	}
	return out
}

func compile(t testing.TB, doc string) *match.Matcher {
	t.Helper()
	o, err := conf.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	spec := match.DecodeWithBody(o)
	if err := o.Err(); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	m, err := match.Compile(spec)
	if err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return m
}

// TestCases runs the table every filter shares against the matcher itself.
func TestCases(t *testing.T) {
	for _, c := range matchcases.Cases {
		m := compile(t, c.Match)
		var r match.Request
		r.Reset(&request{headers: c.Req.HeaderList(), source: c.Req.SourceAddress(), route: c.Req.Route})
		r.SetBody([]byte(c.Req.Body))
		if got := m.Possibly(&r); got != c.Possibly {
			t.Errorf("%s %s: Possibly = %v, want %v", c.Match, c.Name, got, c.Possibly)
		}
		if got := m.Certainly(&r); got != c.Certainly {
			t.Errorf("%s %s: Certainly = %v, want %v", c.Match, c.Name, got, c.Certainly)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"/":                           "/",
		"/a/b":                        "/a/b",
		"/a/b/":                       "/a/b/",
		"/a//b///c":                   "/a/b/c",
		"/a/./b/../c":                 "/a/c",
		"/a/b/..":                     "/a/",
		"/a/b/.":                      "/a/b/",
		"/..":                         "/",
		"/../../a":                    "/a",
		"/a;p=1/b;q":                  "/a/b",
		"/..;/a":                      "/a",
		"/a/..;x/b":                   "/b",
		"/%61%62%7e%2D%5f%2E":         "/ab~-_.",
		"/a%2fb%5Cc":                  "/a/b/c",
		`/a\b`:                        "/a/b",
		"/a%2ab%3F":                   "/a%2Ab%3F",
		"/a%25b":                      "/a%25b",
		"/a b"[:2] + "%20b":           "/a%20b",
		"/你":                          "/%E4%BD%A0",
		"/a{b}|c":                     "/a%7Bb%7D%7Cc",
		"/a?x=/../b":                  "/a",
		"/a:b@c!$&'()*+,=":            "/a:b@c!$&'()*+,=",
		"/%3b/a":                      "/a",
		"/.%2e/a":                     "/a",
		"/a/%2e%2e%2f%2e%2e%2fb":      "/b",
		"/" + strings.Repeat("a/", 3): "/a/a/a/",
	} {
		got, ok := match.NormalizePath(in)
		if !ok || got != want {
			t.Errorf("NormalizePath(%q) = %q, %v; want %q", in, got, ok, want)
		}
		if again, ok := match.NormalizePath(got); !ok || again != got {
			t.Errorf("NormalizePath(%q) = %q, not idempotent (%q)", got, again, in)
		}
	}
	for _, in := range []string{"", "a", "*", "http://x/a", "/a#b", "/a%", "/a%2", "/a%zz", "/a%00", "/a%0d%0a", "/a%7f", "/a\x00", "/a\r\n", "/a b", "/a\tb", "/a\x7f"} {
		if got, ok := match.NormalizePath(in); ok {
			t.Errorf("NormalizePath(%q) = %q, want refused", in, got)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":       "example.com",
		"Example.COM":       "example.com",
		"example.com.":      "example.com",
		"example.com:8080":  "example.com",
		"example.com.:443":  "example.com",
		"svc_a.ns":          "svc_a.ns",
		"10.0.0.1:80":       "10.0.0.1",
		"[2001:DB8::1]:443": "[2001:db8::1]",
		"[::ffff:10.0.0.1]": "10.0.0.1",
		"localhost":         "localhost",
		"a-b.c-d.example":   "a-b.c-d.example",
	} {
		if got, ok := match.NormalizeHost(in); !ok || got != want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", ":80", "a:", "a:x", "a:80:80", "a:99999", "a:-1", "user@a", "a..b", ".a", "a..", "[::1", "[::1]x", "[::1]:", "[zz::1]", "[1.2.3.4]", "a b", "a/b", "a%2eb", "ä.example"} {
		if got, ok := match.NormalizeHost(in); ok {
			t.Errorf("NormalizeHost(%q) = %q, want refused", in, got)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for doc, want := range map[string]string{
		`{"methods": []}`:                                                    `methods: must list at least one method, such as ["GET"]; leave it out to match any method`,
		`{"methods": ["GET", "BAD METHOD"]}`:                                 `methods[1]: must be an HTTP method such as "GET", not "BAD METHOD"`,
		`{"path": {"exact": "/a", "prefix": "/b"}}`:                          `path: set only one of exact, prefix and glob`,
		`{"path": {"prefix": "api/"}}`:                                       `path.prefix: must start with "/", not "api/"`,
		`{"path": {"exact": "/a?b"}}`:                                        `path.exact: must not contain '?' or '#' (paths are matched without their query), not "/a?b"`,
		`{"path": {"prefix": "/public/..;/"}}`:                               `path.prefix: must be in normal form, without "." or ".." segments and ";" parameters, not "/public/..;/": requests are matched in normal form`,
		`{"path": {"exact": "/a//b"}}`:                                       `path.exact: must be in normal form ("/a/b"), not "/a//b": requests are matched in normal form`,
		`{"path": {"glob": "/a/%2e/b"}}`:                                     `path.glob: must be in normal form, without "." or ".." segments and ";" parameters, not "/a/%2e/b": requests are matched in normal form`,
		`{"path": {"prefix": "/a%7e%2f"}}`:                                   `path.prefix: must be in normal form ("/a~/"), not "/a%7e%2f": requests are matched in normal form`,
		`{"path": {"exact": "/a%00"}}`:                                       `path.exact: "/a%00" is not a path a request could have`,
		`{"path": {"glob": "/a/**/b"}}`:                                      `path.glob: "**" may only be the last segment, in "/a/**/b"`,
		`{"path": {"glob": "/a/b*"}}`:                                        `path.glob: '*' must be a whole segment ("/a/*/b"), in "/a/b*"`,
		`{"hosts": []}`:                                                      `hosts: must list at least one host; leave it out to match any host`,
		`{"hosts": ["a.example.com:80"]}`:                                    `hosts[0]: must be a host name ("api.example.com") or "*." and a domain ("*.example.com"), without a port, not "a.example.com:80"`,
		`{"hosts": ["*"]}`:                                                   `hosts[0]: must be a host name ("api.example.com") or "*." and a domain ("*.example.com"), without a port, not "*"`,
		`{"headers": [{"name": "x", "equals": "a", "absent": true}]}`:        `headers[0]: set exactly one of present, absent, equals and prefix`,
		`{"headers": [{"name": ":path", "prefix": "/admin"}]}`:               `headers[0].name: ":path" is a pseudo-header; use methods, path or hosts, which normalize it`,
		`{"headers": [{"name": "x y", "present": true}]}`:                    `headers[0].name: "x y" is not a header name`,
		`{"headers": [{"name": "x", "present": true, "ignore_case": true}]}`: `headers[0].ignore_case: applies to equals and prefix only`,
		`{"source_ips": ["10.0.0.0/33"]}`:                                    `source_ips[0]: must be an IP address ("192.0.2.7") or a CIDR range ("10.0.0.0/8"), not "10.0.0.0/33"`,
		`{"source_ips": []}`:                                                 `source_ips: must list at least one address or CIDR range; leave it out to match any source`,
		`{"routes": []}`:                                                     `routes: must list at least one route name; leave it out to match any route`,
		`{"routes": ["a", ""]}`:                                              `routes[1]: must be the name of a route of Envoy's route configuration, not empty and without control characters, not ""`,
		`{"routes": ["a\u0000b"]}`:                                           `routes[0]: must be the name of a route of Envoy's route configuration, not empty and without control characters, not "a\x00b"`,
	} {
		o, err := conf.Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		spec := match.Decode(o)
		if err := o.Err(); err != nil {
			t.Errorf("%s: decode: %v", doc, err)
			continue
		}
		if _, err := match.Compile(spec); err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", doc, err, want)
		}
	}
	for doc, want := range map[string]string{
		`{"paths": ["/a"]}`: `paths: unknown field (known fields: headers, hosts, methods, path, routes, source_ips)`,
		`{"path": "/a"}`:    `path: must be an object, not a string`,
		`{"headers": [{"name": "x", "equals": ""}]}`: `headers[0].equals: must not be empty`,
		`{"path": {}}`:                    `path: set one of exact, prefix and glob`,
		`{"path": {"ignore_case": true}}`: `path: set one of exact, prefix and glob`,
		`{"path": {"prefix": ""}}`:        `path.prefix: must not be empty`,
		`{"methods": "GET"}`:              `methods: must be an array of strings, not a string`,
	} {
		o, _ := conf.Parse([]byte(doc))
		match.Decode(o)
		if err := o.Err(); err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", doc, err, want)
		}
	}
}

func TestZeroMatchAndNil(t *testing.T) {
	var r match.Request
	r.Reset(&request{headers: [][2]string{{":path", "/%00"}}})
	m, err := match.Compile(match.Match{})
	if err != nil || !m.Possibly(&r) || !m.Certainly(&r) {
		t.Errorf("the zero Match must match every request: %v", err)
	}
	var nilm *match.Matcher
	if !nilm.Certainly(&r) {
		t.Error("a nil Matcher must match every request")
	}
}

func TestIgnoreCase(t *testing.T) {
	m := compile(t, `{"path": {"prefix": "/Docs/", "ignore_case": true}}`)
	var r match.Request
	r.Reset(&request{headers: [][2]string{{":path", "/docs/a"}}})
	if !m.Certainly(&r) {
		t.Error("ignore_case: /docs/a does not certainly match /Docs/")
	}
	h := compile(t, `{"headers": [{"name": "x-env", "prefix": "prod", "ignore_case": true}]}`)
	r.Reset(&request{headers: [][2]string{{":path", "/"}, {"x-env", "PROD-eu"}}})
	if !h.Certainly(&r) {
		t.Error("ignore_case: x-env PROD-eu does not match prefix prod")
	}
}

func TestMatchAllocatesNothingForPlainPaths(t *testing.T) {
	m := compile(t, `{"methods": ["GET"], "path": {"glob": "/api/*/orders/**"}, "hosts": ["*.example.com"], "headers": [{"name": "x-tenant", "present": true}]}`)
	src := &request{headers: [][2]string{{":method", "GET"}, {":path", "/api/v1/orders/7?x=1"}, {":authority", "shop.example.com"}, {"x-tenant", "a"}}}
	var r match.Request
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(src)
		if !m.Certainly(&r) || !m.Possibly(&r) {
			t.Fatal("no match")
		}
	})
	// RequestHeaderValues of this test's Source allocates its result, once
	// for each of the two calls; the matcher adds nothing.
	if allocs > 2 {
		t.Errorf("%v allocations per request", allocs)
	}
}

// countingSource counts how often the request's path is read.
type countingSource struct {
	request
	pathReads int
}

func (s *countingSource) Path() string { s.pathReads++; return s.request.Path() }

// TestNormalPathOnce: the normal form is derived once per request, however
// many rules ask for it, and again after Reset.
func TestNormalPathOnce(t *testing.T) {
	src := &countingSource{request: request{headers: [][2]string{{":path", "/a/./b;x//c?q"}}}}
	var r match.Request
	r.Reset(src)
	for i := 0; i < 3; i++ {
		if p, ok := r.NormalPath(); !ok || p != "/a/b/c" {
			t.Fatalf("NormalPath() = %q, %v; want /a/b/c", p, ok)
		}
	}
	if src.pathReads != 1 {
		t.Errorf("the path was read %d times, want 1", src.pathReads)
	}
	src.headers = [][2]string{{":path", "/%00"}}
	r.Reset(src)
	if p, ok := r.NormalPath(); ok {
		t.Errorf("NormalPath() of /%%00 = %q, want refused", p)
	}
}

// TestReadingsAllocateOnce: however many readings a path has, and however
// long it is, reading it allocates one buffer for all of them, one for its
// normalized text if that differs from the path, and one for its loose
// forms if they differ from the readings by more than a trailing "/"
// (nothing for a plain path); the matcher adds nothing.
func TestReadingsAllocateOnce(t *testing.T) {
	m := compile(t, `{"path": {"glob": "/admin/**"}}`)
	long := strings.Repeat("/abcde", 10000) // a plain path of 60,000 bytes
	for _, c := range []struct {
		path   string
		allocs float64
	}{
		{long, 0},
		{long + "/", 0},
		{"/a%2Fb;c" + long, 1},
		{"/a.%20" + long, 2},
		{"/a." + long, 2},
		{long + "//", 2},
		{"/..;%2f" + long, 3},
		{"/%61" + long, 2},
		{"/%e4" + long, 2},
	} {
		src := &request{headers: [][2]string{{":path", c.path}}}
		var r match.Request
		r.Reset(src) // the first request sizes the Request's own slices
		m.Possibly(&r)
		allocs := testing.AllocsPerRun(20, func() {
			r.Reset(src)
			m.Possibly(&r)
			m.Certainly(&r)
		})
		if allocs > c.allocs {
			t.Errorf("%.12q...: %v allocations per request, want %v", c.path, allocs, c.allocs)
		}
	}
}

// TestChanged: a changed header makes the Request read again what it
// derived from that header, and only that.
func TestChanged(t *testing.T) {
	src := &countingSource{request: request{headers: [][2]string{{":path", "/a"}, {":authority", "a.example"}, {":method", "POST"}}}}
	admin := compile(t, `{"path": {"prefix": "/admin/"}}`)
	host := compile(t, `{"hosts": ["b.example"]}`)
	del := compile(t, `{"methods": ["DELETE"]}`)
	var r match.Request
	r.Reset(src)
	if admin.Possibly(&r) || host.Possibly(&r) || del.Possibly(&r) {
		t.Fatal("matches before the change")
	}
	reads := src.pathReads
	src.headers = [][2]string{{":path", "/admin/x"}, {":authority", "b.example"}, {":method", "POST"}, {"x-http-method-override", "DELETE"}}
	r.Changed("x-other")
	if admin.Possibly(&r) || host.Possibly(&r) || del.Possibly(&r) || src.pathReads != reads {
		t.Errorf("another header's change made the request be read again (%d path reads, was %d)", src.pathReads, reads)
	}
	r.Changed(":path")
	if !admin.Possibly(&r) || host.Possibly(&r) {
		t.Error(":path changed: the path is not read again, or the host is")
	}
	if key, _ := r.PathKey(); key != "/admin/x" {
		t.Errorf("PathKey = %q after :path changed", key)
	}
	r.Changed(":authority")
	if !host.Possibly(&r) {
		t.Error(":authority changed: the host is not read again")
	}
	if !del.Possibly(&r) {
		t.Error("the override header's methods were read before the change and not again after :path changed")
	}
}

// IsZero is true for a Match without conditions only: an entry or a bypass
// with any condition set is not every request.
func TestIsZero(t *testing.T) {
	if m := (match.Match{Headers: []match.Header{}}); !m.IsZero() {
		t.Error("a Match without conditions is not zero")
	}
	for name, m := range map[string]match.Match{
		"methods":    {Methods: []string{"GET"}},
		"path":       {Path: match.Path{Prefix: "/a"}},
		"hosts":      {Hosts: []string{"a.example"}},
		"headers":    {Headers: []match.Header{{Name: "x", Present: true}}},
		"source_ips": {SourceIPs: []string{"10.0.0.0/8"}},
		"routes":     {Routes: []string{"login"}},
		"body":       {Body: []match.BodyField{{Path: "a", Present: true}}},
	} {
		if m.IsZero() {
			t.Errorf("a Match with %s is zero", name)
		}
	}
}
