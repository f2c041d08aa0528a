package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/tinygo"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// A TinyGo build's entries are the upstream-Go entries labelled with the
// build, its allocstats variants are in its directory, and a missing image
// or variant fails the run with the make command that builds it.
func TestTinyGoImagesAreLabelledAndMissingOnesNamed(t *testing.T) {
	root := t.TempDir()
	nottinygc, precise := tinygoCollectors[0], tinygoCollectors[1]
	for _, n := range []string{"headerauth", jwtName, chainName} {
		write(t, filepath.Join(root, "examples", n, "config.json"), "{}")
	}
	for _, n := range []string{noopName, "headerauth", jwtName, chainName} {
		write(t, filepath.Join(root, "build", "tinygo", n+".wasm"), "not wasm")
	}
	_, err := loadTinyGo(root, []toolchain{{dir: "build/tinygo", tinygo: nottinygc}})
	if want := "(build it first: make " + filepath.ToSlash(root) + "/build/tinygo/allocstats/noop.wasm TOOLCHAIN=tinygo TINYGO_GC=nottinygc)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("missing allocstats variants: error %v, want one naming %q", err, want)
	}
	for _, n := range []string{noopName, "headerauth", jwtName, chainName} {
		write(t, filepath.Join(root, "build", "tinygo", "allocstats", n+".wasm"), "not wasm")
	}
	builds, err := loadTinyGo(root, []toolchain{{dir: "build/tinygo", tinygo: nottinygc}})
	if err != nil {
		t.Fatal(err)
	}
	var labels, imgs []string
	for _, p := range builds[0].plugins {
		labels = append(labels, p.String())
	}
	for _, p := range images(builds[0].plugins) {
		imgs = append(imgs, p.image())
	}
	if got, want := strings.Join(labels, "; "), "noop (TinyGo); headerauth (TinyGo); jwt (RS256, TinyGo); jwt (ES256, TinyGo); chain (TinyGo)"; got != want {
		t.Errorf("entries %s, want %s", got, want)
	}
	if got, want := strings.Join(imgs, "; "), "noop (TinyGo); headerauth (TinyGo); jwt (TinyGo); chain (TinyGo)"; got != want {
		t.Errorf("images %s, want %s", got, want)
	}
	chain := find(builds[0].plugins, chainName)
	if want := filepath.Join(root, "build", "tinygo", "allocstats", "chain.wasm"); chain.allocPath != want {
		t.Errorf("allocstats variant %s, want %s", chain.allocPath, want)
	}
	chain.allocPath = filepath.Join(root, "build", "tinygo", "allocstats", "gone.wasm")
	_, err = measureAllocs(context.Background(), []plugin{chain}, 1)
	if want := "build/tinygo/allocstats/gone.wasm TOOLCHAIN=tinygo TINYGO_GC=nottinygc)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a missing allocstats variant: error %v, want one naming %q", err, want)
	}

	_, err = loadTinyGo(root, []toolchain{{dir: "build/tinygo-precise", tinygo: precise}})
	if want := "(build the images first: make examples build/tinygo-precise/noop.wasm TOOLCHAIN=tinygo TINYGO_GC=precise)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("missing images: error %v, want one naming %q", err, want)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The allocstats variant of a TinyGo image (internal/bridge/allocstats.go),
// on the chain and the no-op plugin as the Makefile builds them for the
// TinyGo suite (make test TOOLCHAIN=tinygo, with either collector): with
// TinyGo's own collector it counts allocations and bytes; with nottinygc,
// whose runtime.ReadMemStats does not count allocations, bytes only, and
// the count is reported as unknown rather than 0. The chain allocates more
// than the no-op plugin under both. (Upstream Go's variants are
// TestAllocationsPerRequestInWasm's.)
func TestTinyGoAllocationsPerRequestInWasm(t *testing.T) {
	if !tinygo.Images() {
		t.Skip("measures TinyGo's images: make test TOOLCHAIN=tinygo runs it, for each collector")
	}
	var c *tinygoCollector
	for _, tc := range tinygoCollectors {
		if tc.gc == tinygo.Collector() {
			c = tc
		}
	}
	if c == nil {
		t.Fatalf("POLICY_TINYGO_GC=%q is none of the bench's TinyGo builds", tinygo.Collector())
	}
	config, err := os.ReadFile(filepath.Join(wasmtest.Root(), "examples", chainName, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	tc := toolchain{tinygo: c}
	chain := plugin{name: chainName, label: tc.entry(chainName), config: config, toolchain: tc,
		allocPath: wasmtest.ImagePath("allocstats/" + chainName)}
	noop := plugin{name: noopName, label: tc.entry(noopName), toolchain: tc,
		allocPath: wasmtest.ImagePath("allocstats/" + noopName)}
	got, err := measureAllocs(context.Background(), []plugin{noop, chain}, 200)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("per request: %+v", got)
	ch, n := got[chain.String()], got[noop.String()]
	if wantCount := c.gc != "nottinygc"; ch.uncounted == wantCount || n.uncounted == wantCount {
		t.Errorf("chain %+v, no-op %+v: counted %v, want %v", ch, n, !ch.uncounted, wantCount)
	}
	if ch.bytes <= n.bytes || ch.bytes < 8 {
		t.Errorf("chain %+v, no-op %+v: want the chain to allocate bytes, more than the no-op plugin", ch, n)
	}
	if !ch.uncounted && (ch.mallocs < 1 || ch.mallocs <= n.mallocs) {
		t.Errorf("chain %+v, no-op %+v: want the chain to allocate, more often than the no-op plugin", ch, n)
	}
}
