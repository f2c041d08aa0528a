package sse

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// ev is an event as a test expects it: its name and data, or no data at
// all with none set.
type ev struct {
	name, data string
	none       bool
}

func (e ev) String() string {
	if e.none {
		return fmt.Sprintf("{%q no data}", e.name)
	}
	return fmt.Sprintf("{%q %q}", e.name, e.data)
}

// seg is a Segment copied out of the Splitter's buffers.
type seg struct {
	raw   string
	event bool
	ev    ev
}

func copySeg(g Segment) seg {
	c := seg{raw: string(g.Raw), event: g.Event}
	if g.Event {
		c.ev = ev{name: g.Name, data: string(g.Data), none: g.Data == nil}
	}
	return c
}

func (g seg) String() string {
	if g.event {
		return fmt.Sprintf("event %q %v", g.raw, g.ev)
	}
	return fmt.Sprintf("bytes %q", g.raw)
}

// run feeds chunks to a Splitter with the given Max, the last with end set,
// and returns the segments, checking on the way that Pending stays within
// Max and that segments other than events carry no data.
func run(t testing.TB, max int, chunks [][]byte) []seg {
	t.Helper()
	s := Splitter{Max: max}
	limit := max
	if limit <= 0 {
		limit = DefaultMax
	}
	var out []seg
	for k, c := range chunks {
		for _, g := range s.Feed(c, k == len(chunks)-1) {
			if len(g.Raw) == 0 {
				t.Fatalf("an empty segment")
			}
			if !g.Event && (g.Data != nil || g.Name != "") {
				t.Fatalf("segment %q: Event false with data %q, name %q", g.Raw, g.Data, g.Name)
			}
			out = append(out, copySeg(g))
		}
		if p := s.Pending(); p > limit {
			t.Fatalf("Pending() = %d, over Max %d", p, limit)
		}
	}
	if p := s.Pending(); p != 0 {
		t.Fatalf("Pending() = %d after the end", p)
	}
	return out
}

// events is the events among segs.
func events(segs []seg) []ev {
	var evs []ev
	for _, g := range segs {
		if g.event {
			evs = append(evs, g.ev)
		}
	}
	return evs
}

func concat(segs []seg) string {
	var b strings.Builder
	for _, g := range segs {
		b.WriteString(g.raw)
	}
	return b.String()
}

// refEvent is an event as reference finds it.
type refEvent struct {
	raw   string
	loose bool // raw ends with the LF of a CRLF blank line, which may come apart
	ev    ev
}

// reference splits a whole stream into its events, as the package
// documents them, the simple way: no chunks, no state carried.
func reference(in string, max int) []refEvent {
	if max <= 0 {
		max = DefaultMax
	}
	var out []refEvent
	for pos := 0; pos < len(in); {
		start := pos
		if pos == 0 && strings.HasPrefix(in, bom) {
			pos = len(bom)
		}
		var lines []string
		loose, blank := false, false
		for pos < len(in) && !blank {
			end := strings.IndexAny(in[pos:], "\r\n")
			if end < 0 {
				lines = append(lines, in[pos:])
				pos = len(in)
				break
			}
			line := in[pos : pos+end]
			next := pos + end + 1
			crlf := in[pos+end] == '\r' && strings.HasPrefix(in[next:], "\n")
			if crlf {
				next++
			}
			pos = next
			if line == "" {
				blank, loose = true, crlf
			} else {
				lines = append(lines, line)
			}
		}
		raw := in[start:pos]
		size := len(raw)
		if loose {
			size--
		}
		if size > max {
			continue
		}
		var data []string
		e := ev{none: true}
		fields := false
		for _, line := range lines {
			if strings.HasPrefix(line, ":") {
				continue
			}
			fields = true
			name, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch name {
			case "data":
				data = append(data, value)
			case "event":
				e.name = value
			}
		}
		if !fields {
			continue
		}
		if data != nil {
			e.data, e.none = strings.Join(data, "\n"), false
		}
		out = append(out, refEvent{raw: raw, loose: loose, ev: e})
	}
	return out
}

