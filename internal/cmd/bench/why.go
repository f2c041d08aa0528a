package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// writeWhy explains the missed targets with this run's figures, and says
// what would close them. Every figure comes from the tables above it.
func (r *results) writeWhy(w writer) {
	w("## Why targets are missed\n\n")
	missed := false
	if !r.verdict("time").met {
		missed = true
		r.writeWhyTime(w)
	}
	if !r.verdict("worker peer").met || !r.verdict("proxy peer").met {
		missed = true
		r.writeWhyPeers(w)
	}
	if !r.verdict("size").met || !r.verdict("chain size").met {
		missed = true
		r.writeWhySize(w)
	}
	if !r.verdict("hostile").met && len(r.hostile) > 0 {
		missed = true
		w("**Hostile paths.** A path's readings are written once per request for all the filters, each in one pass; ")
		w("a spelling with the most readings (eight strict ones and their loose forms) writes the path that many times, ")
		w("which is what remains over the plain path's cost (the host handing the header map over, and matching one reading).\n\n")
	}
	if !missed {
		w("Every target is met.\n\n")
	}
}

func (r *results) writeWhyTime(w writer) {
	noop, chain := r.times[noopName], r.times[chainName]
	calls := r.calls[chainName]
	returning, n := dataReturning(calls)
	w("**Time.** The no-op plugin costs %.2f µs per request: the host's handling of the stream and its callbacks into the VM, with the SDK's per-stream context maps. ", noop.total)
	w("The chain costs %.2f µs more, where the target allows %.2f µs (%.0f× the floor). ", chain.total-noop.total, (maxRatio-1)*noop.total, maxRatio)
	w("It makes %s proxy-wasm calls per request, %s of them returning data (%s), which the host hands over through the guest's allocator", num(calls.proxyTotal()), num(n), strings.Join(returning, ", "))
	if a, ok := r.allocs[chainName]; ok {
		w(", and %s Go allocations", num(a.mallocs))
	}
	w(". ")
	alone := r.chainFiltersAlone()
	if len(alone) > 0 {
		var each []string
		sum, fewest := 0.0, alone[0]
		for _, f := range alone {
			each = append(each, fmt.Sprintf("%s %.2f", f.name, f.over))
			sum += f.over
			if f.calls < fewest.calls {
				fewest = f
			}
		}
		w("Its filters, each alone in its example, cost %.2f µs over the floor together (%s); in the chain they share the stream and one read of the request headers. ", sum, strings.Join(each, ", "))
		w("Alone, %s makes %s and costs %.2f µs over the floor, the chain with %s %.2f µs",
			fewest.name, callCount(fewest.calls), fewest.over, callCount(calls.proxyTotal()), chain.total-noop.total)
		// A filter with few calls that costs more per call than the
		// chain does: the time goes with the filters.
		if fewest.calls > 0 && fewest.over/fewest.calls > (chain.total-noop.total)/calls.proxyTotal() {
			w(": the time follows the filters more than the host calls")
		}
		w(". ")
	}
	w("Besides the host's side of the calls, it is guest work: the dispatcher calling each filter's phases with panic recovery, counting decisions and recycling the stream, and the filters' own work")
	if d := r.nativeOver(chainName); d > 0 {
		w(" (natively, with the SDK's emulator as the host, the same code takes %.2f µs over the no-op plugin)", d/1e3)
	}
	w(".\n\n")
	w("What would close it: less guest work per filter in the dispatcher and the filters. ")
	w("One data-returning call fewer is possible: the request time could come from the WASI clock rather than the `request.time` attribute, at the price of the tests' control of time.\n\n")
}

