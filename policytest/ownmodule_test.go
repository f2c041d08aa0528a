package policytest

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOwnModule does what the README's "Your own plugin" says, in a module
// of its own outside the repository: its main.go and main_test.go are the
// README's, the module reaches this checkout through a replace directive,
// and everything comes from the module cache (GOPROXY=off). go test there
// builds the plugin to Wasm with policytest.Build and checks a denial, a
// header and a metric; then the public runner, built from that module,
// serves the plugin and its metrics.
func TestOwnModule(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(Load(t, filepath.Join(root, "README.md")))
	_, section, ok := strings.Cut(readme, "\n## Your own plugin\n")
	if !ok {
		t.Fatal(`README.md has no section "Your own plugin"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := fenced(section, "go")
	if len(blocks) != 2 || !strings.Contains(blocks[0], "func init()") || !strings.Contains(blocks[1], "func TestPlugin(") {
		t.Fatalf("the section's Go blocks are not main.go and main_test.go: %q", blocks)
	}

	// The package documentation shows the same test.
	if doc := docExample(string(Load(t, "doc.go"))); doc != blocks[1] {
		t.Errorf("the test in doc.go is not the README's:\n%s", doc)
	}

	dir := t.TempDir()
	gosum := Load(t, filepath.Join(root, "go.sum"))
	files := map[string]string{
		"go.mod": "module example.com/myplugin\n\ngo 1.24\n\nrequire github.com/wasmpolicy/policy v0.0.0\n\n" +
			"replace github.com/wasmpolicy/policy => " + root + "\n",
		"go.sum":       string(gosum),
		"main.go":      blocks[0],
		"main_test.go": blocks[1],
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	gocmd := func(extraEnv []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(goCommand(), args...)
		cmd.Dir, cmd.Env = dir, append(env, extraEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// go mod tidy, as the README says, would also want modules the cache
	// here lacks (the TinyGo-only nottinygc, the tests' dependencies of
	// dependencies); -mod=mod adds what the build needs instead.
	if out := gocmd(nil, "test", "-count=1", "-v", "./..."); !strings.Contains(out, "--- PASS: TestPlugin") || !strings.Contains(out, "--- PASS: TestRefusesFastFlush") {
		t.Fatalf("go test in the plugin's module:\n%s", out)
	}

	// The plugin and the runner, built there.
	gocmd([]string{"GOOS=wasip1", "GOARCH=wasm"}, append(append([]string{"build"}, BuildFlags...), "-o", "plugin.wasm", ".")...)
	gocmd(nil, "build", "-o", "policyrun", "github.com/wasmpolicy/policy/cmd/policyrun")
	if out := gocmd(nil, "run", "github.com/wasmpolicy/policy/cmd/policyrun", "-h"); !strings.Contains(out, "usage: policyrun") {
		t.Errorf("go run .../cmd/policyrun -h:\n%s", out)
	}

	runner := exec.Command(filepath.Join(dir, "policyrun"), "-plugin", "plugin.wasm", "-upstream", "builtin",
		"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0")
	runner.Dir = dir
	stderr, err := runner.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		runner.Process.Signal(os.Interrupt)
		runner.Wait()
	})
	var base, admin string
	var said []string
	lines := bufio.NewScanner(stderr)
	for base == "" && lines.Scan() {
		l := lines.Text()
		said = append(said, l)
		if _, rest, ok := strings.Cut(l, "metrics on http://"); ok {
			admin, _, _ = strings.Cut(rest, "/")
		}
		if _, rest, ok := strings.Cut(l, "serving http://"); ok {
			base = strings.Fields(rest)[0]
		}
	}
	if base == "" || admin == "" {
		t.Fatalf("the runner did not start (%v):\n%s", lines.Err(), strings.Join(said, "\n"))
	}
	go io.Copy(io.Discard, stderr)

	get := func(url string, headers ...string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), "GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	if status, h, _ := get("http://" + base + "/"); status != 403 || h.Get("Who-Am-I") != "wasm-extension" {
		t.Errorf("without allow: %d, who-am-i %q", status, h.Get("Who-Am-I"))
	}
	if status, h, body := get("http://"+base+"/hi", "allow", "true"); status != 200 || body != "hello from the upstream: GET /hi\n" ||
		h.Get("Who-Am-I") != "wasm-extension" {
		t.Errorf("with allow: %d %q, who-am-i %q", status, body, h.Get("Who-Am-I"))
	}
	want := []string{
		`policy_filter_decisions_total{filter="headerauth",decision="denied"} 1`,
		`policy_filter_decisions_total{filter="ratelimit",decision="allowed"} 1`,
		`policy_filter_requests_total{filter="headermutate"} 2`,
	}
	// Each VM sends its counts on its tick, once a second.
	var text string
	missing := want
	for deadline := time.Now().Add(10 * time.Second); len(missing) > 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, _, text = get("http://" + admin + "/stats/prometheus")
		missing = nil
		for _, w := range want {
			if !strings.Contains(text, w+"\n") {
				missing = append(missing, w)
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("/stats/prometheus lacks %q:\n%s", missing, text)
	}
}

// fenced is the text of every fenced code block of language lang in the
// Markdown text md, in order.
func fenced(md, lang string) []string {
	var out []string
	for _, part := range strings.Split(md, "```"+lang+"\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		out = append(out, block)
	}
	return out
}

// docExample is the code block of a doc comment that starts with a package
// clause, its comment markers removed.
func docExample(src string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(src, "\n") {
		if l == "//\tpackage main_test" {
			in = true
		}
		if !in {
			continue
		}
		code, ok := strings.CutPrefix(l, "//\t")
		switch {
		case l == "//":
			code = ""
		case !ok:
			return strings.TrimSuffix(b.String(), "\n") // the blank line after the block
		}
		b.WriteString(code + "\n")
	}
	return b.String()
}
