package main

import (
	"context"
	"sort"
	"strings"

	"github.com/wasmpolicy/policy/internal/host"
)

// hostCalls is one plugin's calls into the host per request, by import
// name: the proxy-wasm ABI (module env, proxy_*) and WASI apart.
type hostCalls struct {
	proxy, wasi map[string]float64
}

// proxyTotal is the proxy-wasm calls per request: what the host-call
// budget counts. WASI calls (the Go runtime reading the clock, writing to
// stderr) are not proxy work and are reported apart.
func (c hostCalls) proxyTotal() float64 { return sum(c.proxy) }

func (c hostCalls) wasiTotal() float64 { return sum(c.wasi) }

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

// countCalls serves n requests through each plugin, after as many to warm
// up, with the host counting WASI calls too (which costs a little on each,
// so timings are taken elsewhere).
func countCalls(ctx context.Context, ps []plugin, n int) (map[string]hostCalls, error) {
	out := map[string]hostCalls{}
	for _, p := range ps {
		c, err := callsPerRequest(ctx, p, n)
		if err != nil {
			return nil, err
		}
		out[p.String()] = c
	}
	return out, nil
}

// callsPerRequest is countCalls for one plugin.
func callsPerRequest(ctx context.Context, p plugin, n int) (hostCalls, error) {
	r, err := newRunner(ctx, p, host.Config{CountWASI: true})
	if err != nil {
		return hostCalls{}, err
	}
	defer r.close(ctx)
	if _, _, _, err := r.serveN(ctx, n); err != nil {
		return hostCalls{}, err
	}
	r.vm.ResetHostCalls()
	if _, _, _, err := r.serveN(ctx, n); err != nil {
		return hostCalls{}, err
	}
	c := hostCalls{proxy: map[string]float64{}, wasi: map[string]float64{}}
	for name, k := range r.vm.HostCalls() {
		v := float64(k) / float64(n)
		if strings.HasPrefix(name, "proxy_") {
			c.proxy[name] = v
		} else {
			c.wasi[name] = v
		}
	}
	return c, nil
}

// sortedKeys returns m's names in order.
func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
