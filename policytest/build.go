package policytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// BuildFlags are the flags Build gives go build, with GOOS=wasip1 and
// GOARCH=wasm: a WASI reactor (-buildmode=c-shared exports _initialize,
// which Envoy calls before any callback) without debug information, as
// this module's Makefile builds its images.
var BuildFlags = []string{"-buildmode=c-shared", "-trimpath", "-ldflags=-s -w"}

// built holds what Build compiled in this process, by directory and
// package.
var built sync.Map // string → *buildResult

type buildResult struct {
	once sync.Once
	wasm []byte
	err  string
}

// Build compiles the plugin in package pkg with upstream Go, as
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w' PKG
//
// run in the test's directory (pkg is "./cmd/myplugin", "..", or an import
// path), and returns the module. The go command is the one that runs the
// test (GOROOT's, else the one on PATH), with the test's environment
// (GOFLAGS, GOWORK, ...). Go's build cache makes a build of unchanged
// sources quick, and a package is built once per test binary; the first
// build of a module's dependencies for wasip1 takes half a minute or so. The
// test fails with the compiler's output if the package does not build.
func Build(tb testing.TB, pkg string) []byte {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	v, _ := built.LoadOrStore(dir+"\x00"+pkg, &buildResult{})
	r := v.(*buildResult)
	r.once.Do(func() {
		out, err := os.MkdirTemp("", "policytest-build-")
		if err != nil {
			r.err = err.Error()
			return
		}
		defer os.RemoveAll(out)
		file := filepath.Join(out, "plugin.wasm")
		args := append(append([]string{"build"}, BuildFlags...), "-o", file, pkg)
		cmd := exec.Command(goCommand(), args...)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		var output bytes.Buffer
		cmd.Stdout, cmd.Stderr = &output, &output
		if err := cmd.Run(); err != nil {
			r.err = "GOOS=wasip1 GOARCH=wasm go " + strings.Join(quoted(args), " ") + ": " + err.Error() + "\n" + output.String()
			return
		}
		if r.wasm, err = os.ReadFile(file); err != nil {
			r.err = err.Error()
		}
	})
	if r.err != "" {
		tb.Fatalf("policytest.Build(%q) in %s:\n%s", pkg, dir, r.err)
	}
	return r.wasm
}

func quoted(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if strings.ContainsAny(a, " '") {
			out[i] = "'" + a + "'"
		}
	}
	return out
}

// goCommand is the go command of the toolchain that runs the test.
func goCommand() string {
	if root := runtime.GOROOT(); root != "" {
		name := filepath.Join(root, "bin", "go")
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		if _, err := os.Stat(name); err == nil {
			return name
		}
	}
	return "go"
}

// Load reads a compiled plugin (a .wasm file: make's output, a TinyGo
// build, an image's plugin.wasm), relative to the test's directory. A
// missing file fails the test, so that a test of the compiled plugin is
// never silently skipped.
func Load(tb testing.TB, path string) []byte {
	tb.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("policytest.Load: %v", err)
	}
	return wasm
}
