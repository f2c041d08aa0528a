package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// imageSize is one image's size as built and after wasm-opt.
type imageSize struct {
	built, builtGzip int
	opt              map[string]optimized // by wasm-opt level
}

// optimized is an image after wasm-opt at one level.
type optimized struct {
	path       string
	size, gzip int
	took       time.Duration // 0 when reused from an earlier run
	violations []wasmtest.Violation
	// serves reports whether the optimized image answered a run of requests
	// exactly as the original did; why says what differed or failed.
	serves bool
	why    string
	err    error // wasm-opt failed
}

// The wasm-opt levels: -Oz (smallest) for every image, and -O (fastest) for
// the chain, whose speed the timing table then compares too. Both are
// slow (tens of seconds per image), so they run two at a time, before
// anything is timed, and their outputs are kept in build/wasm-opt for the
// next run while the image does not change.
var (
	optLevels      = []string{"-Oz"}
	chainOptLevels = []string{"-Oz", "-O"}
)

// optFeatures are the wasm features upstream Go's output uses; wasm-opt
// rejects the module without them.
var optFeatures = []string{"--enable-sign-ext", "--enable-nontrapping-float-to-int", "--enable-bulk-memory", "--enable-mutable-globals"}

func measureSizes(ctx context.Context, o options, ps []plugin) (map[string]imageSize, error) {
	out := sizesAsBuilt(ps)
	type job struct {
		p     plugin
		level string
	}
	var jobs []job
	for _, p := range images(ps) {
		levels := optLevels
		switch {
		case p.peer:
			levels = nil // not an example: its size is listed, not optimized
		case p.name == chainName:
			levels = chainOptLevels
		}
		for _, l := range levels {
			jobs = append(jobs, job{p, l})
		}
	}
	if o.wasmOpt == "" {
		return out, nil
	}
	if _, err := exec.LookPath(o.wasmOpt); err != nil {
		return nil, fmt.Errorf("%w: install Binaryen (apt-get install -y binaryen) or pass -wasm-opt ''", err)
	}
	dir := filepath.Join(o.root, "build", "wasm-opt")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	results := make([]optimized, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = runWasmOpt(o.wasmOpt, jobs[i].p, jobs[i].level, dir)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, j := range jobs {
		res := results[i]
		if res.err == nil {
			check(ctx, j.p, &res)
		}
		out[j.p.String()].opt[j.level] = res
	}
	return out, nil
}

// sizesAsBuilt is each entry's image size as built and gzipped, by entry.
// The entries of one image (the jwt example's two tokens) share one
// imageSize, and its opt map as wasm-opt fills it.
func sizesAsBuilt(ps []plugin) map[string]imageSize {
	out := map[string]imageSize{}
	first := map[string]string{} // image → the entry that measured it
	for _, p := range ps {
		if f, ok := first[p.image()]; ok {
			out[p.String()] = out[f]
			continue
		}
		first[p.image()] = p.String()
		out[p.String()] = imageSize{built: len(p.wasm), builtGzip: gzipSize(p.wasm), opt: map[string]optimized{}}
	}
	return out
}

// runWasmOpt optimizes p's image at level into dir, unless an earlier run
// left an output newer than the image.
func runWasmOpt(wasmOpt string, p plugin, level, dir string) optimized {
	res := optimized{path: filepath.Join(dir, p.name+strings.TrimPrefix(level, "-")+".wasm")}
	in, _ := os.Stat(p.path)
	if st, err := os.Stat(res.path); err != nil || in == nil || st.ModTime().Before(in.ModTime()) {
		start := time.Now()
		args := append(append([]string{level}, optFeatures...), p.path, "-o", res.path)
		if msg, err := exec.Command(wasmOpt, args...).CombinedOutput(); err != nil {
			res.err = fmt.Errorf("wasm-opt %s %s: %v: %s", level, p.name, err, bytes.TrimSpace(msg))
			return res
		}
		res.took = time.Since(start)
		log.Printf("wasm-opt %s %s: %s", level, p.name, res.took.Round(time.Second))
	}
	wasm, err := os.ReadFile(res.path)
	if err != nil {
		res.err = err
		return res
	}
	res.size, res.gzip = len(wasm), gzipSize(wasm)
	return res
}

// check runs the conformance check on an optimized image and serves the
// same requests through it and through the original, comparing responses
// and host calls.
func check(ctx context.Context, p plugin, res *optimized) {
	wasm, err := os.ReadFile(res.path)
	if err != nil {
		res.why = err.Error()
		return
	}
	if res.violations, err = wasmtest.CheckConformance(wasm); err != nil {
		res.why = err.Error()
		return
	}
	opt := p
	opt.wasm = wasm
	want, err := transcript(ctx, p, 50)
	if err != nil {
		res.why = err.Error()
		return
	}
	got, err := transcript(ctx, opt, 50)
	switch {
	case err != nil:
		res.why = err.Error()
	case got != want:
		res.why = "its responses or host calls differ from the original's"
	default:
		res.serves = true
	}
}

// transcript serves n requests through p and writes down every response
// and the host calls they took.
func transcript(ctx context.Context, p plugin, n int) (string, error) {
	r, err := newRunner(ctx, p, newFixedClock())
	if err != nil {
		return "", err
	}
	defer r.close(ctx)
	var b strings.Builder
	for i := 0; i < n; i++ {
		resp, err := r.serve(ctx)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%d %q %q\n", resp.Status, resp.Headers, resp.Body)
	}
	calls := r.vm.HostCalls()
	for _, name := range sortedKeys(calls) {
		fmt.Fprintf(&b, "%s %d\n", name, calls[name])
	}
	return b.String(), nil
}

func gzipSize(b []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Len()
}

// optimizedChain is the chain's image after wasm-opt at level, to be timed
// beside the original, if wasm-opt made one that serves requests.
func optimizedChain(ps []plugin, level string, sizes map[string]imageSize) (plugin, bool) {
	chain := find(ps, chainName)
	res, ok := sizes[chain.String()].opt[level]
	if !ok || !res.serves {
		return plugin{}, false
	}
	wasm, err := os.ReadFile(res.path)
	if err != nil {
		return plugin{}, false
	}
	chain.label, chain.path, chain.wasm = chainName+" (wasm-opt "+level+")", res.path, wasm
	return chain, true
}
