package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

// The TinyGo images: every example and the no-op plugin built with TinyGo
// (make TOOLCHAIN=tinygo), once with nottinygc, the Makefile's TinyGo
// build (as the proxy-wasm tutorials build their plugins), and once with
// TinyGo's own precise collector. The report compares them with the
// upstream-Go images in a section of their own: size, time per request
// (timed in the same rounds as the upstream-Go images), allocations per
// request (from their allocstats variants, internal/bridge/allocstats.go),
// compile time in V8 (in the same turns) and the chain's linear memory at
// the same checkpoints. The other measures, and the targets, are upstream
// Go's.

// tinygoCollector is one of the TinyGo builds the bench can take.
type tinygoCollector struct {
	gc     string   // the Makefile's TINYGO_GC
	about  string   // what the report says it is
	gcFlag string   // TinyGo's -gc
	tags   []string // the build tags the Makefile gives it (TINYGO_GC_FLAGS)
	label  string   // added to its entries' labels: "chain (TinyGo)"
	flag   string   // the bench's flag that names the images' directory
}

// tinygoCollectors are the TinyGo builds, in the report's order.
var tinygoCollectors = []*tinygoCollector{
	{gc: "nottinygc", about: "nottinygc, the collector the proxy-wasm tutorials build with",
		gcFlag: "custom", tags: []string{"custommalloc", "nottinygc_envoy"}, label: "TinyGo", flag: "tinygo"},
	{gc: "precise", about: "TinyGo's own precise collector",
		gcFlag: "precise", tags: []string{"custommalloc"}, label: "TinyGo, precise GC", flag: "tinygo-precise"},
}

// tinygoFlags are the flags of every TinyGo build: the Makefile's
// TINYGO_FLAGS less the collector's.
const tinygoFlags = "-buildmode=c-shared -no-debug -target=wasi -scheduler=none"

// flags are c's flags as the Makefile writes them (TINYGO_GC_FLAGS), for
// the report.
func (c *tinygoCollector) flags() string {
	tags := strings.Join(c.tags, " ")
	if len(c.tags) > 1 {
		tags = "'" + tags + "'"
	}
	return "-gc=" + c.gcFlag + " -tags=" + tags
}

// tinygoBuild is one TinyGo build of the examples, and the measure that is
// its own: the shared tables (times, sizes, allocations, compile times)
// hold its entries' figures under their labels.
type tinygoBuild struct {
	toolchain
	plugins []plugin      // the no-op plugin, the examples, the chain (loadExamples)
	memory  []memoryPoint // the chain's, at the upstream-Go chain's checkpoints
}

// loadTinyGo reads the images of each TinyGo build, and checks that their
// allocstats variants are there, so that a run without them fails at once
// rather than when it comes to allocations.
func loadTinyGo(root string, tcs []toolchain) ([]tinygoBuild, error) {
	var out []tinygoBuild
	for _, tc := range tcs {
		ps, err := loadExamples(root, tc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tc.tinygo.label, err)
		}
		for _, p := range images(ps) {
			if _, err := os.Stat(p.allocPath); err != nil {
				return nil, fmt.Errorf("%s: %w (build it first: %s)", tc.tinygo.label, err, tc.makeCommand(filepath.ToSlash(p.allocPath)))
			}
		}
		out = append(out, tinygoBuild{toolchain: tc, plugins: ps})
	}
	return out, nil
}

// tinygoPlugins is every entry of the builds, in order.
func tinygoPlugins(bs []tinygoBuild) []plugin {
	var out []plugin
	for _, b := range bs {
		out = append(out, b.plugins...)
	}
	return out
}

// measureTinyGoMemory reads the linear memory of each build's chain at
// the checkpoints.
func measureTinyGoMemory(ctx context.Context, bs []tinygoBuild, checkpoints []int) error {
	for i := range bs {
		log.Printf("memory of the chain (%s)", bs[i].tinygo.label)
		m, err := measureMemory(ctx, find(bs[i].plugins, chainName), checkpoints)
		if err != nil {
			return err
		}
		bs[i].memory = m
	}
	return nil
}
