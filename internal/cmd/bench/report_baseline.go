package main

import (
	"bytes"
	"strings"
)

// writeBaselines states the effect of the changes since each baseline
// revision: the same images and measures, before and after, from this run.
func (r *results) writeBaselines(w writer) {
	if len(r.baselines) == 0 {
		return
	}
	w("## Before and after\n\n")
	w("Images built from earlier revisions (a git worktree of each, removed after; the same go build flags) and measured in this run, ")
	w("in the same rounds as this tree's images: times and the ratio are against this tree's no-op plugin, taken within each round. ")
	w("Allocations come from each revision's allocstats build; a revision older than `internal/bridge/allocstats.go` is built with this tree's copy of that file, which only adds the two counter exports. ")
	w("The library's peer of the tutorial (`tutoriallib`, proxy-wide) has a row where the revision has it. Each revision is the tree after the commit named below it: comparing a row with the one before says what the commits between them did.\n\n")
	w("| Tree | Image | Time (µs) | × no-op | Go mallocs/request | proxy-wasm calls | Size as built |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, b := range r.baselines {
		tree := "`" + b.short + "`"
		if b.rev != b.short {
			tree += " (" + b.rev + ")"
		}
		for _, p := range b.plugins {
			r.writeBaselineRow(w, tree, p)
		}
	}
	for _, name := range baselineImages {
		label := name
		if name == tutorialLibName {
			label = libProxyLabel
		}
		for _, p := range r.plugins {
			if p.String() == label {
				r.writeBaselineRow(w, "this tree", p)
			}
		}
	}
	w("\n")
	for _, b := range r.baselines {
		w("- `%s` — %s\n", b.short, oneLine(b.subject))
	}
	w("\n")
	noted := false
	for _, b := range r.baselines {
		if same := r.sameAsThisTree(b.plugins); len(same) > 0 {
			verb, images := "is", "image"
			if len(same) > 1 {
				verb, images = "are", "images"
			}
			w("- `%s`: %s %s byte for byte this tree's %s: a difference in time there is this machine's noise between identical images.\n", b.short, andList(same), verb, images)
			noted = true
		}
		for _, n := range b.notes {
			w("- `%s`: %s\n", b.short, oneLine(n))
			noted = true
		}
	}
	if noted {
		w("\n")
	}
}

// sameAsThisTree names the baseline images whose bytes are this tree's
// image of the same name.
func (r *results) sameAsThisTree(baseline []plugin) []string {
	var same []string
	for _, b := range baseline {
		for _, p := range r.plugins {
			if p.String() == strings.TrimSuffix(b.String(), " @"+b.rev) && bytes.Equal(p.wasm, b.wasm) {
				same = append(same, b.name)
				break
			}
		}
	}
	return same
}

func (r *results) writeBaselineRow(w writer, tree string, p plugin) {
	t, c := r.times[p.String()], r.calls[p.String()]
	mallocs := "not measured"
	if a, ok := r.allocs[p.String()]; ok {
		mallocs = num(a.mallocs)
	}
	w("| %s | %s | %.2f | %.2f | %s | %s | %s |\n", tree, p.name, t.total, t.ratio, mallocs, num(c.proxyTotal()), mb(len(p.wasm)))
}