// check feeds in to a Splitter cut into chunks and compares what comes out
// with want and with reference: the bytes, the events, and each event's
// Raw.
func check(t *testing.T, in string, max int, chunks [][]byte, want []ev, how string) {
	t.Helper()
	segs := run(t, max, chunks)
	if got := concat(segs); got != in {
		t.Fatalf("%s: the segments' bytes are %q, want %q", how, got, in)
	}
	got := events(segs)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: events %v, want %v", how, got, want)
	}
	ref := reference(in, max)
	if len(ref) != len(got) {
		t.Fatalf("%s: %d events, the reference finds %d", how, len(got), len(ref))
	}
	k := 0
	for _, g := range segs {
		if !g.event {
			continue
		}
		r := ref[k]
		k++
		if g.ev != r.ev {
			t.Fatalf("%s: event %v, the reference finds %v", how, g.ev, r.ev)
		}
		if g.raw != r.raw && !(r.loose && g.raw == r.raw[:len(r.raw)-1]) {
			t.Fatalf("%s: event %q, the reference finds %q", how, g.raw, r.raw)
		}
	}
}

// splits is in cut in the ways the tests try: whole, in two at every
// byte, byte by byte, and (for short inputs) in three at every two bytes.
func splits(in string, yield func(how string, chunks [][]byte)) {
	b := []byte(in)
	yield("whole", [][]byte{b})
	yield("whole, then end", [][]byte{b, nil})
	for i := 0; i <= len(b); i++ {
		yield(fmt.Sprintf("split at %d", i), [][]byte{b[:i], b[i:]})
	}
	var bytewise [][]byte
	for i := range b {
		bytewise = append(bytewise, b[i:i+1])
	}
	yield("byte by byte", append(bytewise, nil))
	if len(b) <= 80 {
		for i := 0; i <= len(b); i++ {
			for j := i; j <= len(b); j++ {
				yield(fmt.Sprintf("split at %d and %d", i, j), [][]byte{b[:i], b[i:j], b[j:]})
			}
		}
	}
}

