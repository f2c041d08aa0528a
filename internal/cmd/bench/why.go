package main

import (
	"fmt"
	"strings"
)

// writeWhy explains the missed targets with this run's figures, and what
// would close them. The profile it cites was taken with perf on this
// machine (wazero writes a perf map when built with -tags perfmap); the
// run itself does not profile.
func (r *results) writeWhy(w writer) {
	w("## Why targets are missed\n\n")
	vs := r.verdicts()
	missed := false
	if !vs[1].met {
		missed = true
		r.writeWhyTime(w)
	}
	if !vs[3].met {
		missed = true
		r.writeWhySize(w)
	}
	if !missed {
		w("Every target is met.\n\n")
	}
}

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
	for _, p := range r.plugins {
		if p.name != noopName && p.name != chainName {
			each = append(each, fmt.Sprintf("%s %.2f", p, r.times[p.String()].total-noop.total))
		}
	}
	w("**Time.** The no-op plugin costs %.2f µs per request: seven callbacks into the VM (stream creation, request headers, response headers and body, done, log, delete) and the host's own work. ", noop.total)
	w("The chain costs %.2f µs more, which is about what its filters cost apart (µs over the floor, from the examples: %s): ", chain.total-noop.total, strings.Join(each, ", "))
	w("the dispatcher itself adds little. The chain's cost is its host calls and the Go allocations around them. ")
	w("Of its %s proxy-wasm calls per request, %s return data (%s), and each of those costs about 1 µs here, ",
		num(calls.proxyTotal()), num(n), strings.Join(returning, ", "))
	w("several times a call that returns nothing: under upstream Go the SDK's wrappers keep their result slots in heap allocations ")
	w("(their addresses cross the SDK's host interface, which the bridge implements), and the host hands the data over by calling back into the guest's allocator, ")
	w("another Go allocation. A Go allocation in wasm costs 0.15–0.35 µs (clearing memory is a `memory.fill`, which wazero runs as a series of copies), ")
	w("and a perf profile of the chain puts a sixth to a fifth of its time in the allocator. The dispatcher reuses its per-request state and the filters decide without allocating; ")
	w("what remains is in the SDK, the bridge and the host calls themselves.\n\n")
	w("What would close it: host calls that allocate nothing (in the bridge, result slots that are globals and one reused buffer for returned data, ")
	w("read in place instead of through the SDK's wrappers), which would take about half the cost of each data-returning call; ")
	w("and fewer of them: the request time could come from the WASI clock rather than the `request.time` attribute (one data-returning call less, ")
	w("at the price of the tests' control of time). ")
	w("Even so, a %.0f× budget leaves the five filters %.2f µs together over the floor, the cost of about %d data-returning host calls, ", maxRatio, (maxRatio-1)*noop.total, int((maxRatio-1)*noop.total+0.5))
	w("and a chain that reads request headers, a shared-data bucket and the response status cannot make fewer than three.\n\n")
}

func (r *results) writeWhySize(w writer) {
	noop := r.sizes[noopName]
	w("**Size.** The no-op plugin is %s as built: the Go runtime, `fmt` and `reflect` (which the SDK links), and the bridge. ", mb(noop.built))
	w("The examples add the library and what it imports: `tidwall/gjson` (about 0.15 MB of code), and through it `encoding/json` ")
	w("(`gjson`'s `@pretty` modifier uses `tidwall/pretty`, which imports it; `sjson` does too): about 0.23 MB of code plus the type data `reflect` needs, ")
	w("then `time` formatting, `net/netip`, `crypto/sha256` (ratelimit's long keys) and `unique`. ")
	w("(Code sizes are from the name section of an unstripped build of the chain.) ")
	w("wasm-opt takes a few percent off, not a megabyte.\n\n")
	w("What would close it: a TinyGo build (a few hundred KB, but its collector is the one users report leaking; see DESIGN.md). ")
	w("A JSON reader without `encoding/json` in its import graph (gjson without its modifiers, sjson replaced) would save that package's share, ")
	w("but on upstream Go's %s floor the chain would still be above 3 MB. ", mb(noop.built))
	w("What a registry transfers is the gzipped size: %s for the chain.\n\n", mb(r.sizes[chainName].builtGzip))
}
