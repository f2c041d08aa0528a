package match_test

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/match"
)

// BenchmarkReadPath reads 59 KiB paths (the most Envoy's default header
// limit lets through) natively: plain, normalized, with the most readings,
// and made of what multiplies readings (which cannot be read). make bench
// measures the same paths compiled, through a chain.
func BenchmarkReadPath(b *testing.B) {
	m, err := match.Compile(match.Match{Path: match.Path{Glob: "/admin/**"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, head, unit string }{
		{"plain", "", "/abcd"},
		{"encoded letters", "", "/%61%62"},
		{"eight readings", strings.Repeat("/..;%2F", 8), "/%61%62"},
		{"unreadable", "", "x%2F;"},
	} {
		const length = 59 << 10
		path := "/" + strings.TrimPrefix(c.head+strings.Repeat(c.unit, (length-1-len(c.head))/len(c.unit)), "/")
		src := &request{headers: [][2]string{{":path", path}}}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(path)))
			var r match.Request
			for i := 0; i < b.N; i++ {
				r.Reset(src)
				m.Possibly(&r)
			}
		})
	}
}