var formatCases = []struct {
	name string
	in   string
	max  int
	want []ev
}{
	{"empty stream", "", 0, nil},
	{"LF", "data: a\n\ndata: b\n\n", 0, []ev{{data: "a"}, {data: "b"}}},
	{"CRLF", "data: a\r\n\r\ndata: b\r\n\r\n", 0, []ev{{data: "a"}, {data: "b"}}},
	{"CR", "data: a\r\rdata: b\r\r", 0, []ev{{data: "a"}, {data: "b"}}},
	{"mixed endings", "data: a\r\ndata: b\rdata: c\n\r\nevent: x\rdata\n\r", 0,
		[]ev{{data: "a\nb\nc"}, {name: "x", data: ""}}},
	{"CR then LF is one line end", "data: a\r\n\ndata: b\n\r\n", 0, []ev{{data: "a"}, {data: "b"}}},
	{"LF then CR is two", "data: a\n\rdata: b\n\n", 0, []ev{{data: "a"}, {data: "b"}}},
	{"comments", ": hello\n\n:\ndata: a\n: between\ndata: b\n\n", 0, []ev{{data: "a\nb"}}},
	{"comment alone is no event", ": keep-alive\n\n: again\r\n\r\n", 0, nil},
	{"blank lines alone", "\n\r\n\r\r\ndata: a\n\n\n\n", 0, []ev{{data: "a"}}},
	{"data without colon", "data\n\n", 0, []ev{{data: ""}}},
	{"data without colon, twice", "data\ndata\n\n", 0, []ev{{data: "\n"}}},
	{"data colon, no space", "data:a\n\n", 0, []ev{{data: "a"}}},
	{"one space removed", "data:  a \n\n", 0, []ev{{data: " a "}}},
	{"tab kept", "data:\ta\n\n", 0, []ev{{data: "\ta"}}},
	{"colon in value", "data: {\"a\":1}\n\n", 0, []ev{{data: `{"a":1}`}}},
	{"empty data", "data:\n\ndata: \n\n", 0, []ev{{data: ""}, {data: ""}}},
	{"empty data lines joined", "data:\ndata:\n\n", 0, []ev{{data: "\n"}}},
	{"multiple data lines", "data: a\ndata: b\ndata: c\n\n", 0, []ev{{data: "a\nb\nc"}}},
	{"event name", "event: usage\ndata: {}\n\n", 0, []ev{{name: "usage", data: "{}"}}},
	{"event name after data", "data: x\nevent: ping\n\n", 0, []ev{{name: "ping", data: "x"}}},
	{"last event name wins", "event: a\nevent: b\ndata: x\n\n", 0, []ev{{name: "b", data: "x"}}},
	{"empty event name", "event: a\nevent:\ndata: x\n\n", 0, []ev{{data: "x"}}},
	{"names do not carry over", "event: a\ndata: 1\n\ndata: 2\n\nevent: a\ndata: 3\n\n", 0,
		[]ev{{name: "a", data: "1"}, {data: "2"}, {name: "a", data: "3"}}},
	{"event without data", "event: a\n\n", 0, []ev{{name: "a", none: true}}},
	{"id and retry ignored", "id: 7\nretry: 100\ndata: a\n\n", 0, []ev{{data: "a"}}},
	{"id alone", "id: 7\n\n", 0, []ev{{none: true}}},
	{"unknown field", "foo: bar\n\n", 0, []ev{{none: true}}},
	{"field names are case-sensitive", "Data: a\nEVENT: b\n\n", 0, []ev{{none: true}}},
	{"space before colon is in the name", "data : a\n\n", 0, []ev{{none: true}}},
	{"BOM at start", "\xef\xbb\xbfdata: a\n\n", 0, []ev{{data: "a"}}},
	{"BOM then blank line", "\xef\xbb\xbf\ndata: a\n\n", 0, []ev{{data: "a"}}},
	{"BOM alone", "\xef\xbb\xbf", 0, nil},
	{"BOM only once", "\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n", 0, []ev{{none: true}}},
	{"BOM later is content", "data: a\n\n\xef\xbb\xbfdata: b\n\n", 0, []ev{{data: "a"}, {none: true}}},
	{"part of a BOM is content", "\xef\xbbdata: a\n\n", 0, []ev{{none: true}}},
	{"part of a BOM, then a line end", "\xef\n\ndata: a\n\n", 0, []ev{{none: true}, {data: "a"}}},
	{"BOM then comment", "\xef\xbb\xbf: hi\n\ndata: a\n\n", 0, []ev{{data: "a"}}},
	{"non-UTF-8 bytes pass", "data: \xff\x00\xfe\n\n", 0, []ev{{data: "\xff\x00\xfe"}}},
	{"OpenAI", "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n" +
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n" +
		"data: [DONE]\n\n", 0, []ev{
		{data: `{"choices":[{"delta":{"content":"Hi"}}]}`},
		{data: `{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}`},
		{data: "[DONE]"},
	}},
	{"Anthropic", "event: message_start\ndata: {\"type\":\"message_start\"}\n\n" +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n" +
		"event: message_delta\ndata: {\"usage\":{\"output_tokens\":15}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", 0, []ev{
		{name: "message_start", data: `{"type":"message_start"}`},
		{name: "ping", data: `{"type": "ping"}`},
		{name: "message_delta", data: `{"usage":{"output_tokens":15}}`},
		{name: "message_stop", data: `{"type":"message_stop"}`},
	}},

	{"unterminated event at end", "data: a\n\ndata: b", 0, []ev{{data: "a"}, {data: "b"}}},
	{"unterminated after one line end", "data: a\n\ndata: b\n", 0, []ev{{data: "a"}, {data: "b"}}},
	{"unterminated after CR", "data: b\r", 0, []ev{{data: "b"}}},
	{"unterminated after CRLF", "data: b\r\n", 0, []ev{{data: "b"}}},
	{"unterminated comment is no event", "data: a\n\n: bye", 0, []ev{{data: "a"}}},
	{"unterminated empty data", "data:", 0, []ev{{data: ""}}},
	{"unterminated data name", "data", 0, []ev{{data: ""}}},
	{"unterminated name only", "event: x", 0, []ev{{name: "x", none: true}}},
	{"ends on the CR of a blank line", "data: a\n\r", 0, []ev{{data: "a"}}},
	{"ends on a CR blank line after CRLF", "data: a\r\n\r", 0, []ev{{data: "a"}}},
	{"OpenAI DONE unterminated", "data: {}\n\ndata: [DONE]", 0, []ev{{data: "{}"}, {data: "[DONE]"}}},

	{"exactly Max", "data: abc\n\n", 11, []ev{{data: "abc"}}},
	{"one over Max", "data: abc\n\n", 10, nil},
	{"CRLF blank line: its LF not counted", "data: abc\r\n\r\n", 12, []ev{{data: "abc"}}},
	{"CRLF blank line, one over", "data: abc\r\n\r\n", 11, nil},
	{"over Max, then parsed", "data: 0123456789\n\ndata: a\n\n", 10, []ev{{data: "a"}}},
	{"parsed, over Max, parsed", "data: a\n\n: comment that is too long\ndata: x\r\n\r\ndata: b\n\n", 12,
		[]ev{{data: "a"}, {data: "b"}}},
	{"over Max with CR endings", "data: a\rdata: 0123456789\r\rdata: b\r\r", 12, []ev{{data: "b"}}},
	{"unterminated at Max", "data: abcd", 10, []ev{{data: "abcd"}}},
	{"unterminated over Max", "data: abcde", 10, nil},
	{"BOM counts toward Max", "\xef\xbb\xbfdata: a\n\n", 9, nil},
	{"BOM within Max", "\xef\xbb\xbfdata: a\n\n", 12, []ev{{data: "a"}}},
	{"Max 1", "data: a\n\n\n", 1, nil},
	{"Max 1, blank lines", "\n\r\n\r", 1, nil},
	{"Max 3, short fields", "a\n\nb\r\r", 3, []ev{{none: true}, {none: true}}},
}

