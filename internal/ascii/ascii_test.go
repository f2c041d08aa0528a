package ascii

import "testing"

func TestFold(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"x-key", "x-key", true}, {"X-Key", "x-key", true}, {"X-KEY", "x-kex", false},
		{"x-\u212aey", "x-key", false}, {"É", "é", false}, {"@", "`", false}, {"[", "{", false},
		{"", "", true}, {"a", "ab", false},
	} {
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v", c.a, c.b, got)
		}
	}
	if Lower("X-Ä-Key") != "x-Ä-key" || Lower("done") != "done" {
		t.Error("Lower")
	}
	if !HasPrefixFold("/Admin/x", "/admin") || HasPrefixFold("/adm", "/admin") {
		t.Error("HasPrefixFold")
	}
	if n := testing.AllocsPerRun(10, func() { Lower("already-lower") }); n != 0 {
		t.Errorf("Lower allocates %v times for a lower-case string", n)
	}
}
