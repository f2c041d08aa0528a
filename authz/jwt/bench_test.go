package jwt_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The cost of a request through the compiled jwt image (jwt, then authz),
// in wazero, by the token it carries: none (a route that allows a
// missing token), RS256 and ES256, each a token seen before (its signature
// remembered) and a new one each time.
func BenchmarkRequestWasm(b *testing.B) {
	s := keysOnce()
	a := algs(s)
	vm := wasmtest.NewVM(b, wasmtest.Image(b, image))
	host, reset := wasmtest.Start(b, vm, chainConfig(s))
	defer reset()
	if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0)); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		headers    [][2]string
	}{
		{"no token", "/public/x", nil},
		{"RS256", "/x", [][2]string{bearer(mint(b, a[0], "rsa", claims(nil)))}},
		{"ES256", "/x", [][2]string{bearer(mint(b, a[6], "ec256", claims(nil)))}},
	} {
		headers := append([][2]string{{":method", "GET"}, {":path", c.path}, {":authority", "api.example"}}, c.headers...)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				send(b, host, headers)
			}
		})
	}
	for _, al := range []alg{a[0], a[6]} {
		b.Run(al.method.Alg()+" new token", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				headers := [][2]string{{":method", "GET"}, {":path", "/x"}, {":authority", "api.example"},
					bearer(mint(b, al, al.kid, claims(map[string]any{"jti": i})))}
				b.StartTimer()
				send(b, host, headers)
			}
		})
	}
}

func send(b *testing.B, host proxytest.HostEmulator, headers [][2]string) {
	id := host.InitializeHttpContext()
	if host.CallOnRequestHeaders(id, headers, true) != types.ActionContinue || host.GetSentLocalResponse(id) != nil {
		b.Fatal("the request was not let through")
	}
	host.CompleteHttpContext(id)
}