func TestFormat(t *testing.T) {
	for _, c := range formatCases {
		t.Run(c.name, func(t *testing.T) {
			splits(c.in, func(how string, chunks [][]byte) {
				check(t, c.in, c.max, chunks, c.want, how)
			})
		})
	}
}

// TestSegments checks how a whole chunk comes apart: each event in a
// segment of its own, the bytes between events passed through in one.
func TestSegments(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want []seg
	}{
		{": ping\n\n\ndata: a\n\n: ping\n\n", 0, []seg{
			{raw: ": ping\n\n\n"},
			{raw: "data: a\n\n", event: true, ev: ev{data: "a"}},
			{raw: ": ping\n\n"},
		}},
		{"data: a\r\n\r\ndata: b\r\r\n", 0, []seg{
			{raw: "data: a\r\n\r\n", event: true, ev: ev{data: "a"}},
			{raw: "data: b\r\r\n", event: true, ev: ev{data: "b"}},
		}},
		{"data: a\n\ndata: 0123456789\n\n: x\n\ndata: b", 12, []seg{
			{raw: "data: a\n\n", event: true, ev: ev{data: "a"}},
			{raw: "data: 0123456789\n\n: x\n\n"},
			{raw: "data: b", event: true, ev: ev{data: "b"}},
		}},
	} {
		got := run(t, c.max, [][]byte{[]byte(c.in), nil})
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q: segments\n%v\nwant\n%v", c.in, got, c.want)
		}
	}
}

