package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// v8Script times V8's compilation of the images (see the file).
//
//go:embed v8compile.js
var v8Script []byte

// v8Flags run V8 as Envoy runs it: TurboFan only (no Liftoff baseline
// tier) and every function compiled up front (no lazy compilation); and
// with the garbage collector callable from the script.
var v8Flags = []string{"--no-liftoff", "--no-wasm-lazy-compilation", "--expose-gc"}

// v8Compile is one image's compilation time in V8.
type v8Compile struct {
	ms    float64 // median over the repetitions
	ratio float64 // over the no-op plugin's in the same repetition, median
}

// measureV8 compiles each image (each once: entries that share an image
// share its figures) reps times in one node process, the images in turns,
// and returns the figures by image (plugin.image). ps[0] must be the no-op
// plugin.
// Node.js must be on PATH: the run fails without it rather than leave the
// table out.
func measureV8(ps []plugin, reps int) (map[string]v8Compile, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("the V8 compile times need Node.js on PATH (apt-get install -y nodejs): %w", err)
	}
	var names, paths []string
	for _, p := range images(ps) {
		names, paths = append(names, p.image()), append(paths, p.path)
	}
	if len(names) == 0 || names[0] != noopName {
		return nil, errors.New("measureV8: the no-op plugin must come first")
	}
	dir, err := os.MkdirTemp("", "bench-v8")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "v8compile.js")
	if err := os.WriteFile(script, v8Script, 0o644); err != nil {
		return nil, err
	}
	args := append(append(append([]string(nil), v8Flags...), script, fmt.Sprint(reps)), paths...)
	cmd := exec.Command(node, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n    at ") // the error, without node's stack
		return nil, fmt.Errorf("node %v: %w: %s", args, err, msg)
	}
	var times [][]float64
	if err := json.Unmarshal(out, &times); err != nil {
		return nil, fmt.Errorf("node's output %q: %w", out, err)
	}
	return v8Figures(names, times, reps)
}

// v8Figures turns the script's times (one list per image, one time per
// repetition) into medians and ratios to the first image's.
func v8Figures(names []string, times [][]float64, reps int) (map[string]v8Compile, error) {
	if len(times) != len(names) {
		return nil, fmt.Errorf("%d lists of times for %d images", len(times), len(names))
	}
	res := map[string]v8Compile{}
	for i, n := range names {
		if len(times[i]) != reps {
			return nil, fmt.Errorf("%s: %d times for %d repetitions", n, len(times[i]), reps)
		}
		ratios := make([]float64, reps)
		for k := range ratios {
			ratios[k] = times[i][k] / times[0][k]
		}
		res[n] = v8Compile{ms: median(times[i]), ratio: median(ratios)}
	}
	return res, nil
}
