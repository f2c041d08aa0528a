package main

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

func TestBaselineErrors(t *testing.T) {
	root := wasmtest.Root()
	if _, err := buildBaselines(root, []string{"HEAD"}, nil); err == nil || !strings.Contains(err.Error(), "after --") {
		t.Errorf("without build flags: error %v", err)
	}
	before, err := git(root, "worktree", "list")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := buildBaselines(root, []string{"no-such-revision"}, []string{"-trimpath"}); err == nil || !strings.Contains(err.Error(), "no-such-revision") {
		t.Errorf("an unknown revision: error %v", err)
	}
	if after, _ := git(root, "worktree", "list"); after != before {
		t.Errorf("worktrees before:\n%s\nafter:\n%s", before, after)
	}
}

// A baseline's rows come before this tree's, in the same columns; its
// timings stay out of the time table and the chart.
func TestBeforeAndAfterSection(t *testing.T) {
	r := sampleResults()
	old := plugin{name: chainName, label: chainName + " @9fd84c0", rev: "9fd84c0", wasm: make([]byte, 5_250_000)}
	r.baselines = []baseline{{rev: "9fd84c0", short: "9fd84c0", subject: "internal/prometheus: one rendering", plugins: []plugin{old}, notes: []string{"tutoriallib: not built"}}}
	r.times[old.String()] = timing{total: 28.28, ratio: 7.28}
	r.calls[old.String()] = hostCalls{proxy: map[string]float64{"proxy_get_property": 7}}
	r.allocs[old.String()] = allocStats{mallocs: 14}
	md := r.markdown("BENCHMARKS.svg")
	for _, want := range []string{
		"## Before and after",
		"| `9fd84c0` | chain | 28.28 | 7.28 | 14 | 7 | 5.25 MB |\n| this tree | chain | 12.00 | 6.00 | 14 | 7 | 3.60 MB |\n",
		"- `9fd84c0`: tutoriallib: not built",
		"- `9fd84c0` — internal/prometheus: one rendering\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(md, "- `9fd84c0`: chain is byte for byte") {
		t.Error("an image that differs from this tree's is called the same")
	}
	if contains(r.timedPlugins(), old.String()) {
		t.Errorf("the time table lists the baseline: %v", r.timedPlugins())
	}
	// A baseline image with this tree's bytes is said to be the same.
	for _, p := range r.plugins {
		if p.name == chainName {
			r.baselines[0].plugins[0].wasm = p.wasm
		}
	}
	if want := "- `9fd84c0`: chain is byte for byte this tree's image"; !strings.Contains(r.markdown("x.svg"), want) {
		t.Errorf("the report lacks %q", want)
	}
	if strings.Contains(sampleResults().markdown("x.svg"), "## Before and after") {
		t.Error("a run without baselines has a before-and-after section")
	}
}
