package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The budgets of the chain (examples/chain with its config.json, the tutorial
// scenario), asserted on counts rather than times so that a regression
// fails make test on any machine. BENCHMARKS.md reports the same figures.

// chainCallBudget is the most proxy-wasm calls of each name a request may
// make through the chain, whether the chain lets it through or a filter
// answers it. Their sum may not exceed maxProxyCalls either; a name not
// listed may not be called at all.
var chainCallBudget = map[string]float64{
	"proxy_get_header_map_pairs":     1, // the request headers, read once for every filter
	"proxy_get_header_map_value":     1, // the response's :status, for the metrics filter
	"proxy_get_property":             1, // request.time, for the rate limit
	"proxy_get_shared_data":          1, // the rate limit's bucket
	"proxy_set_shared_data":          1, // ... and its update when a token is taken
	"proxy_replace_header_map_value": 2, // who-am-i and injected-by on every response
	"proxy_send_local_response":      1, // a denial
	"proxy_log":                      1, // its debug line
}

// chainPlugin is the chain's image and configuration.
func chainPlugin(t *testing.T) plugin {
	t.Helper()
	config, err := os.ReadFile(filepath.Join(wasmtest.Root(), "examples", chainName, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return plugin{name: chainName, wasm: wasmtest.Image(t, chainName), config: config}
}

// serveAt sends the benchmark request at time at, with or without the
// allow header the chain's headerauth filter requires, and returns the
// status.
func serveAt(t *testing.T, r *runner, at time.Time, allow bool) int {
	t.Helper()
	req := r.req
	req.Time = at
	if !allow {
		req.Headers = nil
		for _, h := range requestHeaders {
			if h[0] != "allow" {
				req.Headers = append(req.Headers, h)
			}
		}
	}
	resp, err := r.vm.Serve(context.Background(), &req, r.up)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Status
}

func TestChainHostCallsWithinBudget(t *testing.T) {
	ctx := context.Background()
	r, err := newRunner(ctx, chainPlugin(t), host.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close(ctx)
	const n = 200
	// Each case sends two requests at its start, then n requests gap apart.
	for k, c := range []struct {
		name   string
		status int
		allow  bool
		gap    time.Duration
	}{
		{"admitted", 200, true, time.Second},
		{"rate limited", 429, true, 0}, // all at the start, after the bucket's two
		{"without the allow header", 403, false, time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := t0.Add(time.Duration(k) * 24 * time.Hour) // a full bucket
			serveAt(t, r, start, c.allow)                      // the first two requests take
			serveAt(t, r, start, c.allow)                      // the bucket's two tokens
			r.vm.ResetHostCalls()
			for i := 0; i < n; i++ {
				if got := serveAt(t, r, start.Add(time.Duration(i+1)*c.gap), c.allow); got != c.status {
					t.Fatalf("request %d: status %d, want %d", i, got, c.status)
				}
			}
			total := 0.0
			for name, k := range r.vm.HostCalls() {
				per := float64(k) / n
				total += per
				if max, ok := chainCallBudget[name]; !ok || per > max {
					t.Errorf("%s: %.2f calls per request, budget %.0f", name, per, max)
				}
			}
			if total > maxProxyCalls {
				t.Errorf("%.2f proxy-wasm calls per request, budget %d", total, maxProxyCalls)
			}
			t.Logf("%.2f proxy-wasm calls per request: %v over %d requests", total, r.vm.HostCalls(), n)
		})
	}
}

// TestChainMemoryFlat serves 100,000 requests through one VM of the chain
// (the heap settles at its steady size meanwhile: see memoryCheckpoints),
// reads its linear memory, serves many more, and requires the memory to have
// grown by at most 1 MiB. A quarter of the requests are admitted and the
// rest rate limited, so both the upstream's responses and local replies are
// in the mix.
func TestChainMemoryFlat(t *testing.T) {
	const warm, total = 100_000, 1_000_000
	ctx := context.Background()
	r, err := newRunner(ctx, chainPlugin(t), host.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close(ctx)
	statuses := map[int]int{}
	var after uint64
	for i := 1; i <= total; i++ {
		statuses[serveAt(t, r, t0.Add(time.Duration(i)*125*time.Millisecond), true)]++
		if i == warm {
			after = r.vm.MemoryBytes()
		}
	}
	end := r.vm.MemoryBytes()
	t.Logf("linear memory after %d requests: %d bytes; after %d: %d (statuses %v)", warm, after, total, end, statuses)
	if end > after+memorySlack {
		t.Errorf("linear memory grew from %d to %d bytes between %d and %d requests, more than 1 MiB", after, end, warm, total)
	}
	if statuses[200] != total/4 || statuses[429] != total-total/4 {
		t.Errorf("statuses %v, want a quarter 200 and the rest 429 (2 requests per second admitted, 8 sent)", statuses)
	}
}

func TestMemoryCheckpoints(t *testing.T) {
	for n, want := range map[int][]int{
		1_000_000: {10_000, 100_000, 1_000_000},
		50_000:    {10_000, 50_000},
	} {
		if got := memoryCheckpoints(n); !slices.Equal(got, want) {
			t.Errorf("memoryCheckpoints(%d) = %v, want %v", n, got, want)
		}
	}
}
