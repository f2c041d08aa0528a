package ratelimit_test

import (
	"bytes"
	"io"
	"log"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/sse"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// FuzzCostStream sends any stream as a streamed answer, whole and cut into
// three pieces anywhere, through a budget that asked for the usage and so
// removes the usage event: what the client gets, and what is charged, do
// not depend on where the stream was cut, and nothing but events that
// carry a usage is ever taken out.
//
//	go test ./ratelimit -run '^$' -fuzz FuzzCostStream
func FuzzCostStream(f *testing.F) {
	f.Add("data: {\"choices\": [{\"delta\": {}}]}\n\ndata: {\"choices\": [], \"usage\": {\"total_tokens\": 9}}\n\ndata: [DONE]\n\n", uint16(10), uint16(60))
	f.Add("data: {\"choices\": [], \"usage\": {\"total_tokens\": 9}}\r\n\r\n", uint16(1), uint16(2))
	f.Add(": comment\n\ndata: x\r\ndata: {\"usage\": {\"total_tokens\": 1}}\n\n", uint16(3), uint16(40))
	f.Add("data: {\"usage\": {\"total_tokens\": 1}}\rdata: 2\r\r", uint16(30), uint16(31))
	logs := log.Writer()
	log.SetOutput(io.Discard) // the emulator prints every log line
	defer log.SetOutput(logs)
	const request = `{"model": "gpt-4o", "stream": true}`
	f.Fuzz(func(t *testing.T, stream string, a, b uint16) {
		if len(stream) > 1<<16 {
			return
		}
		i, j := min(int(a), len(stream)), min(int(b), len(stream))
		if i > j {
			i, j = j, i
		}
		var clients, left [2]string
		for k, chunks := range [][]string{{stream, ""}, {stream[:i], stream[i:j], stream[j:], ""}} {
			host, reset := wasmtest.Start(t, native(), pluginConfig(budget, ""))
			clients[k] = run(t, host, exchange{body: request, contentType: "text/event-stream", chunks: chunks}).client
			left[k] = run(t, host, exchange{body: `{}`, chunks: []string{usage("0")}}).remaining
			reset()
		}
		if clients[1] != clients[0] || left[1] != left[0] {
			t.Fatalf("cut at %d and %d: the client got %q with %s tokens left; whole, %q with %s", i, j, clients[1], left[1], clients[0], left[0])
		}
		if !onlyUsageRemoved(stream, clients[0]) {
			t.Fatalf("the client got %q of %q: more than a usage event is missing", clients[0], stream)
		}
	})
}

// onlyUsageRemoved reports whether got is stream without some of its
// events that carry a "usage".
func onlyUsageRemoved(stream, got string) bool {
	var s sse.Splitter
	rest := []byte(got)
	for _, seg := range s.Feed([]byte(stream), true) {
		if bytes.HasPrefix(rest, seg.Raw) {
			rest = rest[len(seg.Raw):]
			continue
		}
		if !seg.Event || !strings.Contains(string(seg.Data), "usage") {
			return false
		}
	}
	return len(rest) == 0
}