// TestCRAcrossChunks: the CR of a CRLF at the end of a chunk and its LF at
// the start of the next make one line end, not a blank line.
func TestCRAcrossChunks(t *testing.T) {
	var s Splitter
	if segs := s.Feed([]byte("data: a\r"), false); len(segs) != 0 {
		t.Fatalf("segments %v after a field's CR", segs)
	}
	if segs := s.Feed([]byte("\ndata: b\r"), false); len(segs) != 0 {
		t.Fatalf("segments %v: the LF after a field's CR is no blank line", segs)
	}
	segs := s.Feed([]byte("\n\r"), false)
	if len(segs) != 1 || !segs[0].Event || string(segs[0].Data) != "a\nb" || string(segs[0].Raw) != "data: a\r\ndata: b\r\n\r" {
		t.Fatalf("segments %v, want the event at the blank line's CR", segs)
	}
	segs = s.Feed([]byte("\n"), false)
	if len(segs) != 1 || segs[0].Event || string(segs[0].Raw) != "\n" {
		t.Fatalf("segments %v, want the blank line's LF alone", segs)
	}
	segs = s.Feed([]byte("\n"), false)
	if len(segs) != 1 || segs[0].Event || string(segs[0].Raw) != "\n" {
		t.Fatalf("segments %v, want a blank line", segs)
	}
	if segs = s.Feed(nil, true); len(segs) != 0 || s.Pending() != 0 {
		t.Fatalf("segments %v, pending %d at the end", segs, s.Pending())
	}
}

// TestEndOnCR: a stream that ends on a CR, pending an LF that does not
// come.
func TestEndOnCR(t *testing.T) {
	var s Splitter
	segs := s.Feed([]byte("data: a\n\r"), false)
	if len(segs) != 1 || !segs[0].Event || string(segs[0].Data) != "a" {
		t.Fatalf("segments %v", segs)
	}
	if segs = s.Feed(nil, true); len(segs) != 0 {
		t.Fatalf("segments %v at the end", segs)
	}
	if segs = s.Feed([]byte("data: b\r"), false); len(segs) != 0 || s.Pending() != 8 {
		t.Fatalf("segments %v, pending %d", segs, s.Pending())
	}
	segs = s.Feed(nil, true)
	if len(segs) != 1 || !segs[0].Event || string(segs[0].Data) != "b" || string(segs[0].Raw) != "data: b\r" {
		t.Fatalf("segments %v at the end", segs)
	}
}

// TestOverMax: an event over Max goes through as it arrives, holding
// nothing, and the next one is parsed.
func TestOverMax(t *testing.T) {
	s := Splitter{Max: 16}
	segs := s.Feed([]byte("data: 0123456789"), false)
	if len(segs) != 0 || s.Pending() != 16 {
		t.Fatalf("segments %v, pending %d", segs, s.Pending())
	}
	segs = s.Feed([]byte("abc"), false)
	if len(segs) != 2 || segs[0].Event || segs[1].Event ||
		string(segs[0].Raw) != "data: 0123456789" || string(segs[1].Raw) != "abc" || s.Pending() != 0 {
		t.Fatalf("segments %v, pending %d", segs, s.Pending())
	}
	segs = s.Feed([]byte("def\ndata: x\n"), false)
	if len(segs) != 1 || segs[0].Event || string(segs[0].Raw) != "def\ndata: x\n" || s.Pending() != 0 {
		t.Fatalf("segments %v, pending %d", segs, s.Pending())
	}
	segs = s.Feed([]byte("\ndata: y\n\ndata: z"), false)
	if len(segs) != 2 || segs[0].Event || string(segs[0].Raw) != "\n" ||
		!segs[1].Event || string(segs[1].Data) != "y" || s.Pending() != 7 {
		t.Fatalf("segments %v, pending %d", segs, s.Pending())
	}
	segs = s.Feed(nil, true)
	if len(segs) != 1 || !segs[0].Event || string(segs[0].Data) != "z" {
		t.Fatalf("segments %v", segs)
	}
}

