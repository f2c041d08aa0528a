package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The script runs under node with Envoy's flags and times every image of
// every turn; a tiny module stands in for the images (an empty module and
// one with a function), so the test stays fast.
func TestV8CompileTimes(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on PATH; make bench requires it")
	}
	dir := t.TempDir()
	empty := []byte("\x00asm\x01\x00\x00\x00")
	// One type () -> (), one function of it with an empty body.
	oneFunc := append(append([]byte(nil), empty...), 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0b)
	var ps []plugin
	for name, wasm := range map[string][]byte{noopName: empty, "one": oneFunc} {
		path := filepath.Join(dir, name+".wasm")
		if err := os.WriteFile(path, wasm, 0o644); err != nil {
			t.Fatal(err)
		}
		p := plugin{name: name, path: path}
		if name == noopName {
			ps = append([]plugin{p}, ps...)
		} else {
			ps = append(ps, p, p) // two entries of one image
		}
	}
	got, err := measureV8(ps, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[noopName].ratio != 1 || got["one"].ms <= 0 {
		t.Errorf("figures %+v", got)
	}

	bad := filepath.Join(dir, "bad.wasm")
	if err := os.WriteFile(bad, []byte("not wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := measureV8([]plugin{ps[0], {name: "bad", path: bad}}, 1); err == nil || !strings.Contains(err.Error(), "CompileError") {
		t.Errorf("a module V8 rejects: error %v, want node's CompileError", err)
	}
}

func TestV8WithoutNodeFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := measureV8([]plugin{{name: noopName, path: "noop.wasm"}}, 1)
	if err == nil || !strings.Contains(err.Error(), "Node.js") {
		t.Errorf("error %v, want one saying Node.js is needed", err)
	}
}

func TestV8Figures(t *testing.T) {
	got, err := v8Figures([]string{noopName, "chain"}, [][]float64{{100, 200, 150}, {300, 500, 600}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Within the turns: 3, 2.5, 4 (median 3); the medians' ratio would be 3.33.
	if c := got["chain"]; c.ms != 500 || c.ratio != 3 {
		t.Errorf("chain %+v, want 500 ms and 3×", c)
	}
	if _, err := v8Figures([]string{noopName}, [][]float64{{1, 2}}, 3); err == nil {
		t.Error("two times for three turns: no error")
	}
}
