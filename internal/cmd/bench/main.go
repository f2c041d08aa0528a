// Command bench measures what a request costs in the library's compiled
// plugins, against a plugin that does nothing, and writes the report
// (BENCHMARKS.md) and its chart. `make bench` builds the images and runs it
// from the repository root.
//
// It measures every example (examples/NAME, configured with its
// config.json; examples/chain is the tutorial's scenario) and the no-op plugin
// (internal/testdata/noop: the SDK and the bridge with default contexts,
// the floor that is the cost of the host and the Go runtime alone), and the
// tutorial's peers: Istio's Wasm rate-limiting tutorial plugin written
// directly against the SDK (internal/testdata/tutorial) and the library
// doing the same (internal/testdata/tutoriallib), which the report compares:
//
//   - time per request through the compiled image in wazero (internal/host),
//     split into the request and the response phase, with the ratio to the
//     no-op plugin; the plugins take turns in rounds, so that the machine's
//     load weighs on all of them alike, and the report gives medians;
//   - host calls per request by import name, proxy-wasm and WASI apart;
//   - Go heap allocations per request in wasm, read from the Go runtime's
//     counters in a variant of each image built with the policy_allocstats
//     tag (internal/bridge/allocstats.go), which exports them;
//   - time and allocations per request natively (testing.Benchmark through
//     proxytest, with the same configuration);
//   - image size as built, gzipped (what a registry transfers), and after
//     Binaryen's wasm-opt, with whether the optimized image still passes the
//     conformance check and serves requests exactly as the original does;
//   - each image's compile time in V8 (node, TurboFan only, as Envoy runs
//     it), with the ratio to the no-op plugin's;
//   - each image's function code by dependency (Go package, grouped), from
//     the name section of an unstripped build of it (build/names/NAME.wasm);
//   - each example's and the chain's size when built against a copy of
//     github.com/tidwall/gjson whose init leaves out the @pretty and @ugly
//     modifiers, which link encoding/json, reflect and fmt
//     (build/nomodifiers/NAME.wasm; see nomodifiers.go);
//   - linear memory of the chain after 10,000 and 1,000,000 requests;
//   - the time and allocations per request of a 59 KiB path through the
//     filters that read it, plain and in spellings with many readings
//     (hostile.go);
//   - the jwt filter's worst case, a forged token without a kid against the
//     largest key set it accepts (kidless.go);
//   - what a rule on a JSON request body and a rewrite of it cost
//     (bodies.go), and a token budget on an LLM API's plain and streamed
//     answers (tokens.go): time, allocations and memory per request;
//   - with -baseline, the same figures for the chain and a few other images
//     built from earlier git revisions, measured in the same run, so that
//     the report states a change's effect before and after;
//   - with -tinygo and -tinygo-precise, every example and the no-op plugin
//     built with TinyGo (nottinygc, and TinyGo's precise collector): size,
//     time per request (in the same rounds), allocations per request,
//     compile time in V8 and the chain's memory, beside the upstream-Go
//     images (tinygo.go).
//
// Every plugin serves the same request, which every example lets through:
// the benchmark measures the path a request takes when the policy allows
// it. A plugin that answers it otherwise fails the run.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	opts := options{}
	flag.StringVar(&opts.root, "root", ".", "the repository root: examples/ and build/ are read from it")
	flag.StringVar(&opts.out, "out", "BENCHMARKS.md", "the report to write")
	flag.StringVar(&opts.chart, "chart", "BENCHMARKS.svg", "the chart to write (.svg or .png), linked from the report by its base name")
	flag.IntVar(&opts.rounds, "rounds", 15, "timing rounds; each plugin serves -batch requests per round")
	flag.IntVar(&opts.batch, "batch", 3000, "requests per plugin and round")
	flag.IntVar(&opts.memRequests, "mem-requests", 1_000_000, "requests through the chain before its memory is read the second time")
	flag.StringVar(&opts.wasmOpt, "wasm-opt", "wasm-opt", "Binaryen's wasm-opt; empty to skip the optimized images")
	flag.IntVar(&opts.v8Reps, "v8-reps", 3, "compilations of each image in V8 (node)")
	baseline := flag.String("baseline", "", "git revisions, separated by spaces, whose images are measured in the same run as the current tree's")
	tinygoDirs := make([]*string, len(tinygoCollectors))
	for i, c := range tinygoCollectors {
		tinygoDirs[i] = flag.String(c.flag, "", fmt.Sprintf("the directory of the images built with TinyGo and %s (make bench-tinygo), measured beside upstream Go's; empty to leave them out", c.gc))
	}
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: bench [flags] -- go build flags of the images\n\n"+
			"The flags after -- are the Makefile's (make bench passes them): the bench builds\n"+
			"variants of the images with them (without gjson's modifiers; the baselines).\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	opts.baselines, opts.buildFlags = strings.Fields(*baseline), flag.Args()
	for i, c := range tinygoCollectors {
		if *tinygoDirs[i] != "" {
			opts.tinygo = append(opts.tinygo, toolchain{dir: *tinygoDirs[i], tinygo: c})
		}
	}
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	if opts.memRequests <= 10_000 {
		log.Fatalf("-mem-requests must be over 10000 (the first memory reading), not %d", opts.memRequests)
	}

	start := time.Now()
	r, err := run(context.Background(), opts)
	if err != nil {
		log.Fatal(err)
	}
	r.took = time.Since(start)
	if err := writeChart(under(opts.root, opts.chart), r); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(under(opts.root, opts.out), []byte(r.markdown(filepath.Base(opts.chart))), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s and %s in %s", opts.out, opts.chart, r.took.Round(time.Second))
}

