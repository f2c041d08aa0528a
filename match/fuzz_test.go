package match

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/matchcases"
)

func seedPaths(f *testing.F) {
	for _, p := range matchcasesPaths() {
		f.Add(p)
	}
}

// matchcasesPaths are the paths of the shared attack table and a few more.
func matchcasesPaths() []string {
	var out []string
	for _, c := range matchcases.Cases {
		out = append(out, c.Req.Path)
	}
	return append(out, []string{"/", "//", "/..;/..;/a", "/a/%2e%2E/%2F%5c;x", "/%3b%3B;;", "/a/./../b/.", "/\\\\a", "/%E4%BD%A0/x",
		"/a./b%20/", "/a/...", "/a/..%20/b", "/%20/x", "/x.%2F;.", "/a%20.%20./", "/a/b./../c", "/a;x/../b.%20/",
		"/%e4%bd/x%2f..", "/a//..;/b//", "/.;/a", "/..%3b/a"}...)
}

// FuzzNormalizePath checks the normalizer's invariants: the normal form is
// normal (normalizing it again changes nothing, and it has no empty, "."
// or ".." segment, no parameter, no backslash and no query), it is one of
// the path's readings, and every reading is a path the normalizer accepts.
func FuzzNormalizePath(f *testing.F) {
	seedPaths(f)
	f.Fuzz(func(t *testing.T, path string) {
		normal, ok := NormalizePath(path)
		var p paths
		rok := p.read(path)
		readings := p.strict
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
		if !found || len(readings) > maxReadings || len(p.loose) != len(readings) {
			t.Fatalf("%q: readings %q, loose %q, normal form %q", path, readings, p.loose, normal)
		}
		// A loose form is the loose form of its reading, read loosely again
		// it is unchanged, and it has no empty segment, no trailing "/" and
		// no segment ending in a dot or a space.
		for i, l := range p.loose {
			if want := looseForm(readings[i]); l != want {
				t.Fatalf("%q: loose form of %q is %q, want %q", path, readings[i], l, want)
			}
			if again := looseForm(l); again != l {
				t.Fatalf("%q: loose form %q read loosely is %q", path, l, again)
			}
			if l != "/" && (strings.HasSuffix(l, "/") || strings.Contains(l, "//")) {
				t.Fatalf("%q: loose form %q", path, l)
			}
			for _, seg := range strings.Split(l[1:], "/") {
				if strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, "%20") {
					t.Fatalf("%q: loose form %q has segment %q", path, l, seg)
				}
			}
		}
	})
}

type fakeSource struct{ path string }

func (s fakeSource) Method() string                      { return "GET" }
func (s fakeSource) Path() string                        { return s.path }
func (s fakeSource) Authority() string                   { return "example.com" }
func (s fakeSource) RequestHeaderValues(string) []string { return nil }
func (s fakeSource) SourceIP() string                    { return "192.0.2.1" }
func (s fakeSource) RouteName() string                   { return "" }

// FuzzMatcher checks the matcher against the normalizer: a path whose
// normal form matches a rule (in any case) possibly matches it, so a deny
// rule always applies to it; a path that certainly matches has a normal form
// that matches exactly; a path that cannot be read possibly matches and
// never certainly does; and certainly implies possibly.
func FuzzMatcher(f *testing.F) {
	seedPaths(f)
	patterns := []Path{{Glob: "/admin/**"}, {Glob: "/status/*"}, {Prefix: "/public/"}, {Exact: "/healthz"}, {Glob: "/a/*/c/**"},
		{Exact: "/secret/"}, {Prefix: "/a./b"}, {Glob: "/x%20/*/"}}
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
			case certainly && !m.path.matchLoose(looseForm(normal), false):
				t.Fatalf("%q, %+v: certainly, but normal form %q read loosely does not match", path, patterns[i], normal)
			case ok && m.path.matchLoose(looseForm(normal), true) && !possibly:
				t.Fatalf("%q, %+v: normal form %q read loosely matches, but not possibly", path, patterns[i], normal)
			}
		}
		// The key is the normal form read loosely, in lower case.
		if key, kok := r.PathKey(); kok != ok || ok && key != strings.ToLower(looseForm(normal)) {
			t.Fatalf("%q: key %q, %v; normal form %q, %v", path, key, kok, normal, ok)
		}
	})
}
