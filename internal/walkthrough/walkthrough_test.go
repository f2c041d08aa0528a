//go:build unix

package walkthrough

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"gopkg.in/yaml.v3"

	"github.com/wasmpolicy/policy/internal/oci"
)

const (
	modulePath = "github.com/wasmpolicy/policy"
	heading    = "## Your own plugin"
	// registryHost is the registry the section pushes to; the test pushes
	// to one of its own instead.
	registryHost = "registry.example.com"
)

// A block is a fenced code block of the section.
type block struct {
	lang  string
	text  string
	line  int    // README.md's line of the block's first line
	intro string // the paragraph before the block, its lines joined by spaces
	after string // the paragraph after the block, likewise
}

// A command is a command line of an sh block.
type command struct {
	text  string
	line  int
	block int // its block's index
}

// section reads the README's section: its code blocks in order, and its
// prose (lines outside blocks, joined by spaces).
func section(t *testing.T, root string) (blocks []block, prose string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(readme), "\n")
	start := -1
	for i, l := range lines {
		if l == heading {
			start = i + 1
			break
		}
	}
	if start < 0 {
		t.Fatalf("README.md has no section %q", heading)
	}
	var para, lastPara, text []string
	pending := -1 // the block whose next paragraph is its after
	endPara := func() {
		if len(para) == 0 {
			return
		}
		if pending >= 0 {
			blocks[pending].after = strings.Join(para, " ")
			pending = -1
		}
		lastPara, para = para, nil
	}
	for i := start; i < len(lines) && !strings.HasPrefix(lines[i], "## "); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "```"):
			endPara()
			b := block{lang: strings.TrimSpace(l[3:]), line: i + 2, intro: strings.Join(lastPara, " ")}
			for i++; i < len(lines) && lines[i] != "```"; i++ {
				b.text += lines[i] + "\n"
			}
			blocks = append(blocks, b)
			pending, lastPara = len(blocks)-1, nil
		case strings.TrimSpace(l) == "":
			endPara()
		default:
			para = append(para, strings.TrimSpace(l))
			text = append(text, strings.TrimSpace(l))
		}
	}
	endPara()
	return blocks, strings.Join(text, " ")
}

// commands are the command lines of the sh blocks: a line ending in a
// backslash goes on on the next; blank lines and comments are skipped.
func commands(blocks []block) []command {
	var out []command
	for bi, b := range blocks {
		if b.lang != "sh" {
			continue
		}
		var cur string
		for i, l := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
			if cur == "" && (strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#")) {
				continue
			}
			if s, ok := strings.CutSuffix(l, "\\"); ok {
				cur += s
				continue
			}
			out = append(out, command{text: cur + l, line: b.line + i, block: bi})
			cur = ""
		}
	}
	return out
}

// codeSpan is inline code in the prose.
var codeSpan = regexp.MustCompile("`([^`]+)`")