// writeWhyPeers explains the library's time against the tutorial's plugin
// from the two rows' times, host calls and native figures.
func (r *results) writeWhyPeers(w writer) {
	lw, lp := r.times[libWorkerLabel], r.times[libProxyLabel]
	tq, tw := r.times[tutorialQuietLabel], r.times[tutorialLabel]
	noop := r.times[noopName]
	cw, cq := r.calls[libWorkerLabel], r.calls[tutorialQuietLabel]
	w("**Against the tutorial.** Per worker, the library takes %.2f µs per request and the tutorial's plugin without its log line %.2f µs: %.2f µs and %.2f µs over the no-op floor. ",
		lw.total, tq.total, lw.total-noop.total, tq.total-noop.total)
	w("The library makes %s proxy-wasm calls (%s), the tutorial %s (%s)", num(cw.proxyTotal()), byName(cw.proxy), num(cq.proxyTotal()), byName(cq.proxy))
	if clock := cq.wasi["clock_time_get"]; clock > 0 {
		w(" and %s WASI `clock_time_get`", num(clock))
	}
	libReturning, ln := dataReturning(cw)
	_, tn := dataReturning(cq)
	if ln > tn {
		w(": %s data-returning %s more (%s)", countWord(ln-tn), plural(ln-tn, "call"), strings.Join(libReturning, ", "))
		if cw.proxy["proxy_get_property"] > 0 {
			w(", the library reading `request.time` where the tutorial reads the WASI clock")
		}
	}
	w(". ")
	if la, ok := r.allocs[libWorkerLabel]; ok {
		if ta, ok := r.allocs[tutorialQuietLabel]; ok && la.mallocs <= ta.mallocs {
			w("Allocations are not the difference: %s Go allocations per request against the tutorial's %s. ", num(la.mallocs), num(ta.mallocs))
		}
	}
	w("The rest is guest work the tutorial's plugin does not do: the dispatcher running two filters' phases with panic recovery, counting decisions and recycling the stream, and the filters' own work; the SDK's per-stream context maps are in the floor, which both pay")
	if ld, td := r.nativeOver(libWorkerLabel), r.nativeOver(tutorialQuietLabel); ld > 0 && td > 0 {
		w(". Natively, where a host call is a Go call into the SDK's emulator, the library takes %.0f ns over the no-op plugin and the tutorial %.0f ns", ld, td)
	}
	w(".\n\n")
	extra := moreCalls(r.calls[libProxyLabel].proxy, cw.proxy)
	w("Proxy-wide, the library keeps its buckets in the proxy's shared data (%s per request more), which costs %.2f µs here (proxy-wide less worker). ", byName(extra), lp.total-lw.total)
	w("The tutorial as written takes %.2f µs more than without its log line (%s and formatting the line). ", tw.total-tq.total, byName(moreCalls(r.calls[tutorialLabel].proxy, cq.proxy)))
	w("So proxy-wide the library is over the tutorial as written by the worker's gap (%.2f µs) and the shared data (%.2f µs) less the log line (%.2f µs): %.2f µs.\n\n",
		lw.total-tq.total, lp.total-lw.total, tw.total-tq.total, lp.total-tw.total)
	w("What would close it: less guest work per filter phase in the dispatcher, as for the chain; ")
	w("the time from the WASI clock, as the tutorial takes it, would save the data-returning call.\n\n")
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
		w("The chain adds %s of code to it, most from %s, and %s that is not code (among it the type data `reflect` and `encoding/json` need); ",
			mb(cd.code-nd.code), strings.Join(topGrowth(cd, nd, 6, nil), ", "), mb((chain.built-cd.code)-(noop.built-nd.code)))
		w("[the breakdown](#size-by-dependency) has every dependency of every example. ")
		var through []string
		if cd.byDep[depPretty] > 0 {
			through = append(through, "`tidwall/pretty`, which `gjson`'s `@pretty` and `@ugly` modifiers use")
		}
		if cd.byDep[depSjson] > 0 {
			through = append(through, "`sjson`")
		}
		if cd.byDep[depJSON] > 0 && len(through) > 0 {
			w("`encoding/json` is there through %s. ", strings.Join(through, " and "))
		}
	}
	w("wasm-opt takes a few percent off, not a megabyte.\n\n")

	nm := r.nomod
	without, ok := nm.sizes[chainName]
	if !ok {
		w("What would close it: gjson's stock modifiers out of the image, and beyond that a TinyGo build; ")
		w("with upstream Go, the no-op plugin's %s leave a single-filter example %s for its filter and what it imports, and the chain %s. ",
			mb(noop.built), mb(maxFilterImage-noop.built), mb(maxChainImage-noop.built))
		w("What a registry transfers is the gzipped size: %s for the chain.\n\n", mb(chain.builtGzip))
		return
	}
	lead := "The largest cause is"
	if saved, gap := chain.built-without, chain.built-maxChainImage; gap > 0 {
		switch {
		case saved >= gap:
			lead = "All of the chain's excess comes from"
		case 2*saved >= gap:
			lead = "Most of the chain's excess comes from"
		default:
			lead = "Part of the chain's excess comes from"
		}
	}
	w("%s `%s`: its init function registers the stock modifiers in a map, and the linker keeps whatever an init references. ", lead, nm.gjson)
	w("`@pretty` and `@ugly` call `tidwall/pretty`, whose string parsing calls `encoding/json.Unmarshal`; that links `encoding/json`'s decoder, `reflect` and, through `encoding/json`'s errors, `fmt`. ")
	w("Built against a copy of gjson whose init leaves those two entries out ([the table](#without-gjsons-prettyugly-modifiers)), the chain is %s instead of %s (%s less)", mb(without), mb(chain.built), mb(chain.built-without))
	if lo, hi, ok := r.filterSavings(); ok {
		w(" and the single-filter images %s to %s smaller", mb(lo), mb(hi))
	}
	w(".")
	if nc := nm.deps[chainName]; nc.code > 0 && cd.code > 0 {
		var gone, shrunk []string
		for _, d := range []string{depJSON, depFmt, depReflect, depPretty} {
			switch before, after := cd.byDep[d], nc.byDep[d]; {
			case before > 0 && after == 0:
				gone = append(gone, d)
			case after < before:
				shrunk = append(shrunk, fmt.Sprintf("%s shrinks from %s to %s", d, kb(before), kb(after)))
			}
		}
		if len(gone) > 0 || len(shrunk) > 0 {
			w(" In the chain without them, %s.", andList(append(goneRows(gone), shrunk...)))
		}
	}
	meet, over := r.filtersWithout()
	if len(meet) > 0 {
		w(" Without them, %s would meet the %s bound.", andList(meet), mb(maxFilterImage))
	}
	w("\n\nWhat would close it: gjson registering its modifiers lazily, on first use of a modifier, or leaving `@pretty` and `@ugly` out behind a build tag, both changes upstream (gjson's types are in this library's API, so it stays); ")
	w("or a JSON reader without `encoding/json` in its import graph. ")
	if without > maxChainImage {
		w("Even then the chain is %s over its %s bound", mb(without-maxChainImage), mb(maxChainImage))
		if nc := nm.deps[chainName]; nc.code > 0 && nd.code > 0 {
			own := 0
			for d, n := range nc.byDep {
				if d == "policy" || strings.HasPrefix(d, "policy/") {
					own += n
				}
			}
			w(": the no-op floor's %s leave it %s, and it adds %s of code (%s of it the library's own packages; the largest rows %s) and %s that is not code",
				mb(noop.built), mb(maxChainImage-noop.built), mb(nc.code-nd.code), mb(own), strings.Join(topGrowth(nc, nd, 5, nil), ", "), mb((without-nc.code)-(noop.built-nd.code)))
		}
		w(". ")
	}
	if len(over) > 0 {
		w("Single-filter images still over their bound: %s. ", strings.Join(over, "; "))
	}
	w("%s", r.tinygoSizeNote())
	w("What a registry transfers is the gzipped size: %s for the chain.\n\n", mb(chain.builtGzip))
}