// TestDefaultMax: Max 0 is DefaultMax.
func TestDefaultMax(t *testing.T) {
	for _, n := range []int{DefaultMax - 8, DefaultMax - 7} {
		in := "data: " + strings.Repeat("x", n) + "\n\n" // n+8 bytes
		for _, max := range []int{0, -1} {
			got := events(run(t, max, [][]byte{[]byte(in[:100]), []byte(in[100:]), nil}))
			if parsed := len(got) == 1; parsed != (n+8 <= DefaultMax) {
				t.Errorf("an event of %d bytes, Max %d: parsed %v", n+8, max, parsed)
			}
		}
	}
}

// TestReuse: after the end of one stream the Splitter starts another, BOM
// and all.
func TestReuse(t *testing.T) {
	var s Splitter
	for range 3 {
		s.Feed([]byte("data: a\n\ndata: b\r"), false)
		s.Feed([]byte("\xef"), true)
		segs := s.Feed([]byte("\xef\xbb\xbfdata: c\n\n"), true)
		if len(segs) != 1 || string(segs[0].Data) != "c" {
			t.Fatalf("segments %v", segs)
		}
	}
}

// TestDrop: a filter that forwards every segment but the usage event sends
// a stream with every other event.
func TestDrop(t *testing.T) {
	in := "data: {\"a\":1}\r\n\r\n: ping\r\n\r\ndata: {\"usage\":{}}\r\n\r\ndata: [DONE]\r\n\r\n"
	splits(in, func(how string, chunks [][]byte) {
		var s Splitter
		var out []byte
		for k, c := range chunks {
			for _, g := range s.Feed(c, k == len(chunks)-1) {
				if g.Event && bytes.Contains(g.Data, []byte(`"usage"`)) {
					continue
				}
				out = append(out, g.Raw...)
			}
		}
		got := events(run(t, 0, [][]byte{out}))
		if fmt.Sprint(got) != `[{"" "{\"a\":1}"} {"" "[DONE]"}]` {
			t.Fatalf("%s: forwarded %q, with events %v", how, out, got)
		}
	})
}

// TestSlicesValid: what one call returns stays as it was until the next
// call, whatever the Splitter keeps for later.
func TestSlicesValid(t *testing.T) {
	var s Splitter
	s.Feed([]byte("data: a"), false)
	s.Feed([]byte("\ndata: b\n"), false)
	segs := s.Feed([]byte("\ndata: c\ndata: d\n\ndata: e\ndata: f\n\ndata: g"), false)
	want := []string{"a\nb", "c\nd", "e\nf"}
	if len(segs) != len(want) {
		t.Fatalf("segments %v", segs)
	}
	for k, g := range segs {
		if string(g.Data) != want[k] {
			t.Errorf("segment %d: data %q, want %q", k, g.Data, want[k])
		}
	}
	if string(segs[0].Raw) != "data: a\ndata: b\n\n" {
		t.Errorf("first segment %q", segs[0].Raw)
	}
}

// TestAllocs: a Splitter at work allocates nothing for an event that
// arrives whole or in parts, named as the one before it or not named.
func TestAllocs(t *testing.T) {
	var s Splitter
	chunks := [][]byte{
		[]byte("event: delta\ndata: {\"text\":\"hello\"}\n\n"),
		[]byte("event: delta\ndata: {\"te"),
		[]byte("xt\":\"x\"}\ndata: second line\r"),
		[]byte("\n\r"),
		[]byte("\n: ping\n\ndata: [DONE]\n\n"),
	}
	feed := func() {
		for _, c := range chunks {
			s.Feed(c, false)
		}
	}
	feed()
	if n := testing.AllocsPerRun(100, feed); n != 0 {
		t.Errorf("%v allocations a run", n)
	}
}

func BenchmarkFeed(b *testing.B) {
	var stream []byte
	for range 100 {
		stream = append(stream, "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"delta\":{\"content\":\"word\"}}]}\n\n"...)
	}
	stream = append(stream, "data: [DONE]\n\n"...)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	var s Splitter
	for b.Loop() {
		for i := 0; i < len(stream); i += 500 {
			s.Feed(stream[i:min(i+500, len(stream))], false)
		}
		s.Feed(nil, true)
	}
}
