package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The targets the report checks, in their order of importance.
const (
	// memorySlack is how much the chain's linear memory may grow between
	// 10,000 and 1,000,000 requests.
	memorySlack = 1 << 20
	// maxRatio bounds the chain's time per request in wasm, in no-op
	// plugins.
	maxRatio = 3.0
	// maxProxyCalls bounds the chain's proxy-wasm host calls per request.
	maxProxyCalls = 12
	// maxAllocs bounds the chain's Go heap allocations per request in
	// wasm.
	maxAllocs = 4
	// maxFilterImage bounds every single-filter example's image as built
	// (stripped), and maxChainImage the chain's.
	maxFilterImage = 3_350_000
	maxChainImage  = 3_500_000
	// maxWorkerRatio bounds the library's time per request with per-worker
	// buckets, in the tutorial's plugin without its log line: the two do
	// the same work, in VM memory.
	maxWorkerRatio = 1.2
	// maxProxyRatio bounds the library's time per request with proxy-wide
	// buckets, in the tutorial's plugin as written (which logs each
	// request, where the library keeps its buckets in shared data).
	maxProxyRatio = 1.0
)

// results is everything one run measured.
type results struct {
	plugins []plugin
	machine machine
	sizes   map[string]imageSize
	times   map[string]timing
	calls   map[string]hostCalls
	memory  []memoryPoint
	native  map[string]native
	deps    map[string]imageCode // function code by dependency, by image name
	v8      map[string]v8Compile // compile time in V8, by image name
	v8Reps  int                  // compilations of each image
	// baselines are the earlier revisions measured beside the tree.
	baselines []baseline
	allocs    map[string]allocStats // Go allocations per request in wasm, by row
	// hostile is the hostile-path measure: this tree's chain first, then
	// each baseline's.
	hostile []hostileTiming
	// kidless is the jwt filter's worst case: a forged kid-less token.
	kidless kidless
	// bodies is what a rule on the JSON body costs.
	bodies bodies
	// tokens is what a token budget costs, on a plain and a streamed
	// answer.
	tokens tokens
	// nomod is the images built without gjson's @pretty and @ugly
	// modifiers.
	nomod withoutModifiers
	// tinygo is the TinyGo builds measured beside the upstream-Go images;
	// their entries' times, sizes, allocations and compile times are in
	// the tables above under their labels ("chain (TinyGo)").
	tinygo []tinygoBuild
	took   time.Duration
}

// verdict is one target's outcome.
type verdict struct {
	key              string // which target, for the explanations (see writeWhy)
	target, measured string
	met              bool
	miss             string // by how much, when missed
}

func (r *results) verdicts() []verdict {
	chain, noop := r.times[chainName], r.times[noopName]
	var out []verdict

	first, last := r.memory[len(r.memory)-2], r.memory[len(r.memory)-1] // see memoryCheckpoints
	growth := int64(last.bytes) - int64(first.bytes)
	v := verdict{
		key:      "memory",
		target:   fmt.Sprintf("chain's linear memory after %s requests ≤ after %s + 1 MiB", count(last.requests), count(first.requests)),
		measured: fmt.Sprintf("%s → %s (%s)", mib(first.bytes), mib(last.bytes), signedKiB(growth)),
		met:      growth <= memorySlack,
	}
	if !v.met {
		v.miss = "by " + kib(growth-memorySlack)
	}
	out = append(out, v)

	v = verdict{
		key:      "time",
		target:   fmt.Sprintf("chain ≤ %.0f× the no-op plugin per request in wasm", maxRatio),
		measured: fmt.Sprintf("%.1f× (%.2f µs; no-op %.2f µs)", chain.ratio, chain.total, noop.total),
		met:      chain.ratio <= maxRatio,
	}
	if !v.met {
		budget := maxRatio * noop.total
		v.miss = fmt.Sprintf("by %.1f× the floor: %.2f µs over a budget of %.2f µs", chain.ratio-maxRatio, chain.total-budget, budget)
	}
	out = append(out, v)

	calls := r.calls[chainName]
	v = verdict{
		key:      "calls",
		target:   fmt.Sprintf("chain ≤ %d proxy-wasm host calls per request", maxProxyCalls),
		measured: fmt.Sprintf("%s (and %s WASI calls)", num(calls.proxyTotal()), num(calls.wasiTotal())),
		met:      calls.proxyTotal() <= maxProxyCalls,
	}
	if !v.met {
		v.miss = fmt.Sprintf("by %s", num(calls.proxyTotal()-maxProxyCalls))
	}
	out = append(out, v)

	v = verdict{key: "allocs", target: fmt.Sprintf("chain ≤ %d Go allocations per request in wasm", maxAllocs)}
	if a, ok := r.allocs[chainName]; ok {
		v.measured = fmt.Sprintf("%s (%.0f bytes)", num(a.mallocs), a.bytes)
		v.met = a.mallocs <= maxAllocs
		if !v.met {
			v.miss = fmt.Sprintf("by %s", num(a.mallocs-maxAllocs))
		}
	} else {
		v.measured, v.miss = "not measured", "(no allocstats build of the chain)"
	}
	out = append(out, v)

	out = append(out, r.peerVerdict("worker peer", libWorkerLabel, tutorialQuietLabel, maxWorkerRatio),
		r.peerVerdict("proxy peer", libProxyLabel, tutorialLabel, maxProxyRatio))

	out = append(out, r.filterSizeVerdict(), r.chainSizeVerdict(), r.hostileVerdict(), r.kidlessVerdict())
	return out
}

