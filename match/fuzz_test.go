package match

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/matchcases"
)

func seedPaths(f *testing.F) {
	for _, c := range matchcases.Cases {
		f.Add(c.Req.Path)
	}
	for _, p := range []string{"/", "//", "/..;/..;/a", "/a/%2e%2E/%2F%5c;x", "/%3b%3B;;", "/a/./../b/.", "/\\\\a", "/%E4%BD%A0/x"} {
		f.Add(p)
	}
}

// FuzzNormalizePath checks the normalizer's invariants: the normal form is
// normal (normalizing it again changes nothing, and it has no empty, "."
// or ".." segment, no parameter, no backslash and no query), it is one of
// the path's readings, and every reading is a path the normalizer accepts.
func FuzzNormalizePath(f *testing.F) {
	seedPaths(f)
	f.Fuzz(func(t *testing.T, path string) {
		normal, ok := NormalizePath(path)
		readings, rok := readPath(nil, path)
		if ok != rok {
			t.Fatalf("%q: NormalizePath ok=%v, readPath ok=%v", path, ok, rok)
		}
		if !ok {
			return
		}
		if again, ok := NormalizePath(normal); !ok || again != normal {
			t.Fatalf("%q: normal form %q normalizes to %q, %v", path, normal, again, ok)
		}
		if !strings.HasPrefix(normal, "/") || strings.Contains(normal, "//") || strings.ContainsAny(normal, `;?#\`) {
			t.Fatalf("%q: normal form %q", path, normal)
		}
		for _, seg := range strings.Split(normal[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("%q: normal form %q has a dot segment", path, normal)
			}
		}
		found := false
		for _, r := range readings {
			found = found || r == normal
			if _, ok := NormalizePath(r); !ok || !strings.HasPrefix(r, "/") {
				t.Fatalf("%q: reading %q is not a path", path, r)
			}
		}
		if !found || len(readings) > maxReadings {
			t.Fatalf("%q: readings %q, normal form %q", path, readings, normal)
		}
	})
}

type fakeSource struct{ path string }

func (s fakeSource) Method() string                      { return "GET" }
func (s fakeSource) Path() string                        { return s.path }
func (s fakeSource) Authority() string                   { return "example.com" }
func (s fakeSource) RequestHeaderValues(string) []string { return nil }
func (s fakeSource) SourceIP() string                    { return "192.0.2.1" }

// FuzzMatcher checks the matcher against the normalizer: a path whose
// normal form matches a rule (in any case) possibly matches it, so a deny
// rule always applies to it; a path that certainly matches has a normal form
// that matches exactly; a path that cannot be read possibly matches and
// never certainly does; and certainly implies possibly.
func FuzzMatcher(f *testing.F) {
	seedPaths(f)
	patterns := []Path{{Glob: "/admin/**"}, {Glob: "/status/*"}, {Prefix: "/public/"}, {Exact: "/healthz"}, {Glob: "/a/*/c/**"}}
	matchers := make([]*Matcher, len(patterns))
	for i, p := range patterns {
		m, err := Compile(Match{Path: p})
		if err != nil {
			f.Fatal(err)
		}
		matchers[i] = m
	}
	f.Fuzz(func(t *testing.T, path string) {
		var r Request
		r.Reset(fakeSource{path})
		normal, ok := NormalizePath(path)
		for i, m := range matchers {
			possibly, certainly := m.Possibly(&r), m.Certainly(&r)
			switch {
			case certainly && !possibly:
				t.Fatalf("%q, %+v: certainly but not possibly", path, patterns[i])
			case !ok && (!possibly || certainly):
				t.Fatalf("%q, %+v: unreadable, possibly=%v certainly=%v", path, patterns[i], possibly, certainly)
			case ok && m.path.matchOne(normal, true) && !possibly:
				t.Fatalf("%q, %+v: normal form %q matches, but not possibly", path, patterns[i], normal)
			case certainly && !m.path.matchOne(normal, false):
				t.Fatalf("%q, %+v: certainly, but normal form %q does not match", path, patterns[i], normal)
			}
		}
	})
}
