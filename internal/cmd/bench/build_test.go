package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// buildVariant builds the image of internal/testdata/NAME or examples/NAME
// as the Makefile does, with extra go build arguments (a -tags list; the
// Makefile's flags without the stripping -ldflags when unstripped), into a
// temporary directory, and returns its path.
func buildVariant(t *testing.T, name string, unstripped bool, extra ...string) string {
	t.Helper()
	root := wasmtest.Root()
	src := "./examples/" + name
	if _, err := os.Stat(filepath.Join(root, "examples", name, "main.go")); err != nil {
		src = "./internal/testdata/" + name
	}
	out := filepath.Join(t.TempDir(), name+".wasm")
	args := []string{"build", "-buildmode=c-shared", "-trimpath"}
	if !unstripped {
		args = append(args, "-ldflags=-s -w")
	}
	args = append(append(args, extra...), "-o", out, src)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, msg)
	}
	return out
}
