package main

import (
	"fmt"
	"strings"
	"time"
)

func (r *results) writeSizes(w writer) {
	w("## Image size\n\n")
	w("As built by the Makefile (upstream Go, `-buildmode=c-shared -trimpath -ldflags='-s -w'`: no symbol table, no DWARF), ")
	w("gzipped at the best level (about what a registry transfers: OCI layers are gzipped tarballs), ")
	w("and after Binaryen's `wasm-opt -Oz`. \"Conforms\" is `internal/wasmtest`'s check of what Envoy requires of a module; ")
	w("\"serves alike\" means the optimized image answered 50 requests with the same responses and the same host calls as the original. ")
	w("The bound of an image as built is %s for a single-filter example and %s for the chain; the tutorial's peers are not examples and are not optimized.\n\n", mb(maxFilterImage), mb(maxChainImage))
	w("| Image | As built | gzip | wasm-opt -Oz | gzip | Conforms | Serves alike | Over its bound by |\n|---|---:|---:|---:|---:|---|---|---:|\n")
	var saved, savedGzip, built, builtGzip int
	entries := map[string]int{} // image path → how many entries run it
	for _, p := range r.plugins {
		entries[p.path]++
	}
	shown := map[string]bool{}
	for _, p := range r.plugins {
		// One row per image: the jwt example's two entries share one,
		// named by the example.
		if shown[p.path] && p.path != "" {
			continue
		}
		shown[p.path] = true
		s := r.sizes[p.String()]
		if entries[p.path] > 1 && p.path != "" {
			p.label = ""
		}
		o, ok := s.opt["-Oz"]
		over := "—"
		if bound, ok := sizeBound(p); ok && s.built > bound {
			over = mb(s.built - bound)
		}
		if !ok {
			w("| %s | %s | %s | not run | | | | %s |\n", p, mb(s.built), mb(s.builtGzip), over)
			continue
		}
		if o.err != nil {
			w("| %s | %s | %s | failed: %s | | | | %s |\n", p, mb(s.built), mb(s.builtGzip), oneLine(o.err.Error()), over)
			continue
		}
		w("| %s | %s | %s | %s (%s) | %s (%s) | %s | %s | %s |\n", p, mb(s.built), mb(s.builtGzip),
			mb(o.size), percent(o.size, s.built), mb(o.gzip), percent(o.gzip, s.builtGzip), conforms(o), serves(o), over)
		saved += s.built - o.size
		savedGzip += s.builtGzip - o.gzip
		built += s.built
		builtGzip += s.builtGzip
	}
	if built > 0 {
		w("\nOver all images, `-Oz` saves %.1f%% of the bytes as built but %.1f%% of the gzipped bytes a registry transfers. ",
			100*float64(saved)/float64(built), 100*float64(savedGzip)/float64(builtGzip))
		r.writeOptSpeed(w)
	}
	w("\n")
}

// writeDeps writes the size breakdown: each image's function code by
// dependency, then what is not function code.
func (r *results) writeDeps(w writer) {
	var names []string
	for _, p := range images(r.plugins) {
		if _, ok := r.deps[p.name]; ok {
			names = append(names, p.name)
		}
	}
	if len(names) == 0 {
		return
	}
	w("## Size by dependency\n\n")
	w("Function code in KB (1000 bytes) by the package it belongs to, from the function names of an unstripped build of each image ")
	w("(the Makefile's flags without `-ldflags='-s -w'`: the same code, checked byte for byte in size, with a name section). ")
	w("Functions outside any package (the runtime's assembly, the stubs of exported functions) count for the runtime. ")
	w("The last rows are what is not function code (data, the runtime's type data and tables, the other sections: the image as built less its code) and the image as built. ")
	w("A change that grows an image shows here which dependency grew.\n\n")
	w("| Dependency |")
	for _, n := range names {
		w(" %s |", n)
	}
	w("\n|---|%s\n", strings.Repeat("---:|", len(names)))
	var deps []string
	for _, n := range names {
		for d := range r.deps[n].byDep {
			if !contains(deps, d) {
				deps = append(deps, d)
			}
		}
	}
	row := func(label string, value func(image string) int) {
		w("| %s |", label)
		for _, n := range names {
			if v := value(n); v > 0 {
				w(" %.1f |", float64(v)/1e3)
			} else {
				w(" — |")
			}
		}
		w("\n")
	}
	for _, d := range depOrder(deps) {
		row(d, func(n string) int { return r.deps[n].byDep[d] })
	}
	row("not function code", func(n string) int { return r.sizeOf(n).built - r.deps[n].code })
	row("**image as built**", func(n string) int { return r.sizeOf(n).built })
	w("\n")
}

// sizeOf is the sizes of the image called name (its first entry's: the
// jwt example's two entries share one).
func (r *results) sizeOf(name string) imageSize {
	for _, p := range r.plugins {
		if p.name == name {
			return r.sizes[p.String()]
		}
	}
	return imageSize{}
}

// writeOptSpeed compares the chain's optimized images with the original
// in the timing table, and says how long wasm-opt takes.
func (r *results) writeOptSpeed(w writer) {
	chain := r.times[chainName]
	var parts []string
	var took time.Duration
	for _, level := range chainOptLevels {
		t, ok := r.times[chainName+" (wasm-opt "+level+")"]
		if ok {
			parts = append(parts, fmt.Sprintf("%s %.2f µs", level, t.total))
		}
		if o, ok := r.sizes[chainName].opt[level]; ok && o.took > took {
			took = o.took
		}
	}
	if len(parts) > 0 {
		w("Per request the chain takes %.2f µs as built, %s after wasm-opt. ", chain.total, strings.Join(parts, ", "))
	}
	if took > 0 {
		w("wasm-opt took up to %s on the chain's image here. ", took.Round(time.Second))
	}
	if r.optWorthIt() {
		w("That is worth a build step: run wasm-opt -Oz on the images before they are pushed.\n")
	} else {
		w("That is not worth a build step (a tool, and tens of seconds per image, for a few percent a registry mostly does not see and no speed), so the images stay as built.\n")
	}
}

// optWorthIt reports whether wasm-opt saves at least 5% of the gzipped
// bytes of the chain, or makes it 5% faster.
func (r *results) optWorthIt() bool {
	s := r.sizes[chainName]
	o, ok := s.opt["-Oz"]
	if !ok || o.err != nil || !o.serves {
		return false
	}
	if float64(s.builtGzip-o.gzip) >= 0.05*float64(s.builtGzip) {
		return true
	}
	base := r.times[chainName].total
	for _, level := range chainOptLevels {
		if t, ok := r.times[chainName+" (wasm-opt "+level+")"]; ok && t.total <= 0.95*base {
			return true
		}
	}
	return false
}

func percent(now, before int) string {
	return fmt.Sprintf("%+.1f%%", 100*float64(now-before)/float64(before))
}

func conforms(o optimized) string {
	switch {
	case o.why != "" && o.violations == nil && !o.serves:
		return "not checked: " + oneLine(o.why)
	case len(o.violations) == 0:
		return "yes"
	}
	var vs []string
	for _, v := range o.violations {
		vs = append(vs, v.Error())
	}
	return "no: " + oneLine(strings.Join(vs, "; "))
}

func serves(o optimized) string {
	if o.serves {
		return "yes"
	}
	return "no: " + oneLine(o.why)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
