//go:build !wasip1

// Command wasmimage packages a compiled proxy-wasm plugin, any .wasm, as
// the OCI image Istio's agent pulls for a WasmPlugin's url: oci://...; it
// pushes the image to a registry and pulls it back the way the agent does.
// No Docker engine is needed. From a module of your own, with the command
// as a tool of the module (go mod edit -tool=github.com/wasmpolicy/policy/cmd/wasmimage,
// then go mod tidy), so that go.sum holds what it needs:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w' -o plugin.wasm .
//	go tool wasmimage build -out oci -tag v1 plugin.wasm
//	go tool wasmimage push registry.example.com/team oci/plugin
//
// then, in the WasmPlugin, url: oci://registry.example.com/team/plugin:v1
// (or the digest push prints: oci://registry.example.com/team/plugin@sha256:...).
//
// The image is what `FROM scratch` and `COPY plugin.wasm ./` build: one
// gzipped tar layer holding one file, plugin.wasm, the config saying os
// wasip1 and architecture wasm. It is reproducible: its times are the Unix
// epoch, or $SOURCE_DATE_EPOCH when set, so the same module gives the same
// digest. See package internal/oci of this module for the choice of
// format.
//
//	wasmimage build [-out DIR] [-tag TAG] FILE.wasm...
//	    writes DIR/NAME (default build/oci/NAME) as an OCI image layout for
//	    each FILE.wasm, NAME being the file's base name without .wasm, and
//	    prints "NAME DIGEST". Other tools read the layout too:
//	    skopeo copy oci:DIR/NAME docker://REGISTRY/NAME:TAG.
//	wasmimage push [-tag TAG] REGISTRY LAYOUT...
//	    pushes each layout as REGISTRY/NAME:TAG (NAME the layout's directory
//	    name; TAG defaults to the tag the layout was built with) and prints
//	    the pushed reference by digest. Credentials come from the Docker
//	    configuration, as for docker push: $DOCKER_CONFIG/config.json or
//	    ~/.docker/config.json, with its credential helpers (docker login,
//	    crane auth login and gcloud auth configure-docker write it). A
//	    registry on a loopback or private address is reached over plain
//	    HTTP, any other over HTTPS.
//	wasmimage fetch REF FILE
//	    pulls REF the way Istio's agent does and writes the module to FILE.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wasmpolicy/policy/internal/oci"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// A subcommand's -h: its flags are printed.
	case err != nil:
		fmt.Fprintln(os.Stderr, "wasmimage:", err)
		os.Exit(2)
	}
}

const usage = `usage:
  wasmimage build [-out DIR] [-tag TAG] FILE.wasm...
  wasmimage push [-tag TAG] REGISTRY LAYOUT...
  wasmimage fetch REF FILE`

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage+"\n\nSee go doc github.com/wasmpolicy/policy/cmd/wasmimage.")
		return nil
	case "build":
		return build(args[1:], stdout)
	case "push":
		return push(ctx, args[1:], stdout)
	case "fetch":
		return fetch(ctx, args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

func build(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	out := fs.String("out", filepath.Join("build", "oci"), "directory to write the image layouts in")
	tag := fs.String("tag", "latest", "tag recorded in each layout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("build: no .wasm files given\n" + usage)
	}
	created, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	for _, file := range fs.Args() {
		name := strings.TrimSuffix(filepath.Base(file), ".wasm")
		wasm, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		img, err := oci.Image(wasm, oci.Options{
			Created:     created,
			Annotations: map[string]string{"org.opencontainers.image.title": name},
		})
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := oci.WriteLayout(filepath.Join(*out, name), img, *tag); err != nil {
			return err
		}
		digest, err := img.Digest()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, name, digest)
	}
	return nil
}

// sourceDateEpoch reads the reproducible-builds convention SOURCE_DATE_EPOCH
// (seconds since the Unix epoch); the zero time, meaning the epoch itself,
// when it is unset.
func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since the Unix epoch", s)
	}
	return time.Unix(sec, 0), nil
}

func push(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	tag := fs.String("tag", "", "tag to push as (default: the layout's tag)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return errors.New("push: want a registry and at least one layout\n" + usage)
	}
	registry := strings.TrimSuffix(strings.TrimPrefix(fs.Arg(0), "oci://"), "/")
	for _, dir := range fs.Args()[1:] {
		img, layoutTag, err := oci.ReadLayout(dir)
		if err != nil {
			return err
		}
		t := *tag
		if t == "" {
			t = layoutTag
		}
		ref := registry + "/" + filepath.Base(filepath.Clean(dir)) + ":" + t
		pushed, err := oci.Push(ctx, img, ref)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, pushed)
	}
	return nil
}

func fetch(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("fetch: want a reference and a file\n" + usage)
	}
	wasm, digest, err := oci.Fetch(ctx, strings.TrimPrefix(args[0], "oci://"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(args[1], wasm, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(stdout, args[1], digest)
	return nil
}