// writeWithoutModifiers writes the table of the images built without
// gjson's @pretty and @ugly modifiers, beside the size targets.
func (r *results) writeWithoutModifiers(w writer) {
	if len(r.nomod.sizes) == 0 {
		return
	}
	w("### Without gjson's @pretty/@ugly modifiers\n\n")
	w("Each example and the chain built again, with the same flags, against a copy of `%s` whose init function leaves out the `@pretty` and `@ugly` entries of its stock modifiers (nothing else changed; ", r.nomod.gjson)
	w("[why](#why-targets-are-missed)).\n\n")
	w("| Image | As built | Without the two modifiers | Difference | Bound | Within it without them |\n|---|---:|---:|---:|---:|---|\n")
	for _, p := range images(r.plugins) {
		without, ok := r.nomod.sizes[p.name]
		bound, bounded := sizeBound(p)
		if !ok || !bounded {
			continue
		}
		built := len(p.wasm)
		within := "yes"
		if without > bound {
			within = "no: " + mb(without-bound) + " over"
		}
		w("| %s | %s | %s | −%s | %s | %s |\n", p.name, mb(built), mb(without), mb(built-without), mb(bound), within)
	}
	w("\n")
}

// filterSavings is the least and the most the single-filter images lose
// without the two modifiers.
func (r *results) filterSavings() (lo, hi int, ok bool) {
	for _, p := range r.plugins {
		without, has := r.nomod.sizes[p.name]
		if _, bounded := sizeBound(p); !has || !bounded || p.name == chainName {
			continue
		}
		d := len(p.wasm) - without
		if !ok || d < lo {
			lo = d
		}
		if !ok || d > hi {
			hi = d
		}
		ok = true
	}
	return lo, hi, ok
}

