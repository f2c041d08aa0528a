package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Most of what the size targets miss by comes from outside this module:
// github.com/tidwall/gjson registers its stock modifiers in a map literal
// in its init function, and the linker keeps whatever an init references.
// The @pretty and @ugly modifiers call github.com/tidwall/pretty, whose
// string parsing calls encoding/json.Unmarshal, which links encoding/json's
// decoder, reflect and, through encoding/json's errors, fmt. So the bench
// builds every image again against a copy of gjson whose init omits those
// two entries (build/nomodifiers/NAME.wasm), and the report gives both
// sizes. The copy lives in a temporary directory with a go.work that
// replaces the gjson version go.mod requires; nothing else changes.

const gjsonModule = "github.com/tidwall/gjson"

// gjsonModifierLines are the init's entries the variant leaves out: each
// a line of the map literal, with any spacing gofmt gives it.
var gjsonModifierLines = []struct {
	entry string
	line  *regexp.Regexp
}{
	{`"pretty": modPretty,`, regexp.MustCompile(`(?m)^\s*"pretty":\s*modPretty,[ \t]*\n`)},
	{`"ugly": modUgly,`, regexp.MustCompile(`(?m)^\s*"ugly":\s*modUgly,[ \t]*\n`)},
}

// prettyUse matches a use of the pretty package: one of its exported
// names.
var prettyUse = regexp.MustCompile(`\bpretty\.[A-Z]`)

// withoutModifiers is what the run measured of the images built without
// gjson's @pretty and @ugly modifiers.
type withoutModifiers struct {
	gjson string         // the module patched, path@version
	sizes map[string]int // each image as built without them, by image name
	// deps is each image's function code by dependency, from an unstripped
	// build of the variant: what remains over the bounds even then.
	deps map[string]imageCode
}

// patchGjson removes the @pretty and @ugly entries from the init function
// of gjson.go's source. It fails when either is not found exactly once in
// the init, which means gjson changed and the experiment needs a look. The
// functions modPretty and modUgly stay (unreferenced, the linker drops
// them); should the pretty package no longer be used, its import is made
// blank so that the file still compiles.
func patchGjson(src []byte) ([]byte, error) {
	start := bytes.Index(src, []byte("\nfunc init() {\n"))
	if start < 0 {
		return nil, errors.New("gjson changed: gjson.go has no func init() registering the stock modifiers")
	}
	end := bytes.Index(src[start:], []byte("\n}\n"))
	if end < 0 {
		return nil, errors.New("gjson changed: gjson.go's func init() has no end")
	}
	init := src[start : start+end+1]
	for _, m := range gjsonModifierLines {
		if n := len(m.line.FindAllIndex(init, -1)); n != 1 {
			return nil, fmt.Errorf("gjson changed: the init function of gjson.go has %d lines `%s`, where the bench removes exactly one", n, m.entry)
		}
		init = m.line.ReplaceAll(init, nil)
	}
	out := append(append(append([]byte(nil), src[:start]...), init...), src[start+end+1:]...)
	const imp = "\t\"github.com/tidwall/pretty\"\n"
	if !prettyUse.Match(out) && bytes.Contains(out, []byte(imp)) {
		out = bytes.Replace(out, []byte(imp), []byte("\t_ \"github.com/tidwall/pretty\"\n"), 1)
	}
	return out, nil
}

// gjsonWorkspace copies the gjson module go.mod requires into dir, patches
// its gjson.go (patchGjson), and writes dir/go.work, which uses the module
// at root and replaces gjson with the copy. It returns the go.work's path
// and the module's path@version.
func gjsonWorkspace(root, dir string) (gowork, module string, err error) {
	cmd := exec.Command("go", "list", "-m", "-json", gjsonModule)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off") // the version go.mod requires
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -m %s: %v: %s", gjsonModule, err, strings.TrimSpace(stderr.String()))
	}
	var m struct{ Path, Version, Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", "", fmt.Errorf("go list -m %s: %v", gjsonModule, err)
	}
	if m.Dir == "" {
		return "", "", fmt.Errorf("%s@%s is not in the module cache (go mod download %s)", m.Path, m.Version, m.Path)
	}
	module = m.Path + "@" + m.Version
	copyDir := filepath.Join(dir, "gjson")
	if err := copyTree(m.Dir, copyDir); err != nil {
		return "", "", err
	}
	file := filepath.Join(copyDir, "gjson.go")
	src, err := os.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	patched, err := patchGjson(src)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", module, err)
	}
	if err := os.WriteFile(file, patched, 0o644); err != nil {
		return "", "", err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", "", err
	}
	gowork = filepath.Join(dir, "go.work")
	// Paths quoted: go.work takes Go string syntax, so any path fits.
	work := fmt.Sprintf("go 1.26\n\nuse %s\n\nreplace %s %s => %s\n", strconv.Quote(abs), m.Path, m.Version, strconv.Quote(copyDir))
	return gowork, module, os.WriteFile(gowork, []byte(work), 0o644)
}

