package match_test

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/match"
)

func BenchmarkHostile(b *testing.B) {
	m, _ := match.Compile(match.Match{Path: match.Path{Glob: "/admin/**"}})
	for _, unit := range []string{"/abcd", "x%2F;", "/..;%2F", "/.", "/a.%20", "/%61%62"} {
		s := "/" + strings.TrimPrefix(strings.Repeat(unit, (59<<10-1)/len(unit)), "/")
		path := s + strings.Repeat("z", 59<<10-len(s))
		src := &request{headers: [][2]string{{":path", path}}}
		b.Run(unit, func(b *testing.B) {
			var r match.Request
			for i := 0; i < b.N; i++ {
				r.Reset(src)
				m.Possibly(&r)
			}
		})
	}
}