// filtersWithout lists the single-filter images that would meet their
// bound without the two modifiers, and those that would not, with what
// they would still be over by and, from their unstripped variant, the
// rows that grow most over the floor.
func (r *results) filtersWithout() (meet, over []string) {
	for _, p := range images(r.plugins) {
		without, has := r.nomod.sizes[p.name]
		bound, bounded := sizeBound(p)
		if !has || !bounded || p.name == chainName {
			continue
		}
		if without <= bound {
			meet = append(meet, fmt.Sprintf("%s (%s)", p.name, mb(without)))
			continue
		}
		s := fmt.Sprintf("%s %s (%s over", p.name, mb(without), mb(without-bound))
		if d := r.nomod.deps[p.name]; d.code > 0 && r.deps[noopName].code > 0 {
			s += "; largest rows over the floor: " + strings.Join(topGrowth(d, r.deps[noopName], 3, nil), ", ")
		}
		over = append(over, s+")")
	}
	return meet, over
}

// topGrowth is the n rows by which image's code grows most over base's,
// "row N KB", leaving out the rows skip.
func topGrowth(image, base imageCode, n int, skip []string) []string {
	type grown struct {
		dep string
		by  int
	}
	var gs []grown
	for d, size := range image.byDep {
		if by := size - base.byDep[d]; by > 0 && !contains(skip, d) {
			gs = append(gs, grown{d, by})
		}
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].by != gs[j].by {
			return gs[i].by > gs[j].by
		}
		return gs[i].dep < gs[j].dep
	})
	var out []string
	for _, g := range gs[:min(n, len(gs))] {
		out = append(out, g.dep+" "+kb(g.by))
	}
	return out
}

// filterAlone is one of the chain's filters measured alone, in its
// example: its time over the no-op floor and its proxy-wasm calls.
type filterAlone struct {
	name  string
	over  float64
	calls float64
}

// chainFiltersAlone is each filter of the chain's configuration that is an
// example of its own, as measured alone.
func (r *results) chainFiltersAlone() []filterAlone {
	var config struct {
		Filters []struct{ Name string }
	}
	for _, p := range r.plugins {
		if p.name == chainName && p.rev == "" {
			json.Unmarshal(p.config, &config) // the chain ran with it, so it parses
		}
	}
	var out []filterAlone
	for _, f := range config.Filters {
		if t, ok := r.times[f.Name]; ok {
			out = append(out, filterAlone{f.Name, t.total - r.times[noopName].total, r.calls[f.Name].proxyTotal()})
		}
	}
	return out
}

// goneRows says that each of rows is gone: "encoding/json is gone".
func goneRows(rows []string) []string {
	var out []string
	for _, d := range rows {
		out = append(out, d+" is gone")
	}
	return out
}

// dataReturning lists the proxy-wasm calls of c that return data
// (proxy_get_*), and how many of them a request makes.
func dataReturning(c hostCalls) (names []string, n float64) {
	for _, name := range sortedKeys(c.proxy) {
		if strings.HasPrefix(name, "proxy_get_") {
			names = append(names, "`"+name+"`")
			n += c.proxy[name]
		}
	}
	return names, n
}

// moreCalls is, by name, how many more calls per request a makes than b.
func moreCalls(a, b map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for name, n := range a {
		if d := n - b[name]; d > 0.005 {
			out[name] = d
		}
	}
	return out
}

// nativeOver is a plugin's native time over the no-op plugin's, in ns; 0
// when not measured.
func (r *results) nativeOver(name string) float64 {
	n, ok := r.native[name]
	if !ok || n.nsPerOp == 0 {
		return 0
	}
	return float64(n.nsPerOp - r.native[noopName].nsPerOp)
}

// callCount writes a count of proxy-wasm calls: "1 proxy-wasm call".
func callCount(n float64) string { return num(n) + " proxy-wasm " + plural(n, "call") }

// plural is noun for a count of one, else its plural.
func plural(n float64, noun string) string {
	if num(n) == "1" {
		return noun
	}
	return noun + "s"
}

// andList joins items with commas and a last "and".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// countWord writes a small whole count as a word ("one"), else as num.
func countWord(v float64) string {
	if words := []string{"no", "one", "two", "three"}; v == float64(int(v)) && int(v) < len(words) {
		return words[int(v)]
	}
	return num(v)
}

func kb(n int) string { return fmt.Sprintf("%.0f KB", float64(n)/1e3) }
