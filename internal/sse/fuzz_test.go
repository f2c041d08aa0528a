package sse

import (
	"fmt"
	"testing"
)

// FuzzSplitter feeds a stream whole and cut where the fuzzer says, with a
// Max of m bytes (DefaultMax when m is 0, so that most runs have a small
// one and events over it), and checks that the segments give back the
// stream, that both feeds find the same events as reference, that Pending
// stays within Max, and that a stream without some of the events still has
// the others.
func FuzzSplitter(f *testing.F) {
	for _, c := range formatCases {
		f.Add([]byte(c.in), []byte{5, 0, 1, 13}, uint8(c.max))
	}
	f.Add([]byte("data: a\r\n\r\ndata: b\r\r\n"), []byte{11, 1, 7}, uint8(64))
	f.Add([]byte("\xef\xbb\xbfevent: x\rdata: 1\n\n: c\r\n\r\ndata"), []byte{1, 1, 1, 2, 0, 9}, uint8(64))
	f.Add([]byte("data: 0123456789012345678901234567890123456789012345678901234567890123\n\ndata: b\n\n"), []byte{40, 30, 4}, uint8(64))
	f.Add([]byte("data: {\"usage\":{\"total_tokens\":9}}\n\ndata: [DONE]\n\n"), []byte{20}, uint8(0))

	f.Fuzz(func(t *testing.T, in, cuts []byte, m uint8) {
		max := int(m)
		var chunks [][]byte
		rest := in
		for _, c := range cuts {
			n := min(int(c)%32, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		chunks = append(chunks, rest)

		var want []ev
		for _, r := range reference(string(in), max) {
			want = append(want, r.ev)
		}
		whole := run(t, max, [][]byte{in})
		split := run(t, max, chunks)
		if fmt.Sprint(events(whole)) != fmt.Sprint(events(split)) {
			t.Fatalf("whole: events %v, split: %v", events(whole), events(split))
		}
		check(t, string(in), max, [][]byte{in}, want, "whole")
		check(t, string(in), max, chunks, want, fmt.Sprintf("in %d chunks", len(chunks)))

		// Forward every segment but the second event, the fourth and so on.
		var out []byte
		var kept []ev
		k := 0
		for _, g := range split {
			if g.event {
				k++
				if k%2 == 0 {
					continue
				}
				kept = append(kept, g.ev)
			}
			out = append(out, g.raw...)
		}
		var got []ev
		for _, r := range reference(string(out), max) {
			got = append(got, r.ev)
		}
		if fmt.Sprint(got) != fmt.Sprint(kept) {
			t.Fatalf("forwarded %q: events %v, want %v", out, got, kept)
		}
	})
}
