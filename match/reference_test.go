package match

import (
	"slices"
	"strings"
	"testing"
)

// referenceReadings reads path the slow, obvious way, one reading after
// another, segment by segment: the specification the fast reader
// (paths.read) is checked against. ok is false if the path cannot be read
// safely (the fast reader also refuses paths with too many events).
func referenceReadings(path string) (strict, loose []string, ok bool) {
	path = cutQuery(path)
	if path == "" || path[0] != '/' {
		return nil, nil, false
	}
	var toks []tok
	for i := 1; i < len(path); {
		t, next, ok := token(path, i)
		if !ok {
			return nil, nil, false
		}
		toks = append(toks, t)
		i = next
	}
	for i := maxReadings - 1; i >= 0; i-- {
		rd := reading{strip: i&1 != 0, split: i&2 != 0, merge: i&4 != 0}
		// The segments, as the reading splits and strips them.
		segs := []string{""}
		inParam := false
		for _, t := range toks {
			switch {
			case t.kind == tokSlash, t.kind == tokAmbiguous && rd.split:
				segs = append(segs, "")
				inParam = false
			case t.kind == tokParam && rd.strip:
				inParam = true
			case inParam:
			case t.enc:
				segs[len(segs)-1] += "%" + string(hexDigits[t.c>>4]) + string(hexDigits[t.c&15])
			default:
				segs[len(segs)-1] += string(t.c)
			}
		}
		var out []string
		for j, s := range segs {
			last := j == len(segs)-1
			switch {
			case dotsAndSpaces(s):
				return nil, nil, false
			case s == "" && rd.merge && !last:
			case s == ".":
				if last {
					out = append(out, "")
				}
			case s == "..":
				if len(out) > 0 {
					out = out[:len(out)-1]
				}
				if last {
					out = append(out, "")
				}
			default:
				out = append(out, s)
			}
		}
		r := "/" + strings.Join(out, "/")
		if !slices.Contains(strict, r) {
			strict = append(strict, r)
		}
	}
	for _, r := range strict {
		loose = append(loose, looseForm(r))
	}
	return strict, loose, true
}

// sameReadings reports whether two sets of readings (strict ones and their
// loose forms) are the same, with the same normal form first.
func sameReadings(strict, loose, wantStrict, wantLoose []string) bool {
	pairs := func(a, b []string) []string {
		var out []string
		for i := range a {
			out = append(out, a[i]+"\x00"+b[i])
		}
		slices.Sort(out)
		return out
	}
	return len(strict) > 0 && len(wantStrict) > 0 && strict[0] == wantStrict[0] &&
		slices.Equal(pairs(strict, loose), pairs(wantStrict, wantLoose))
}

// FuzzReadingsAsReference: the fast reader gives the reference's readings,
// the normal form first, or refuses a path with too many events.
func FuzzReadingsAsReference(f *testing.F) {
	seedPaths(f)
	f.Fuzz(func(t *testing.T, path string) { checkAgainstReference(t, path) })
}

func TestReadingsAsReference(t *testing.T) {
	for _, p := range matchcasesPaths() {
		checkAgainstReference(t, p)
	}
}

func checkAgainstReference(t *testing.T, path string) {
	t.Helper()
	strict, loose, ok := referenceReadings(path)
	var p paths
	got := p.read(path)
	if !got && ok {
		var pr prepared
		if pr.prepare(cutQuery(path)) || len(pr.events) != maxEvents {
			t.Errorf("%q: refused, the reference reads %q", path, strict)
		}
		return
	}
	if got != ok || ok && !sameReadings(p.strict, p.loose, strict, loose) {
		t.Errorf("%q: got %v %q %q, want %v %q %q", path, got, p.strict, p.loose, ok, strict, loose)
	}
}

// TestTooManyEvents: a path with many more than maxEvents places that
// backends read differently cannot be read; one with maxEvents can.
func TestTooManyEvents(t *testing.T) {
	for unit, each := range map[string]int{";": 1, "x%2F": 1, "/.": 1, "//": 2, "/a.": 1, "/a%20": 1, "/a;b": 2, "/%2e%2e": 1} {
		var p paths
		if at := "/x" + strings.Repeat(unit, maxEvents/each); !p.read(at) {
			t.Errorf("%q × %d refused", unit, maxEvents/each)
		}
		if over := "/x" + strings.Repeat(unit, 2*maxEvents/each); p.read(over) {
			t.Errorf("%q × %d read", unit, 2*maxEvents/each)
		}
	}
}
