package main

import (
	"fmt"
	"strings"
)

// writeWhy explains the missed targets with this run's figures and a
// profile's, and says what would close them.
func (r *results) writeWhy(w writer) {
	w("## Why targets are missed\n\n")
	missed := false
	if !r.verdict("time").met {
		missed = true
		r.writeWhyTime(w)
	}
	if !r.verdict("size").met {
		missed = true
		r.writeWhySize(w)
	}
	if !missed {
		w("Every target is met.\n\n")
	}
}

// Shares of the time the chain spends serving a request, from a perf
// profile on this machine (wazero built with -tags perfmap, which maps the
// compiled functions to their wasm names; the chain at 11 µs per request).
// The run does not profile, so these are constants.
const (
	profileGuest      = 75 // in the plugin's callbacks, host functions included
	profileHost       = 20 // in the host's own handling of the stream
	profileAllocator  = 19 // in the Go allocator, within the plugin
	profileSlots      = 11 // allocating the SDK wrappers' result slots
	profileGiveBack   = 7  // the host calling the guest's allocator to hand data over
	profileDecode     = 4  // decoding header maps
	profileDispatcher = 15 // the dispatcher: calling filters, recovering, counting, recycling
)

func (r *results) writeWhyTime(w writer) {
	noop, chain := r.times[noopName], r.times[chainName]
	calls := r.calls[chainName]
	var returning []string
	n := 0.0
	for _, name := range sortedKeys(calls.proxy) {
		if strings.HasPrefix(name, "proxy_get_") {
			returning = append(returning, "`"+name+"`")
			n += calls.proxy[name]
		}
	}
	var each []string
	alone := 0.0
	for _, p := range r.plugins {
		if p.name != noopName && p.name != chainName && !p.peer {
			d := r.times[p.String()].total - noop.total
			each = append(each, fmt.Sprintf("%s %.2f", p, d))
			alone += d
		}
	}
	w("**Time.** The no-op plugin costs %.2f µs per request: seven callbacks into the VM (stream creation, request headers, response headers and body, done, log, delete) and the host's own work. ", noop.total)
	w("The chain costs %.2f µs more. Its filters, each alone in its example, cost %.2f µs over the floor together (%s); ", chain.total-noop.total, alone, strings.Join(each, ", "))
	w("in the chain they share one read of the request headers. ")
	w("Of the chain's %s proxy-wasm calls per request, %s return data (%s); each of those costs about 1 µs here, several times a call that returns nothing. ",
		num(calls.proxyTotal()), num(n), strings.Join(returning, ", "))
	w("A perf profile of the chain on this machine (wazero built with `-tags perfmap`) puts %d%% of the time in the plugin's callbacks and %d%% in the host's handling of the stream. ", profileGuest, profileHost)
	w("Within the plugin, the Go allocator takes %d%% of the total (an allocation costs 0.15–0.35 µs in wasm: clearing memory is a `memory.fill`, which wazero runs as a series of copies), ", profileAllocator)
	w("and the host-call path of the SDK and the bridge %d%%: %d%% allocating the SDK wrappers' result slots (under upstream Go their addresses cross the SDK's host interface, which the bridge implements, so they escape to the heap), ",
		profileSlots+profileGiveBack+profileDecode, profileSlots)
	w("%d%% in the host's calls back into the guest's allocator to hand data over, %d%% decoding header maps. ", profileGiveBack, profileDecode)
	w("The dispatcher's own work (calling each filter's phases with panic recovery, counting decisions, recycling the stream) is about %d%%; ", profileDispatcher)
	w("it reuses its per-request state, and the filters decide without allocating.\n\n")
	saved := chain.total * float64(profileSlots+profileDecode) / 100
	w("What would close it: host calls that allocate nothing. In the bridge, result slots that are globals and returned data read in place, ")
	w("through functions the dispatcher calls instead of the SDK's wrappers, would save the %d%% the slots and the decoding take (about %.1f µs, to some %.1f× the floor); ",
		profileSlots+profileDecode, saved, (chain.total-saved)/noop.total)
	w("handing data over through the guest's allocator is the ABI's way and stays. Fewer data-returning calls would help too: the request time could come from the WASI clock ")
	w("rather than the `request.time` attribute (one call less, at the price of the tests' control of time). ")
	w("But a %.0f× budget leaves the five filters %.2f µs together over the floor, the cost of about %d data-returning host calls, ", maxRatio, (maxRatio-1)*noop.total, int((maxRatio-1)*noop.total+0.5))
	w("and a chain that reads the request headers, a shared-data bucket and the response status makes at least three: with upstream Go on this ABI the target is out of reach.\n\n")
}

func (r *results) writeWhySize(w writer) {
	noop := r.sizes[noopName]
	w("**Size.** The no-op plugin is %s as built: the Go runtime (about 1.1 MB of code and 0.9 MB of data), the SDK and the bridge. ", mb(noop.built))
	w("The examples add the library and what it imports: `fmt` and `reflect`, `tidwall/gjson` (about 0.15 MB of code), and through it `encoding/json` ")
	w("(`gjson`'s `@pretty` modifier uses `tidwall/pretty`, which imports it; `sjson` does too): about 0.23 MB of code plus the type data `reflect` needs, ")
	w("then `time` formatting, `net/netip`, `crypto/sha256` (ratelimit's long keys) and `unique`. ")
	w("(Code sizes are from the name section of an unstripped build of the chain.) ")
	w("wasm-opt takes a few percent off, not a megabyte.\n\n")
	w("What would close it: a TinyGo build (a few hundred KB, at the price of TinyGo's garbage collectors, whose memory growth under Envoy users report). ")
	w("A JSON reader without `encoding/json` in its import graph (gjson without its modifiers, sjson replaced) would save that package's share, ")
	w("but on upstream Go's %s floor the chain would still be above 3 MB. ", mb(noop.built))
	w("What a registry transfers is the gzipped size: %s for the chain.\n\n", mb(r.sizes[chainName].builtGzip))
}
