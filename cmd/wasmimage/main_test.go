//go:build !wasip1

package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// TestMain lets a test run the command itself in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("WASMIMAGE_TEST_MAIN") == "1" {
		os.Args = append([]string{"wasmimage"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var module = append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("wasm"), 500)...)

func writeModules(t *testing.T, names ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for i, name := range names {
		f := filepath.Join(dir, name+".wasm")
		if err := os.WriteFile(f, append(module, byte(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("wasmimage %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

// build, push and fetch end to end against an in-memory registry.
func TestBuildPushFetch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	files := writeModules(t, "alpha", "beta")
	out := filepath.Join(t.TempDir(), "oci")
	built := strings.Fields(runCmd(t, append([]string{"build", "-out", out, "-tag", "v1"}, files...)...))
	if len(built) != 4 || built[0] != "alpha" || built[2] != "beta" || !strings.HasPrefix(built[1], "sha256:") {
		t.Fatalf("build printed %q, want name and digest per module", built)
	}

	pushed := strings.Fields(runCmd(t, "push", "oci://"+host+"/policy/", filepath.Join(out, "alpha"), filepath.Join(out, "beta")+"/"))
	want := []string{host + "/policy/alpha@" + built[1], host + "/policy/beta@" + built[3]}
	if strings.Join(pushed, " ") != strings.Join(want, " ") {
		t.Fatalf("push printed %q, want %q", pushed, want)
	}
	runCmd(t, "push", "-tag", "v2", host+"/policy", filepath.Join(out, "alpha"))

	for _, ref := range []string{host + "/policy/alpha:v1", "oci://" + host + "/policy/alpha:v2", pushed[0]} {
		file := filepath.Join(t.TempDir(), "plugin.wasm")
		fetched := strings.Fields(runCmd(t, "fetch", ref, file))
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if src, _ := os.ReadFile(files[0]); !bytes.Equal(got, src) || fetched[1] != built[1] {
			t.Errorf("fetch %s: digest %s (want %s), module equal %v", ref, fetched[1], built[1], bytes.Equal(got, src))
		}
	}
}

// Two builds in separate processes, in different time zones and with
// different umasks, write byte-identical layouts; SOURCE_DATE_EPOCH
// changes the digest.
func TestBuildReproducibleAcrossProcesses(t *testing.T) {
	files := writeModules(t, "chain")
	build := func(env ...string) (string, string) {
		out := t.TempDir()
		cmd := exec.Command("sh", "-c", `umask "$1"; shift; exec "$@"`, "sh")
		cmd.Args = append(cmd.Args, env[0], os.Args[0], "build", "-out", out, files[0])
		cmd.Env = append(os.Environ(), append([]string{"WASMIMAGE_TEST_MAIN=1"}, env[1:]...)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		return string(b), out
	}
	d1, out1 := build("022", "TZ=UTC", "SOURCE_DATE_EPOCH=")
	d2, out2 := build("077", "TZ=Asia/Tokyo", "SOURCE_DATE_EPOCH=")
	if d1 != d2 || !strings.HasPrefix(d1, "chain sha256:") {
		t.Fatalf("digests differ: %q, %q", d1, d2)
	}
	if err := exec.Command("diff", "-r", out1, out2).Run(); err != nil {
		t.Errorf("layouts differ: %v", err)
	}
	d3, _ := build("022", "SOURCE_DATE_EPOCH=1700000000")
	if d3 == d1 {
		t.Error("SOURCE_DATE_EPOCH did not change the digest")
	}
}

func TestErrors(t *testing.T) {
	files := writeModules(t, "x")
	notWasm := filepath.Join(t.TempDir(), "y.wasm")
	if err := os.WriteFile(notWasm, []byte("text"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		env  string
		args []string
		want string
	}{
		{args: nil, want: "usage"},
		{args: []string{"bake"}, want: `unknown command "bake"`},
		{args: []string{"build"}, want: "no .wasm files"},
		{args: []string{"build", "-out", t.TempDir(), notWasm}, want: "not a WebAssembly module"},
		{args: []string{"build", "-out", t.TempDir(), "-tag", "bad:tag", files[0]}, want: "invalid tag"},
		{env: "soon", args: []string{"build", "-out", t.TempDir(), files[0]}, want: "SOURCE_DATE_EPOCH"},
		{args: []string{"push", "127.0.0.1:1/x"}, want: "at least one layout"},
		{args: []string{"push", "127.0.0.1:1/x", t.TempDir()}, want: "index.json"},
		{args: []string{"fetch", "x"}, want: "want a reference and a file"},
	}
	for _, c := range cases {
		t.Setenv("SOURCE_DATE_EPOCH", c.env)
		err := run(context.Background(), c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("wasmimage %q: %v, want an error with %q", c.args, err, c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"build", "-h"}} {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "WASMIMAGE_TEST_MAIN=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("wasmimage %q: %v, want exit 0\n%s", args, err, out)
		}
		if want := "usage:\n  wasmimage build"; args[0] != "build" && !strings.Contains(string(out), want) {
			t.Errorf("wasmimage %q does not print the usage:\n%s", args, out)
		}
		if args[0] == "build" && !strings.Contains(string(out), "-out string") {
			t.Errorf("wasmimage build -h does not print its flags:\n%s", out)
		}
	}
}
