package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// baselineImages are the images built at each baseline revision: the
// chain, two single-filter examples and, where the revision has it, the
// library's peer of the tutorial (run proxy-wide). A revision without one
// of them has no row for it.
var baselineImages = []string{chainName, "ratelimit", "headermutate", tutorialLibName}

// baseline is one revision's images, built to be measured in the same run
// as the current tree's.
type baseline struct {
	rev     string   // as given
	short   string   // its abbreviated commit hash: labels and build/baseline/<short>
	subject string   // the first line of its commit message: what the change was
	plugins []plugin // what was built, in baselineImages order
	notes   []string // what could not be built, and why
}

// buildBaselines builds each revision's images (see buildBaseline).
func buildBaselines(root string, revs, flags []string) ([]baseline, error) {
	if len(revs) > 0 && len(flags) == 0 {
		return nil, fmt.Errorf("-baseline needs the images' go build flags after --, as make bench passes them")
	}
	// The images are built with the worktree as the working directory, so
	// their output paths must not be relative.
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	var out []baseline
	for _, rev := range revs {
		b, err := buildBaseline(root, rev, flags)
		if err != nil {
			return nil, fmt.Errorf("baseline %s: %w", rev, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// buildBaseline checks rev out into a temporary git worktree (removed
// after), builds baselineImages there with flags (GOOS=wasip1 GOARCH=wasm,
// as the Makefile builds) into build/baseline/<short>/, and their allocstats
// variants into build/baseline/<short>/allocstats/. A revision older than
// internal/bridge/allocstats.go gets this tree's copy of it for those,
// which only adds the two counter exports. Each image runs with the
// configuration the revision's example has.
func buildBaseline(root, rev string, flags []string) (baseline, error) {
	b := baseline{rev: rev}
	short, err := git(root, "rev-parse", "--short", "--verify", rev+"^{commit}")
	if err != nil {
		return b, err
	}
	b.short = short
	if b.subject, err = git(root, "log", "-1", "--format=%s", short); err != nil {
		return b, err
	}
	tmp, err := os.MkdirTemp("", "bench-baseline-")
	if err != nil {
		return b, err
	}
	defer os.RemoveAll(tmp)
	tree := filepath.Join(tmp, "tree")
	if _, err := git(root, "worktree", "add", "--detach", tree, short); err != nil {
		return b, err
	}
	defer func() {
		if _, err := git(root, "worktree", "remove", "--force", tree); err != nil {
			log.Printf("baseline %s: %v", rev, err)
		}
	}()
	out := filepath.Join(root, "build", "baseline", short)
	if err := os.MkdirAll(filepath.Join(out, "allocstats"), 0o755); err != nil {
		return b, err
	}
	counters, err := ensureAllocStats(root, tree)
	if err != nil {
		b.notes = append(b.notes, "no allocation counts: "+err.Error())
	}
	for _, name := range baselineImages {
		src, config := "", []byte(nil)
		switch {
		case exists(filepath.Join(tree, "examples", name, "main.go")):
			src = "./examples/" + name
			if config, err = os.ReadFile(filepath.Join(tree, "examples", name, "config.json")); err != nil {
				b.notes = append(b.notes, fmt.Sprintf("%s: %v", name, err))
				continue
			}
		case exists(filepath.Join(tree, "internal", "testdata", name, "main.go")):
			src, config = "./internal/testdata/"+name, tutorialLibConfig("proxy")
		default:
			continue // not in this revision
		}
		label := name
		if name == tutorialLibName {
			label = libProxyLabel
		}
		p := plugin{name: name, label: label + " @" + short, rev: short, path: filepath.Join(out, name+".wasm"), config: config}
		if err := goBuild(tree, flags, p.path, src); err != nil {
			b.notes = append(b.notes, fmt.Sprintf("%s not built: %v", name, err))
			continue
		}
		if p.wasm, err = os.ReadFile(p.path); err != nil {
			return b, err
		}
		if counters {
			alloc := filepath.Join(out, "allocstats", name+".wasm")
			if err := goBuild(tree, append(append([]string(nil), flags...), "-tags", "policy_allocstats"), alloc, src); err != nil {
				b.notes = append(b.notes, fmt.Sprintf("%s: no allocation counts: %v", name, err))
			} else {
				p.allocPath = alloc
			}
		}
		b.plugins = append(b.plugins, p)
	}
	return b, nil
}

// ensureAllocStats gives the worktree tree this tree's
// internal/bridge/allocstats.go if it has a bridge without one, and
// reports whether its images can be built with the counters.
func ensureAllocStats(root, tree string) (bool, error) {
	const file = "internal/bridge/allocstats.go"
	dst := filepath.Join(tree, filepath.FromSlash(file))
	if exists(dst) {
		return true, nil
	}
	if !exists(filepath.Dir(dst)) {
		return false, fmt.Errorf("the revision has no internal/bridge")
	}
	src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
	if err != nil {
		return false, err
	}
	return true, os.WriteFile(dst, src, 0o644)
}

// goBuild builds the package src of the module in dir into out, for
// wasip1/wasm with flags.
func goBuild(dir string, flags []string, out, src string) error {
	return goBuildEnv(dir, nil, flags, out, src)
}

// goBuildEnv is goBuild with env (KEY=value) added to the environment.
func goBuildEnv(dir string, env, flags []string, out, src string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, src)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm"), env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, oneLine(string(bytes.TrimSpace(msg))))
	}
	return nil
}

// git runs git in the repository at root and returns its output, trimmed.
func git(root string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
