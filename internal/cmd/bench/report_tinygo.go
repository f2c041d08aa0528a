package main

import (
	"fmt"
	"strings"
)

// writeTinyGo compares the TinyGo builds with the upstream-Go images: a
// row per example entry and build, then the chain's linear memory under
// each collector.
func (r *results) writeTinyGo(w writer) {
	if len(r.tinygo) == 0 {
		return
	}
	var builds []string
	for _, b := range r.tinygo {
		builds = append(builds, fmt.Sprintf("%s (rows \"(%s)\"; `%s`, in `%s`)", b.tinygo.about, b.tinygo.label, b.tinygo.flags(), b.dir))
	}
	w("## TinyGo images\n\n")
	w("The no-op plugin and every example built with TinyGo, `tinygo build %s` as `make examples TOOLCHAIN=tinygo` builds them (`make bench-tinygo` builds these), once per collector: %s. ",
		tinygoFlags, andList(builds))
	w("They serve the same request as the upstream-Go images, in the same run: the times in the same rounds as the [table above](#time-per-request-in-wasm) ")
	w("(× Go is an image's time over the upstream-Go image's of the same example, taken within each round), the compile times in the same node process and turns as the [V8 table](#compile-time-in-v8)'s, ")
	w("and the allocations from an allocstats variant of each image (`internal/bridge/allocstats.go`: the collector's `runtime.ReadMemStats`, read as for upstream Go). ")
	w("nottinygc's `runtime.ReadMemStats` fills `TotalAlloc` but not `Mallocs`, so its images count bytes only and their allocation count is n/a. ")
	w("TinyGo cannot recover from a panic: where an upstream-Go image answers a panicking filter's request with an error and goes on serving, a TinyGo image traps, and Envoy fails every later request on that VM (or skips the plugin, with fail_open) until it reloads it. ")
	w("The benchmark request panics nowhere, so the figures compare like with like, and do not show that difference. The targets above are upstream Go's; these images are not held to them.\n\n")
	w("| Plugin | As built | gzip | Time (µs) | × Go | Allocations/request | Bytes/request | V8 compile (ms) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range r.plugins {
		if p.peer {
			continue
		}
		base := r.times[p.String()]
		r.writeTinyGoRow(w, p.String(), p.image(), "—")
		for _, b := range r.tinygo {
			label := b.entry(p.String())
			if _, built := r.sizes[label]; !built {
				continue
			}
			ratio := "—"
			if t, ok := r.times[label]; ok {
				ratio = fmt.Sprintf("%.2f", ratioIn(t, base))
			}
			r.writeTinyGoRow(w, label, b.entry(p.name), ratio)
		}
	}
	w("\n")
	r.writeTinyGoMemory(w)
}

// writeTinyGoRow writes the row of the entry label, whose image is image,
// with its time's ratio to the upstream-Go image's.
func (r *results) writeTinyGoRow(w writer, label, image, ratio string) {
	s := r.sizes[label]
	total := "not timed"
	if t, ok := r.times[label]; ok {
		total = fmt.Sprintf("%.2f", t.total)
	}
	count, bytes := "not measured", "—"
	if a, ok := r.allocs[label]; ok {
		count, bytes = num(a.mallocs), fmt.Sprintf("%.0f", a.bytes)
		if a.uncounted {
			count = "n/a"
		}
	}
	compile := "—"
	if c, ok := r.v8[image]; ok {
		compile = fmt.Sprintf("%.0f", c.ms)
	}
	w("| %s | %s | %s | %s | %s | %s | %s | %s |\n", label, mb(s.built), mb(s.builtGzip), total, ratio, count, bytes, compile)
}

// writeTinyGoMemory gives the chain's linear memory at the checkpoints of
// the upstream-Go chain's, under each build.
func (r *results) writeTinyGoMemory(w writer) {
	w("The chain's linear memory, one VM serving the benchmark request again and again as for the upstream-Go chain above:\n\n")
	w("| Requests | %s |", chainName)
	for _, b := range r.tinygo {
		w(" %s |", b.entry(chainName))
	}
	w("\n|---:|---:|%s\n", strings.Repeat("---:|", len(r.tinygo)))
	for i, m := range r.memory {
		w("| %s | %s |", count(m.requests), mib(m.bytes))
		for _, b := range r.tinygo {
			if i < len(b.memory) {
				w(" %s |", mib(b.memory[i].bytes))
			} else {
				w(" — |")
			}
		}
		w("\n")
	}
	if len(r.memory) < 2 {
		w("\n")
		return
	}
	var growth []string
	grew := func(name string, ms []memoryPoint) {
		if len(ms) == len(r.memory) {
			warm, last := ms[len(ms)-2], ms[len(ms)-1]
			growth = append(growth, fmt.Sprintf("%s %s", name, signedKiB(int64(last.bytes)-int64(warm.bytes))))
		}
	}
	grew(chainName, r.memory)
	for _, b := range r.tinygo {
		grew(b.entry(chainName), b.memory)
	}
	warm, last := r.memory[len(r.memory)-2], r.memory[len(r.memory)-1]
	w("\nGrowth from %s to %s requests: %s.\n\n", count(warm.requests), count(last.requests), strings.Join(growth, "; "))
}

// tinygoSizeNote is what the size explanation says of a TinyGo build: the
// chain's TinyGo images as measured, when the run has them.
func (r *results) tinygoSizeNote() string {
	var sizes []string
	for _, b := range r.tinygo {
		if s, ok := r.sizes[b.entry(chainName)]; ok {
			sizes = append(sizes, fmt.Sprintf("%s (%s)", mb(s.built), b.tinygo.label))
		}
	}
	if len(sizes) == 0 {
		return "Beyond that, a TinyGo build is a few hundred KB, at the price of TinyGo's garbage collectors, whose memory growth under Envoy users report. "
	}
	return fmt.Sprintf("Beyond that, the chain built with TinyGo is %s ([TinyGo images](#tinygo-images)), at the price of recovering from panics, which TinyGo cannot. ", andList(sizes))
}
