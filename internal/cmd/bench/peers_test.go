package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The tutorial's peers do the same thing: every admitted response carries
// the tutorial's two headers; the tutorial's plugin logs each request
// unless configured quiet.
func TestTutorialPeersServeAlike(t *testing.T) {
	ps, err := loadPeers(wasmtest.Root())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wantLogs := map[string]int{tutorialLabel: 5, tutorialQuietLabel: 0, libProxyLabel: 0, libWorkerLabel: 0}
	for _, p := range ps {
		t.Run(p.String(), func(t *testing.T) {
			var mu sync.Mutex
			admitted := 0
			r, err := newRunner(ctx, p, host.Config{Log: func(level host.LogLevel, msg string) {
				mu.Lock()
				defer mu.Unlock()
				if level == host.LogInfo && strings.Contains(msg, "admitted") {
					admitted++
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.close(ctx)
			for i := 0; i < 5; i++ {
				resp, err := r.serve(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for name, want := range map[string]string{"who-am-i": "wasm-extension", "injected-by": "istio-api!"} {
					if got := wasmtest.HeaderValues(resp.Headers, name); len(got) != 1 || got[0] != want {
						t.Errorf("request %d: %s %q, want %q", i, name, got, want)
					}
				}
			}
			if admitted != wantLogs[p.String()] {
				t.Errorf("%d log lines of admitted requests, want %d", admitted, wantLogs[p.String()])
			}
		})
	}
}

// Without the stepping clock the tutorial's bucket of two empties within
// the first second, and the third request gets its 403: the clock is what
// admits the benchmark's requests, as request.time is for the library.
func TestTutorialBucketEmptiesOnTheRealClock(t *testing.T) {
	ps, err := loadPeers(wasmtest.Root())
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	p.wasiClock = false
	ctx := context.Background()
	r, err := newRunner(ctx, p, host.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close(ctx)
	var statuses []int
	for i := 0; i < 3; i++ {
		resp, err := r.vm.Serve(ctx, &r.req, r.up)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.Status)
		if i == 2 && string(resp.Body) != "Access forbidden - token bucket empty" {
			t.Errorf("denial body %q", resp.Body)
		}
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != 403 {
		t.Errorf("statuses %v, want 200, 200, 403", statuses)
	}
}

func TestRatioIsTakenWithinEachRound(t *testing.T) {
	a := timing{rounds: []float64{2, 9, 3}}
	b := timing{rounds: []float64{1, 3, 3}}
	// Within the rounds: 2, 3, 1 (median 2); the medians' ratio would be 1.
	if got := ratioIn(a, b); got != 2 {
		t.Errorf("ratio %v, want 2", got)
	}
	if got := ratioIn(a, timing{}); got != 0 {
		t.Errorf("ratio to an untimed plugin %v, want 0", got)
	}
}
