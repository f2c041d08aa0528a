package main

import "fmt"

// writePeers compares the library with the tutorial's plugin written
// directly against the SDK, doing the same two things.
func (r *results) writePeers(w writer) {
	w("## Against the tutorial's plugin\n\n")
	w("Istio's Wasm rate-limiting tutorial plugin written directly against the SDK in the tutorial's plain style (`internal/testdata/tutorial`): ")
	w("a token bucket of 2 requests per second in a variable of the plugin context, refilled from `time.Now()`, a 403 when it is empty, ")
	w("`who-am-i` and `injected-by` set on every response, and a log line per admitted request; \"no log\" is the same image configured `quiet`, without that line. ")
	w("The library does the same with `headermutate` and `ratelimit` (`internal/testdata/tutoriallib`, only those two kinds linked in), ")
	w("2 requests per second with the same 403, its buckets in the proxy's shared data (proxy-wide, the default: the limit holds across Envoy's worker VMs) or in each VM's memory (worker, as the tutorial's variable). ")
	w("Both admit every benchmark request at 2 per second: the library limits by `request.time`, which moves a second per request here, ")
	w("and the tutorial's plugin by the WASI clock, which its host moves a second per reading. ")
	w("Times are from the table above; the ratios are taken within each round.\n\n")
	w("| Plugin | × no-op | × tutorial | proxy-wasm calls | Go mallocs / bytes per request (in wasm) |\n|---|---:|---:|---:|---:|\n")
	tut := r.times[tutorialLabel]
	for _, p := range r.plugins {
		if !p.peer {
			continue
		}
		t := r.times[p.String()]
		w("| %s | %.2f | %.2f | %s | %s |\n", p, t.ratio, ratioIn(t, tut), num(r.calls[p.String()].proxyTotal()), r.allocCell(p.String()))
	}
	w("\n")
}

// allocCell is a plugin's Go allocations per request in wasm, "mallocs /
// bytes", or "not measured".
func (r *results) allocCell(name string) string {
	a, ok := r.allocs[name]
	if !ok {
		return "not measured"
	}
	return fmt.Sprintf("%s / %.0f", num(a.mallocs), a.bytes)
}
