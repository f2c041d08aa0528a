package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The allocstats variant's counters move with the plugin's work: the chain
// allocates per request, more than the no-op plugin and within its budget
// (maxAllocs), and the tutorial's
// log line (formatted with fmt) costs at least one allocation; an image
// built without the tag has no counters to read.
func TestAllocationsPerRequestInWasm(t *testing.T) {
	ctx := context.Background()
	config, err := os.ReadFile(filepath.Join(wasmtest.Root(), "examples", chainName, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	chain := plugin{name: chainName, config: config, allocPath: buildVariant(t, chainName, false, "-tags", "policy_allocstats")}
	noop := plugin{name: noopName, allocPath: buildVariant(t, noopName, false, "-tags", "policy_allocstats")}
	tut := buildVariant(t, tutorialName, false, "-tags", "policy_allocstats")
	logged := plugin{name: tutorialName, label: tutorialLabel, allocPath: tut, wasiClock: true}
	quiet := plugin{name: tutorialName, label: tutorialQuietLabel, allocPath: tut, wasiClock: true, config: []byte("quiet")}
	got, err := measureAllocs(ctx, []plugin{noop, chain, {name: "unmeasured"}, logged, quiet}, 200)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("per request: %+v", got)
	if len(got) != 4 {
		t.Errorf("measured %d plugins, want 4 (one has no allocstats variant)", len(got))
	}
	if l, q := got[tutorialLabel], got[tutorialQuietLabel]; l.mallocs < q.mallocs+1 {
		t.Errorf("tutorial %+v, without its log line %+v: want the line to allocate", l, q)
	}
	c, n := got[chainName], got[noopName]
	if c.mallocs < 1 || c.mallocs <= n.mallocs || c.bytes <= n.bytes {
		t.Errorf("chain %+v, no-op %+v: want the chain to allocate, and more than the no-op plugin", c, n)
	}
	// The budget: the request path's host calls allocate only the buffers
	// the host fills (internal/bridge), not the SDK's result slots.
	if c.mallocs > maxAllocs {
		t.Errorf("chain: %.2f allocations per request, over the budget of %d", c.mallocs, maxAllocs)
	}
	if c.bytes < 8*c.mallocs {
		t.Errorf("chain: %.0f bytes in %.2f allocations", c.bytes, c.mallocs)
	}

	stripped := plugin{name: noopName, allocPath: wasmtest.ImagePath(noopName)}
	if _, err := measureAllocs(ctx, []plugin{stripped}, 1); err == nil || !strings.Contains(err.Error(), "not a policy_allocstats build") {
		t.Errorf("the image as built: error %v, want one saying it has no counters", err)
	}
}