// sizeBound is the bound on p's image as built, and whether it has one:
// the no-op plugin and the tutorial's peers are not examples.
func sizeBound(p plugin) (int, bool) {
	switch {
	case p.name == noopName || p.peer:
		return 0, false
	case p.name == chainName:
		return maxChainImage, true
	}
	return maxFilterImage, true
}

// filterSizeVerdict checks the single-filter examples' images (each image
// once: the jwt example's two entries share one).
func (r *results) filterSizeVerdict() verdict {
	var over []string
	examples, largest := 0, plugin{}
	for _, p := range images(r.plugins) {
		if bound, ok := sizeBound(p); !ok || p.name == chainName {
			continue
		} else if len(p.wasm) > bound {
			over = append(over, fmt.Sprintf("%s %s", p.name, mb(len(p.wasm))))
		}
		examples++
		if len(p.wasm) > len(largest.wasm) {
			largest = p
		}
	}
	s := r.sizes[largest.String()]
	v := verdict{
		key:      "size",
		target:   fmt.Sprintf("every single-filter example image ≤ %s as built", mb(maxFilterImage)),
		measured: fmt.Sprintf("largest: %s, %s (%s gzipped)", largest.name, mb(s.built), mb(s.builtGzip)),
		met:      len(over) == 0,
	}
	if !v.met {
		v.miss = fmt.Sprintf("%d of %d above: %s", len(over), examples, strings.Join(over, ", "))
	}
	return v
}

func (r *results) chainSizeVerdict() verdict {
	s := r.sizes[chainName]
	v := verdict{
		key:      "chain size",
		target:   fmt.Sprintf("the chain's image ≤ %s as built", mb(maxChainImage)),
		measured: fmt.Sprintf("%s (%s gzipped)", mb(s.built), mb(s.builtGzip)),
		met:      s.built <= maxChainImage,
	}
	if !v.met {
		v.miss = "by " + mb(s.built-maxChainImage)
	}
	return v
}

// peerVerdict checks that lib takes at most max times what peer takes per
// request in wasm, the ratio taken within each round; key names the
// target.
func (r *results) peerVerdict(key, lib, peer string, max float64) verdict {
	l, p := r.times[lib], r.times[peer]
	ratio := ratioIn(l, p)
	v := verdict{
		key:      key,
		target:   fmt.Sprintf("%s ≤ %.1f× %s per request in wasm", lib, max, asWritten(peer)),
		measured: fmt.Sprintf("%.2f× (%.2f µs; %s %.2f µs)", ratio, l.total, peer, p.total),
		met:      ratio <= max,
	}
	if !v.met {
		budget := max * p.total
		v.miss = fmt.Sprintf("by %.2f×: %.2f µs over a budget of %.2f µs", ratio-max, l.total-budget, budget)
	}
	return v
}

// asWritten names the tutorial's row as the report's text does.
func asWritten(label string) string {
	if label == tutorialLabel {
		return tutorialLabel + " (as written)"
	}
	return label
}

// verdict returns the verdict of the target key (the first, if several
// share it).
func (r *results) verdict(key string) verdict {
	for _, v := range r.verdicts() {
		if v.key == key {
			return v
		}
	}
	panic("no target " + key)
}

func mb(n int) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

func mib(n uint64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

func kib(n int64) string { return fmt.Sprintf("%d KiB", n/1024) }

func signedKiB(n int64) string {
	if n >= 0 {
		return "+" + kib(n)
	}
	return "−" + kib(-n)
}

// count writes n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// num writes a per-request count: whole numbers (to two decimals) without
// decimals, and a count too small for two decimals as such.
func num(v float64) string {
	switch {
	case v > 0 && v < 0.005:
		return "<0.01"
	case math.Abs(v-math.Round(v)) < 0.005:
		return fmt.Sprint(int64(math.Round(v)))
	}
	return fmt.Sprintf("%.2f", v)
}
