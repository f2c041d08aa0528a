package host

import (
	"context"
	"testing"
)

// BenchmarkServe is the host's own cost per request: a stream through the
// no-op plugin (build/noop.wasm), which makes no host call, with an
// in-memory upstream.
func BenchmarkServe(b *testing.B) {
	h, err := New(context.Background(), readImage(b, "noop"), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	vm, err := h.NewVM(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	req := get("/bench", [2]string{"user-agent", "bench"})
	resp := &Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte("ok")}
	up := func(context.Context, *Request) (*Response, error) { return resp, nil }
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := vm.Serve(ctx, req, up); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if calls := vm.HostCalls(); len(calls) != 0 {
		b.Errorf("the no-op plugin made host calls: %v", calls)
	}
}
