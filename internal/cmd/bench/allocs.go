package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasmpolicy/policy/internal/host"
)

// allocStats is one plugin's Go heap allocations per request in wasm, as
// the Go runtime counts them (runtime.MemStats Mallocs and TotalAlloc).
type allocStats struct {
	mallocs, bytes float64
	// uncounted marks an image whose runtime counts bytes but not
	// allocations (TinyGo with nottinygc: internal/bridge/allocstats.go),
	// so that it has no count export and mallocs is not known.
	uncounted bool
}

// allocRequests is how many requests each plugin serves to warm up, and
// then between the two readings of its counters.
const allocRequests = 2000

// The exports of an image built with the policy_allocstats tag
// (internal/bridge/allocstats.go).
const (
	allocCountExport = "policy_alloc_count"
	allocBytesExport = "policy_alloc_bytes"
)

// measureAllocs serves n requests through the allocstats variant of each
// plugin that has one (plugin.allocPath), after as many to warm up, and
// reads the Go runtime's counters before and after them.
func measureAllocs(ctx context.Context, ps []plugin, n int) (map[string]allocStats, error) {
	out := map[string]allocStats{}
	for _, p := range ps {
		if p.allocPath == "" {
			continue
		}
		a, err := allocsPerRequest(ctx, p, n)
		if err != nil {
			return nil, err
		}
		out[p.String()] = a
	}
	return out, nil
}

// allocsPerRequest is measureAllocs for one plugin.
func allocsPerRequest(ctx context.Context, p plugin, n int) (allocStats, error) {
	wasm, err := os.ReadFile(p.allocPath)
	if err != nil {
		return allocStats{}, fmt.Errorf("%w (make bench builds it: %s)", err, p.toolchain.makeCommand(filepath.ToSlash(p.allocPath)))
	}
	p.wasm = wasm
	var exports moduleCatcher
	own := privateCache()
	defer own.Close(ctx)
	r, err := newRunner(exports.watch(ctx), p, host.Config{Cache: own})
	if err != nil {
		return allocStats{}, err
	}
	defer r.close(ctx)
	if _, _, _, err := r.serveN(ctx, n); err != nil {
		return allocStats{}, err
	}
	count0, bytes0, counted, err := exports.counters(ctx)
	if err != nil {
		return allocStats{}, fmt.Errorf("%s: %w", p, err)
	}
	if _, _, _, err := r.serveN(ctx, n); err != nil {
		return allocStats{}, err
	}
	count1, bytes1, _, err := exports.counters(ctx)
	if err != nil {
		return allocStats{}, fmt.Errorf("%s: %w", p, err)
	}
	a := allocStats{bytes: float64(bytes1-bytes0) / float64(n), uncounted: !counted}
	if counted {
		a.mallocs = float64(count1-count0) / float64(n)
	}
	return a, nil
}

// moduleCatcher keeps the plugin's module instance, which internal/host
// does not hand out, so that the bench can call exports the host never
// calls: the allocation counters. It learns the instance from a wazero
// function listener on _initialize, which the host calls once when it
// starts the VM; no other function is listened to.
type moduleCatcher struct{ mod api.Module }

// watch returns ctx with the listener; the host compiles the plugin with
// it (host.New).
func (c *moduleCatcher) watch(ctx context.Context) context.Context {
	return experimental.WithFunctionListenerFactory(ctx, experimental.FunctionListenerFactoryFunc(
		func(def api.FunctionDefinition) experimental.FunctionListener {
			if !slices.Contains(def.ExportNames(), "_initialize") {
				return nil
			}
			return experimental.FunctionListenerFunc(func(_ context.Context, mod api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
				c.mod = mod
			})
		}))
}

// counters calls the two exports, between requests. An image with the
// bytes export but not the count (TinyGo with nottinygc, whose runtime
// does not count allocations) returns counted false; one with neither is
// not an allocstats build.
func (c *moduleCatcher) counters(ctx context.Context) (count, bytes uint64, counted bool, err error) {
	if c.mod == nil {
		return 0, 0, false, fmt.Errorf("the host did not initialize the module")
	}
	call := func(f api.Function, name string) (uint64, error) {
		res, err := f.Call(ctx)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return res[0], nil
	}
	fb := c.mod.ExportedFunction(allocBytesExport)
	if fb == nil {
		return 0, 0, false, fmt.Errorf("no export %s: not a policy_allocstats build", allocBytesExport)
	}
	if fc := c.mod.ExportedFunction(allocCountExport); fc != nil {
		if count, err = call(fc, allocCountExport); err != nil {
			return 0, 0, false, err
		}
		counted = true
	}
	bytes, err = call(fb, allocBytesExport)
	return count, bytes, counted, err
}