// copyTree copies the regular files under src to dst, writable (the module
// cache's are read-only).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// buildWithoutModifiers builds each image of ps with a size bound (the
// examples and the chain; once per image) against the patched gjson with
// flags, the Makefile's, into build/nomodifiers/NAME.wasm, and unstripped
// (flags without -ldflags='-s -w') into build/nomodifiers/names/NAME.wasm
// for its code by dependency. An output newer than the image as built is
// kept: make rebuilds the images whenever a source, go.mod or go.sum
// changes.
func buildWithoutModifiers(root string, ps []plugin, flags []string) (withoutModifiers, error) {
	nm := withoutModifiers{sizes: map[string]int{}, deps: map[string]imageCode{}}
	if len(flags) == 0 {
		return nm, fmt.Errorf("the images' go build flags must follow --, as make bench passes them")
	}
	tmp, err := os.MkdirTemp("", "bench-nomodifiers-")
	if err != nil {
		return nm, err
	}
	defer os.RemoveAll(tmp)
	gowork, module, err := gjsonWorkspace(root, tmp)
	if err != nil {
		return nm, err
	}
	nm.gjson = module
	dir := filepath.Join(root, "build", "nomodifiers")
	if err := os.MkdirAll(filepath.Join(dir, "names"), 0o755); err != nil {
		return nm, err
	}
	env := []string{"GOWORK=" + gowork}
	for _, p := range images(ps) {
		if _, bounded := sizeBound(p); !bounded {
			continue
		}
		out := filepath.Join(dir, p.name+".wasm")
		if err := buildIfOlder(root, env, flags, p, out); err != nil {
			return nm, err
		}
		wasm, err := os.ReadFile(out)
		if err != nil {
			return nm, err
		}
		nm.sizes[p.name] = len(wasm)
		names := filepath.Join(dir, "names", p.name+".wasm")
		if err := buildIfOlder(root, env, unstripped(flags), p, names); err != nil {
			return nm, err
		}
		b, err := os.ReadFile(names)
		if err != nil {
			return nm, err
		}
		if nm.deps[p.name], err = namedCode(names, b, out, wasm); err != nil {
			return nm, err
		}
	}
	return nm, nil
}

// buildIfOlder builds p's package into out unless out is newer than p's
// image as built.
func buildIfOlder(root string, env, flags []string, p plugin, out string) error {
	in, err := os.Stat(p.path)
	if err != nil {
		return err
	}
	if st, err := os.Stat(out); err == nil && !st.ModTime().Before(in.ModTime()) {
		return nil
	}
	log.Printf("building %s without gjson's @pretty and @ugly", out)
	return goBuildEnv(root, env, flags, out, source(root, p.name))
}

// source is the package NAME.wasm is built from, as the Makefile's src:
// examples/NAME or internal/testdata/NAME.
func source(root, name string) string {
	if exists(filepath.Join(root, "examples", name, "main.go")) {
		return "./examples/" + name
	}
	return "./internal/testdata/" + name
}

// unstripped is flags without -ldflags='-s -w', as bench.mk's
// GO_NAMES_FLAGS: the same code with a name section.
func unstripped(flags []string) []string {
	var out []string
	for _, f := range flags {
		if f != "-ldflags=-s -w" {
			out = append(out, f)
		}
	}
	return out
}

// namedCode reads the function code by dependency of names, the
// unstripped build at path, and checks that its code is that of wasm, the
// image as built at builtPath.
func namedCode(path string, names []byte, builtPath string, wasm []byte) (imageCode, error) {
	named, err := readCode(names)
	if err != nil {
		return imageCode{}, fmt.Errorf("%s: %w", path, err)
	}
	funcs, err := named.functions()
	if err != nil {
		return imageCode{}, fmt.Errorf("%s: %w", path, err)
	}
	built, err := readCode(wasm)
	if err != nil {
		return imageCode{}, fmt.Errorf("%s: %w", builtPath, err)
	}
	if built.codeBytes() != named.codeBytes() || built.count() != named.count() {
		return imageCode{}, fmt.Errorf("%s has %d bytes of code in %d functions, %s %d in %d: build both from the same tree (make bench does)",
			path, named.codeBytes(), named.count(), builtPath, built.codeBytes(), built.count())
	}
	return imageCode{byDep: codeByDep(funcs), code: named.codeBytes()}, nil
}
