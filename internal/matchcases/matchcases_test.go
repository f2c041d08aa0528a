package matchcases

import "testing"

// TestGroups: every case is in the group of its match object, in the
// table's order, and each match object has one group.
func TestGroups(t *testing.T) {
	seen := map[string]bool{}
	n := 0
	for _, g := range Groups() {
		if seen[g.Match] {
			t.Errorf("%s: two groups", g.Match)
		}
		seen[g.Match] = true
		last := -1
		for _, c := range g.Cases {
			i := indexOf(c)
			if c.Match != g.Match || i <= last {
				t.Errorf("%s: case %q (index %d) out of place", g.Match, c.Name, i)
			}
			last = i
			n++
		}
	}
	if n != len(Cases) {
		t.Errorf("the groups hold %d cases, the table %d", n, len(Cases))
	}
}

func indexOf(c Case) int {
	for i := range Cases {
		if Cases[i].Name == c.Name && Cases[i].Match == c.Match && Cases[i].Req.Path == c.Req.Path {
			return i
		}
	}
	return -1
}