type options struct {
	root, out, chart string
	rounds, batch    int
	memRequests      int
	wasmOpt          string
	v8Reps           int
	baselines        []string    // git revisions to measure beside the tree
	buildFlags       []string    // go build flags of the images, for the variants the bench builds
	tinygo           []toolchain // the TinyGo builds to measure beside upstream Go's
}

// run takes every measure. The optimized images and V8's compilations come
// first, while nothing else runs: wasm-opt and V8 use both cores, and the
// timings need a quiet machine.
func run(ctx context.Context, o options) (*results, error) {
	useCacheDir(filepath.Join(o.root, "build", "wazero-cache"))
	plugins, err := loadPlugins(o.root)
	if err != nil {
		return nil, err
	}
	tinygo, err := loadTinyGo(o.root, o.tinygo)
	if err != nil {
		return nil, err
	}
	tg := tinygoPlugins(tinygo)
	r := &results{plugins: plugins, tinygo: tinygo, machine: describeMachine(o.wasmOpt)}
	if len(o.baselines) > 0 {
		log.Printf("building the baselines: %s", strings.Join(o.baselines, " "))
	}
	if r.baselines, err = buildBaselines(o.root, o.baselines, o.buildFlags); err != nil {
		return nil, err
	}
	var before []plugin
	for _, b := range r.baselines {
		before = append(before, b.plugins...)
	}
	log.Print("the images without gjson's @pretty and @ugly modifiers")
	if r.nomod, err = buildWithoutModifiers(o.root, plugins, o.buildFlags); err != nil {
		return nil, err
	}

	log.Print("sizes and wasm-opt")
	if r.sizes, err = measureSizes(ctx, o, plugins); err != nil {
		return nil, err
	}
	maps.Copy(r.sizes, sizesAsBuilt(tg))
	if r.deps, err = measureDeps(o.root, plugins); err != nil {
		return nil, err
	}
	log.Printf("compile time in V8: %d turns", o.v8Reps)
	r.v8Reps = o.v8Reps
	if r.v8, err = measureV8(append(plugins[:len(plugins):len(plugins)], tg...), o.v8Reps); err != nil {
		return nil, err
	}
	timed := append([]plugin(nil), plugins...)
	for _, level := range chainOptLevels {
		if p, ok := optimizedChain(plugins, level, r.sizes); ok {
			timed = append(timed, p)
		}
	}
	timed = append(append(timed, before...), tg...)

	log.Printf("time per request in wasm: %d rounds of %d requests", o.rounds, o.batch)
	if r.times, err = measureTimes(ctx, timed, o.rounds, o.batch); err != nil {
		return nil, err
	}
	log.Print("host calls per request")
	if r.calls, err = countCalls(ctx, append(plugins[:len(plugins):len(plugins)], before...), 2000); err != nil {
		return nil, err
	}
	log.Print("Go allocations per request in wasm")
	if r.allocs, err = measureAllocs(ctx, append(append(plugins[:len(plugins):len(plugins)], before...), tg...), allocRequests); err != nil {
		return nil, err
	}
	log.Printf("memory of the chain over %d requests", o.memRequests)
	if r.memory, err = measureMemory(ctx, find(plugins, chainName), memoryCheckpoints(o.memRequests)); err != nil {
		return nil, err
	}
	if err := measureTinyGoMemory(ctx, r.tinygo, memoryCheckpoints(o.memRequests)); err != nil {
		return nil, err
	}
	log.Printf("hostile paths: %d rounds of %d requests", hostileRounds, hostileBatch)
	if r.hostile, err = measureHostile(ctx, find(plugins, chainName), r.baselines); err != nil {
		return nil, err
	}
	log.Print("authz and bodymutate: a rule on the JSON body and a rewrite of it")
	if r.bodies, err = measureBodies(ctx, find(plugins, "authz"), find(plugins, "jsonbody"), memoryCheckpoints(o.memRequests)); err != nil {
		return nil, err
	}
	log.Print("llmbudget: a token budget on a plain and a streamed answer")
	if r.tokens, err = measureTokens(ctx, find(plugins, llmBudgetName), memoryCheckpoints(min(o.memRequests, tokenMemoryRequests))); err != nil {
		return nil, err
	}
	log.Print("jwt: a forged token without a kid")
	if r.kidless, err = measureKidless(ctx, find(plugins, jwtName)); err != nil {
		return nil, err
	}
	log.Print("native time and allocations")
	if r.native, err = measureNative(plugins); err != nil {
		return nil, err
	}
	return r, nil
}

// under is path relative to root, unless it is absolute.
func under(root, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

func find(ps []plugin, name string) plugin {
	for _, p := range ps {
		if p.name == name {
			return p
		}
	}
	panic(fmt.Sprintf("no plugin %q", name))
}

// memoryCheckpoints are the request counts at which the chain's linear
// memory is read: 10,000, 100,000 and n. The target compares the last two:
// the heap settles at its steady size within the first 100,000 requests
// (how many it takes depends on how much each request allocates, which is
// little), and flat means no growth after that.
// n is over 10,000 (main checks it).
func memoryCheckpoints(n int) []int {
	var out []int
	for _, c := range []int{10_000, 100_000} {
		if c < n {
			out = append(out, c)
		}
	}
	return append(out, n)
}
