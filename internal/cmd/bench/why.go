package main

import (
	"fmt"
	"sort"
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
	if !r.verdict("size").met || !r.verdict("chain size").met {
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
	noop, chain := r.sizes[noopName], r.sizes[chainName]
	nd, cd := r.deps[noopName], r.deps[chainName]
	w("**Size.** The no-op plugin is %s as built", mb(noop.built))
	if nd.code > 0 {
		w(": %s of function code, %s of it the runtime's, and %s that is not code (data, the runtime's type data and tables)",
			mb(nd.code), mb(nd.byDep[depRuntime]), mb(noop.built-nd.code))
	}
	w(", the floor of an image built with upstream Go, the SDK and the bridge. ")
	if cd.code > 0 && nd.code > 0 {
		type grown struct {
			dep string
			by  int
		}
		var gs []grown
		for d, n := range cd.byDep {
			if by := n - nd.byDep[d]; by > 0 {
				gs = append(gs, grown{d, by})
			}
		}
		sort.Slice(gs, func(i, j int) bool {
			if gs[i].by != gs[j].by {
				return gs[i].by > gs[j].by
			}
			return gs[i].dep < gs[j].dep
		})
		var top []string
		for _, g := range gs[:min(6, len(gs))] {
			top = append(top, fmt.Sprintf("%s %.0f KB", g.dep, float64(g.by)/1e3))
		}
		w("The chain adds %s of code to it, most from %s, and %s that is not code (among it the type data `reflect` and `encoding/json` need); ",
			mb(cd.code-nd.code), strings.Join(top, ", "), mb((chain.built-cd.code)-(noop.built-nd.code)))
		w("[the breakdown](#size-by-dependency) has every dependency of every example. ")
		var through []string
		if cd.byDep[depPretty] > 0 {
			through = append(through, "`tidwall/pretty`, which `gjson`'s `@pretty` modifier uses")
		}
		if cd.byDep[depSjson] > 0 {
			through = append(through, "`sjson`")
		}
		if cd.byDep[depJSON] > 0 && len(through) > 0 {
			w("`encoding/json` is there through %s. ", strings.Join(through, " and "))
		}
	}
	w("wasm-opt takes a few percent off, not a megabyte.\n\n")
	w("What would close it: a TinyGo build (a few hundred KB, at the price of TinyGo's garbage collectors, whose memory growth under Envoy users report). ")
	w("A JSON reader without `encoding/json` in its import graph (gjson without its modifiers) would save that package's share and the type data it needs; ")
	w("with upstream Go, the no-op plugin's %s leave a single-filter example %s for its filter and what it imports, and the chain %s. ",
		mb(noop.built), mb(maxFilterImage-noop.built), mb(maxChainImage-noop.built))
	w("What a registry transfers is the gzipped size: %s for the chain.\n\n", mb(chain.builtGzip))
}