func spans(text string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

var namedFile = regexp.MustCompile("^`([A-Za-z0-9_.-]+\\.go)`")

// fileName is the file a go block is: the paragraph before it starts by
// naming it (`main.go` chains ...).
func fileName(b block) (string, bool) {
	m := namedFile.FindStringSubmatch(b.intro)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// goBin is the directory of the go command of the toolchain running the
// test, put first on the commands' PATH; "" if it cannot be found.
func goBin() string {
	if bin := filepath.Join(runtime.GOROOT(), "bin"); runtime.GOROOT() != "" {
		if _, err := os.Stat(filepath.Join(bin, "go")); err == nil {
			return bin
		}
	}
	return ""
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.HasPrefix(string(gomod), "module "+modulePath+"\n") {
		t.Fatalf("%s is not the module's root: %v", root, err)
	}
	return root
}

func TestWalkthrough(t *testing.T) {
	root := repoRoot(t)
	blocks, prose := section(t, root)
	cmds := commands(blocks)
	if len(cmds) < 5 {
		t.Fatalf("found %d commands in the section %q: the search is broken", len(cmds), heading)
	}

	// An empty Docker configuration: the pushes here are anonymous, to
	// the test's registry, whatever this machine's credentials are.
	t.Setenv("DOCKER_CONFIG", t.TempDir())

	t.Run("checkout", func(t *testing.T) {
		w := newWalk(t, root, blocks, prose, cmds)
		w.run()
	})

	t.Run("published", func(t *testing.T) {
		var get string
		for _, s := range spans(prose) {
			if strings.HasPrefix(s, "go get "+modulePath+"@") {
				get = s
			}
		}
		if get == "" {
			t.Fatalf("the section does not say what to go get once the module is published")
		}
		w := newWalk(t, root, blocks, prose, cmds)
		w.published = get
		version, proxy := serveModule(t, root)
		t.Logf("the working tree is served as %s@%s", modulePath, version)
		w.env = append(w.env,
			"GOPROXY=file://"+filepath.ToSlash(proxy)+","+goEnv(t, "GOPROXY"),
			"GONOSUMDB="+modulePath)
		w.run()
	})
}

// A walk runs the section once, in a directory of its own.
type walk struct {
	t         *testing.T
	root      string
	blocks    []block
	prose     string
	cmds      []command
	env       []string
	dir       string   // the current directory, which cd moves
	subst     []string // old, new: the adapted addresses
	servers   []*proc
	published string // the go get that replaces the replace directive
	registry  string // host:port of the test's registry

	outputs map[int][]string // the stdout of each sh block's commands
	digests map[string]bool  // the image digests the commands printed
}

func newWalk(t *testing.T, root string, blocks []block, prose string, cmds []command) *walk {
	w := &walk{t: t, root: root, blocks: blocks, prose: prose, cmds: cmds, dir: t.TempDir(),
		outputs: map[int][]string{}, digests: map[string]bool{}}
	path := os.Getenv("PATH")
	if bin := goBin(); bin != "" {
		path = bin + string(os.PathListSeparator) + path
	}
	w.env = append(os.Environ(), "PATH="+path, "GOWORK=off", "GOTOOLCHAIN=local")

	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	w.registry = strings.TrimPrefix(reg.URL, "http://")
	w.subst = append(w.subst, registryHost, w.registry)
	t.Logf("pushing to %s in place of %s", w.registry, registryHost)

	// Loopback ports the section uses that are taken here.
	seen := map[string]bool{}
	for _, c := range cmds {
		for _, addr := range loopback.FindAllString(c.text, -1) {
			if seen[addr] {
				continue
			}
			seen[addr] = true
			ln, err := net.Listen("tcp", addr)
			if err == nil {
				ln.Close()
				continue
			}
			free, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			w.subst = append(w.subst, addr, free.Addr().String())
			free.Close()
			t.Logf("%s is taken on this machine: using %s in its place", addr, free.Addr())
		}
	}
	t.Cleanup(func() {
		for _, s := range w.servers {
			s.stop()
		}
	})
	return w
}

// adapt applies the address substitutions to a command.
func (w *walk) adapt(text string) string {
	for i := 0; i+1 < len(w.subst); i += 2 {
		text = strings.ReplaceAll(text, w.subst[i], w.subst[i+1])
	}
	return text
}

var replaceFlag = regexp.MustCompile(`-replace=` + regexp.QuoteMeta(modulePath) + `=(\S+)`)

func (w *walk) run() {
	t := w.t
	for bi, b := range w.blocks {
		switch b.lang {
		case "go":
			name, ok := fileName(b)
			if !ok {
				t.Fatalf("README.md:%d: the paragraph before the go block does not start by naming its file (`main.go` ...)", b.line)
			}
			if err := os.WriteFile(filepath.Join(w.dir, name), []byte(b.text), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("README.md:%d: wrote %s", b.line, name)
		case "sh":
			w.shBlock(bi)
		case "text":
			if bi == 0 || w.blocks[bi-1].lang != "sh" {
				t.Fatalf("README.md:%d: a text block that does not follow an sh block", b.line)
			}
		case "yaml":
			// Checked once everything ran.
		default:
			t.Fatalf("README.md:%d: the walkthrough does not know what to do with a %q block", b.line, b.lang)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	for _, s := range w.servers {
		s.stop()
	}
	w.deployment()
	w.reproducible()
	w.docs()
}

func (w *walk) shBlock(bi int) {
	t := w.t
	var mine []int
	for i, c := range w.cmds {
		if c.block == bi {
			mine = append(mine, i)
		}
	}
	var expected *block
	if bi+1 < len(w.blocks) && w.blocks[bi+1].lang == "text" {
		expected = &w.blocks[bi+1]
	}
	for k, i := range mine {
		c := w.cmds[i]
		w.stopServers(i)
		text := c.text
		if m := replaceFlag.FindStringSubmatch(text); m != nil {
			if w.published != "" {
				t.Logf("README.md:%d: %s\n\tin place of %s", c.line, w.published, text)
				text = w.published
			} else {
				checkout := filepath.Join(w.dir, m[1])
				copyTree(t, w.root, checkout)
				t.Logf("README.md:%d: a copy of the working tree at %s", c.line, m[1])
			}
		}
		adapted := w.adapt(text)
		if runsRunner(adapted) && !strings.Contains(adapted, "-listen") {
			// The runner's default address, adapted if taken.
			if a := w.adapt("127.0.0.1:8080"); a != "127.0.0.1:8080" {
				adapted += " -listen " + a
			}
		}
		if adapted != text {
			t.Logf("README.md:%d: run as %s", c.line, adapted)
		}
		last := k == len(mine)-1
		out := w.exec(c, adapted, last && expected != nil, expected)
		w.outputs[bi] = append(w.outputs[bi], out)
	}
	w.checkAfter(bi)
}

// runsRunner reports whether a command line runs the local runner.
func runsRunner(text string) bool {
	f := strings.Fields(text)
	return len(f) >= 3 && f[0] == "go" &&
		(f[1] == "tool" && f[2] == "policyrun" || f[1] == "run" && strings.HasSuffix(f[2], "/cmd/policyrun"))
}

// stopServers stops the servers that no command from the i-th on uses.
func (w *walk) stopServers(i int) {
	kept := w.servers[:0]
	for _, s := range w.servers {
		used := false
		for _, c := range w.cmds[i:] {
			for _, a := range s.addrs {
				if strings.Contains(w.adapt(c.text), a) {
					used = true
				}
			}
		}
		if used {
			kept = append(kept, s)
		} else {
			s.stop()
		}
	}
	w.servers = kept
}

var (
	statusComment = regexp.MustCompile(`#\s*(\d{3})\b`)
	serving       = regexp.MustCompile(`serving http://(\S+)`)
	metricsOn     = regexp.MustCompile(`metrics on http://([^/\s]+)`)
	okLine        = regexp.MustCompile(`(?m)^ok\s`)
	loopback      = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// exec runs one command line and checks it; it returns its standard
// output.
func (w *walk) exec(c command, text string, wantOutput bool, expected *block) string {
	t := w.t
	started := time.Now()
	deadline := started.Add(5 * time.Second)
	tries := 0
	for {
		p := w.start(text)
		select {
		case <-p.done:
		case <-p.serving:
			w.servers = append(w.servers, p)
			t.Logf("README.md:%d: %s\n\tserves %s (after %s)", c.line, text, strings.Join(p.addrs, " and "), time.Since(started).Round(100*time.Millisecond))
			return ""
		case <-time.After(5 * time.Minute):
			p.stop()
			t.Fatalf("README.md:%d: %s: still running after 5 minutes\n%s", c.line, text, p.output())
		}
		if p.err != nil {
			t.Fatalf("README.md:%d: %s: %v\n%s", c.line, text, p.err, p.output())
		}
		w.dir = p.pwd
		stdout := p.stdout.String()
		tries++
		logDone := func() {
			note := ""
			if tries > 1 {
				note = fmt.Sprintf(", asked %d times", tries)
			}
			t.Logf("README.md:%d: %s (%s%s)", c.line, text, time.Since(started).Round(100*time.Millisecond), note)
		}

		if m := statusComment.FindStringSubmatch(commentOf(c.text)); m != nil && strings.HasPrefix(c.text, "curl ") {
			first, _, _ := strings.Cut(stdout, "\n")
			if f := strings.Fields(first); len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") || f[1] != m[1] {
				t.Errorf("README.md:%d: %s: the README says %s, the response is\n%s", c.line, text, m[1], stdout)
			}
		}
		if f := strings.Fields(c.text); len(f) >= 2 && f[0] == "go" && f[1] == "test" {
			if !okLine.MatchString(stdout) || strings.Contains(stdout, "no test files") {
				t.Errorf("README.md:%d: %s ran no test:\n%s", c.line, text, p.output())
			}
		}
		if !wantOutput {
			logDone()
			return stdout
		}
		if stdout == w.adapt(expected.text) {
			logDone()
			return stdout
		}
		if time.Now().After(deadline) {
			logDone()
			t.Errorf("README.md:%d: %s printed\n%s\nREADME.md:%d shows\n%s", c.line, text, stdout, expected.line, expected.text)
			return stdout
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// commentOf is the shell comment ending a command line, if any.
func commentOf(line string) string {
	if i := strings.Index(line, " #"); i >= 0 {
		return line[i+1:]
	}
	return ""
}

var (
	// digestSpan is an output the prose shows in inline code, "sha256:..."
	// standing for a digest.
	digestSpan = regexp.MustCompile(`sha256:\.\.\.`)
	// digestRE is a digest a command prints.
	digestRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)
)

// checkAfter checks the outputs the paragraph after an sh block shows.
func (w *walk) checkAfter(bi int) {
	t := w.t
	var shown []string
	for _, s := range spans(w.blocks[bi].after) {
		if digestSpan.MatchString(s) {
			shown = append(shown, s)
		}
	}
	if len(shown) == 0 {
		return
	}
	outs := w.outputs[bi]
	if len(shown) != len(outs) {
		t.Errorf("README.md:%d: the paragraph after the block shows %d outputs for its %d commands: %q", w.blocks[bi].line, len(shown), len(outs), shown)
		return
	}
	for i, s := range shown {
		pattern := "^" + strings.ReplaceAll(regexp.QuoteMeta(w.adapt(s)), regexp.QuoteMeta("sha256:..."), "sha256:[0-9a-f]{64}") + "\n$"
		if !regexp.MustCompile(pattern).MatchString(outs[i]) {
			t.Errorf("README.md:%d: command %d of the block printed %q; the README shows `%s`", w.blocks[bi].line, i+1, outs[i], s)
		}
		for _, d := range digestRE.FindAllString(outs[i], -1) {
			w.digests[d] = true
		}
	}
	if len(w.digests) != 1 {
		t.Errorf("README.md:%d: the block's commands printed different digests: %v", w.blocks[bi].line, w.digests)
	}
}

// deployment pulls the image the WasmPlugin names, as Istio's agent does,
// and compares it with the plugin the section built.
func (w *walk) deployment() {
	t := w.t
	var manifest *block
	for i := range w.blocks {
		if w.blocks[i].lang == "yaml" {
			manifest = &w.blocks[i]
		}
	}
	if manifest == nil {
		t.Fatalf("the section shows no WasmPlugin")
	}
	var plugin struct {
		Kind string
		Spec struct{ URL string }
	}
	if err := yaml.Unmarshal([]byte(manifest.text), &plugin); err != nil {
		t.Fatalf("README.md:%d: %v", manifest.line, err)
	}
	ref, ok := strings.CutPrefix(plugin.Spec.URL, "oci://")
	if plugin.Kind != "WasmPlugin" || !ok {
		t.Fatalf("README.md:%d: not a WasmPlugin with an oci:// url: %+v", manifest.line, plugin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wasm, digest, err := oci.Fetch(ctx, w.adapt(ref))
	if err != nil {
		t.Fatalf("README.md:%d: the WasmPlugin's url: %v", manifest.line, err)
	}
	built, err := os.ReadFile(filepath.Join(w.dir, "plugin.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wasm, built) {
		t.Errorf("README.md:%d: %s holds a module of %d bytes, not the plugin.wasm of %d bytes the section built", manifest.line, ref, len(wasm), len(built))
	}
	if !w.digests[digest.String()] {
		t.Errorf("README.md:%d: %s is %s, not the image the commands printed (%v)", manifest.line, ref, digest, w.digests)
	}
	t.Logf("README.md:%d: %s pulls back as the plugin built (%s)", manifest.line, plugin.Spec.URL, digest)
}

// reproducible runs the section's image build again: the digest must be
// the same.
func (w *walk) reproducible() {
	t := w.t
	for _, c := range w.cmds {
		if !strings.Contains(c.text, "wasmimage build") {
			continue
		}
		time.Sleep(time.Second) // a build that read the clock would differ
		p := w.start(w.adapt(c.text))
		<-p.done
		if p.err != nil {
			t.Fatalf("README.md:%d: %s, again: %v\n%s", c.line, c.text, p.err, p.output())
		}
		d := digestRE.FindString(p.stdout.String())
		if !w.digests[d] {
			t.Errorf("README.md:%d: %s, again, printed %q: not the digest of the first build (%v)", c.line, c.text, p.stdout.String(), w.digests)
		} else {
			t.Logf("README.md:%d: %s, again: the same digest", c.line, c.text)
		}
		return
	}
	t.Errorf("the section builds no image")
}

// docs runs every go doc the section names, in the plugin's module.
func (w *walk) docs() {
	t := w.t
	n := 0
	for _, s := range spans(w.prose) {
		if !strings.HasPrefix(s, "go doc ") {
			continue
		}
		n++
		p := w.start(s)
		<-p.done
		if p.err != nil || len(strings.TrimSpace(p.stdout.String())) == 0 {
			t.Errorf("%s: %v\n%s", s, p.err, p.output())
		} else {
			t.Logf("%s: documented", s)
		}
	}
	if n == 0 {
		t.Errorf("the section names no go doc")
	}
}

// A proc is a command line running under sh, in a process group of its
// own.
type proc struct {
	cmd     *exec.Cmd
	stdout  lockedBuffer
	stderr  lockedBuffer
	done    chan struct{} // closed when it exited
	serving chan struct{} // closed when it said where it serves
	err     error
	pwd     string // the directory it ended in
	addrs   []string
	once    sync.Once
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (p *proc) output() string {
	return p.stdout.String() + p.stderr.String()
}

// start runs text in the walk's directory. The line runs as written; sh
// then reports the directory it ended in on descriptor 3, so that a cd
// carries over to the next line.
func (w *walk) start(text string) *proc {
	t := w.t
	p := &proc{done: make(chan struct{}), serving: make(chan struct{})}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command("sh", "-c", text+"\nstatus=$?\npwd >&3\nexit $status")
	p.cmd.Dir, p.cmd.Env = w.dir, w.env
	p.cmd.ExtraFiles = []*os.File{pw}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	var pwd []byte
	go func() {
		defer wg.Done()
		pwd, _ = io.ReadAll(pr)
		pr.Close()
	}()
	go func() {
		// Where a server says it serves: its address, and its admin's.
		defer wg.Done()
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			l := lines.Text()
			p.stderr.Write([]byte(l + "\n"))
			if m := metricsOn.FindStringSubmatch(l); m != nil {
				p.addrs = append(p.addrs, m[1])
			}
			if m := serving.FindStringSubmatch(l); m != nil {
				p.addrs = append(p.addrs, m[1])
				close(p.serving)
			}
		}
		io.Copy(&p.stderr, stderr)
	}()
	go func() {
		wg.Wait()
		p.err = p.cmd.Wait()
		p.pwd = strings.TrimSpace(string(pwd))
		close(p.done)
	}()
	return p
}

// stop interrupts the process group, as Ctrl-C would, and kills it if it
// has not ended within 10 seconds.
func (p *proc) stop() {
	p.once.Do(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
}

// copyTree copies the module's working tree to dst: what a checkout holds,
// without .git and the build output.
func copyTree(t *testing.T, root, dst string) {
	t.Helper()
	for _, f := range treeFiles(t, root) {
		to := filepath.Join(dst, filepath.FromSlash(f.rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.rel)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, f.mode.Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

type treeFile struct {
	rel  string // slash-separated, relative to the root
	mode fs.FileMode
}

// treeFiles are the regular files of the working tree but for .git and the
// top-level build directory (.gitignore's /build/), sorted.
func treeFiles(t *testing.T, root string) []treeFile {
	t.Helper()
	var files []treeFile
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if rel == ".git" || rel == "build" {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		files = append(files, treeFile{rel, info.Mode()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	cmd := exec.Command("go", "env", name)
	if bin := goBin(); bin != "" {
		cmd.Path = filepath.Join(bin, "go")
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// serveModule writes a module proxy in a temporary directory (the layout a
// file:// GOPROXY reads) that serves the working tree as one version of the
// module, its pseudo-version made of a hash of the files, so that another
// tree is another version. It returns the version and the directory. The
// version is removed from the module cache when the test ends.
func serveModule(t *testing.T, root string) (version, dir string) {
	t.Helper()
	files := treeFiles(t, root)
	h := sha256.New()
	contents := make([][]byte, len(files))
	for i, f := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.rel)))
		if err != nil {
			t.Fatal(err)
		}
		contents[i] = data
		fmt.Fprintf(h, "%s %d\n", f.rel, len(data))
		h.Write(data)
	}
	when := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	version = "v0.0.0-" + when.Format("20060102150405") + "-" + hex.EncodeToString(h.Sum(nil))[:12]

	dir = t.TempDir()
	at := filepath.Join(dir, filepath.FromSlash(modulePath), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	z := zip.NewWriter(&zipped)
	var gomod []byte
	for i, f := range files {
		// A directory holding a go.mod of its own is another module.
		if hasNestedModule(files, f.rel) {
			continue
		}
		if f.rel == "go.mod" {
			gomod = contents[i]
		}
		hdr := &zip.FileHeader{Name: modulePath + "@" + version + "/" + f.rel, Method: zip.Deflate, Modified: when}
		wr, err := z.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wr.Write(contents[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]any{"Version": version, "Time": when})
	for name, data := range map[string][]byte{
		"list":                         []byte(version + "\n"),
		version + ".info":              info,
		version + ".mod":               gomod,
		version + ".zip":               zipped.Bytes(),
		filepath.Join("..", "@latest"): info,
	} {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { forget(t, version) })
	return version, dir
}

func pathDir(rel string) string {
	if i := strings.LastIndex(rel, "/"); i >= 0 {
		return rel[:i]
	}
	return ""
}

// hasNestedModule reports whether a directory above rel (below the root)
// holds a go.mod.
func hasNestedModule(files []treeFile, rel string) bool {
	for d := pathDir(rel); d != ""; d = pathDir(d) {
		i := sort.Search(len(files), func(i int) bool { return files[i].rel >= d+"/go.mod" })
		if i < len(files) && files[i].rel == d+"/go.mod" {
			return true
		}
	}
	return false
}

// forget removes version of the module from the module cache: the source
// the go command extracted and what it downloaded.
func forget(t *testing.T, version string) {
	cache := goEnv(t, "GOMODCACHE")
	if cache == "" {
		return
	}
	src := filepath.Join(cache, filepath.FromSlash(modulePath)+"@"+version)
	filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			os.Chmod(path, 0o755) // the go command leaves it read-only
		}
		return nil
	})
	if err := os.RemoveAll(src); err != nil {
		t.Errorf("removing %s from the module cache: %v", src, err)
	}
	download := filepath.Join(cache, "cache", "download", filepath.FromSlash(modulePath), "@v")
	matches, _ := filepath.Glob(filepath.Join(download, version+".*"))
	for _, m := range matches {
		os.Remove(m)
	}
	// The list of the versions downloaded, without this one.
	list := filepath.Join(download, "list")
	if data, err := os.ReadFile(list); err == nil {
		var kept []string
		for _, v := range strings.Fields(string(data)) {
			if v != version {
				kept = append(kept, v)
			}
		}
		if len(kept) == 0 {
			os.Remove(list)
		} else {
			os.WriteFile(list, []byte(strings.Join(kept, "\n")+"\n"), 0o644)
		}
	}
	// The directories left empty (os.Remove keeps the others).
	for _, d := range []string{download, filepath.Dir(download), filepath.Dir(filepath.Dir(download)),
		filepath.Dir(src)} {
		os.Remove(d)
	}
}
