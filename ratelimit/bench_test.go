package ratelimit_test

import (
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// BenchmarkHitPath measures one allowed request through the whole plugin,
// natively, with the SDK's host emulator standing in for Envoy: headers,
// properties and shared data are host calls as they are in the proxy, so
// the figures include the emulator's cost. "no matching rule" is the
// floor: the same plugin and request, without a bucket to take from.
//
//	go test ./ratelimit -run '^$' -bench HitPath
func BenchmarkHitPath(b *testing.B) {
	for _, c := range []struct{ name, config string }{
		{"no matching rule", `{"rules": [{"match": {"path": {"exact": "/elsewhere"}}, "limit": {"requests_per_unit": 1}}]}`},
		{"one bucket", `{"requests_per_unit": 1000000000000}`},
		{"per header", `{"requests_per_unit": 1000000000000, "key": ["header:x-user"]}`},
		{"per header, worker scope", `{"requests_per_unit": 1000000000000, "key": ["header:x-user"], "scope": "worker"}`},
		{"with rate-limit headers", `{"requests_per_unit": 1000000000000, "rate_limit_headers": true}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			host, reset := wasmtest.Emulator(policy.Configured(ratelimit.Kind), pluginConfig(c.config, ""),
				wasmtest.Property{Path: []string{"request", "time"}, Value: policy.EncodeTime(t0)})
			defer reset()
			host.StartPlugin()
			headers := [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "example.com"}, {"x-user", "alice"}}
			response := [][2]string{{":status", "200"}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := host.InitializeHttpContext()
				host.CallOnRequestHeaders(id, headers, true)
				host.CallOnResponseHeaders(id, response, true)
				host.CompleteHttpContext(id)
			}
			b.StopTimer()
			if host.GetSentLocalResponse(host.InitializeHttpContext()) != nil || wasmtest.Counter(b, host, decisions("denied")) != 0 {
				b.Fatal("a request was denied")
			}
		})
	}
}
