package policytest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/prometheus"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/metrics/metricstest"
)

// fatalTB records the first Fatalf of the function it runs instead of
// failing the test.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

// fails runs fn with a fatalTB and returns the message it failed with, ""
// if it did not.
func fails(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg
}

func TestBuild(t *testing.T) {
	wasm := Build(t, "../internal/testdata/noop")
	if !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		t.Fatalf("Build returned %d bytes that are not a Wasm module", len(wasm))
	}
	if again := Build(t, "../internal/testdata/noop"); &again[0] != &wasm[0] {
		t.Error("a second Build of the package in the same directory built it again")
	}
	p := Start(t, wasm, "")
	if res := p.Do(Request{Path: "/x"}); res.Status != 200 || res.Forwarded.Path() != "/x" {
		t.Errorf("the built plugin answered %d", res.Status)
	}

	// The compiler's errors reach the test.
	dir := t.TempDir()
	bad := filepath.Join(dir, "main.go")
	if err := os.WriteFile(bad, []byte("package main\n\nfunc main() { undefined() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	msg := fails(t, func(tb testing.TB) { Build(tb, bad) })
	for _, want := range []string{"policytest.Build(", "GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath '-ldflags=-s -w' -o ", "undefined: undefined"} {
		if !strings.Contains(msg, want) {
			t.Errorf("a package that does not compile: the failure lacks %q:\n%s", want, msg)
		}
	}
}

func TestFailures(t *testing.T) {
	wasm := image(t, "hostprobe")
	for _, c := range []struct {
		name string
		fn   func(tb testing.TB)
		want string
	}{
		{"a refused configuration", func(tb testing.TB) { Start(tb, wasm, "refuse") },
			"the plugin did not start: the plugin refused to start (proxy_on_configure failed): hostprobe: configured to refuse"},
		{"a configuration that starts", func(tb testing.TB) { Refused(tb, wasm, "fine") }, "the plugin started with the configuration fine"},
		{"not a plugin", func(tb testing.TB) { Start(tb, []byte("\x00asm\x01\x00\x00\x00"), "") },
			"the plugin did not start: a WebAssembly module, but not a proxy-wasm plugin"},
		{"not Wasm", func(tb testing.TB) { Start(tb, []byte("filters: []"), "") },
			`the plugin did not start: not a WebAssembly module: a .wasm file starts with "\x00asm", this one with "filters:"`},
		{"a missing file", func(tb testing.TB) { Load(tb, "../build/nosuch.wasm") }, "policytest.Load: open ../build/nosuch.wasm: no such file"},
		{"an unknown metric", func(tb testing.TB) { Start(tb, wasm, "").Counter("hostprobe_nosuch") },
			"the plugin defined no counter hostprobe_nosuch with the tags []; its counters include:\nhostprobe_requests_total\nhostprobe_ticks_total"},
		{"a metric of another type", func(tb testing.TB) { Start(tb, wasm, "").Counter("hostprobe_inflight") }, "no counter hostprobe_inflight"},
		{"tags not in pairs", func(tb testing.TB) { Start(tb, wasm, "").Counter("x", "filter") }, `the tags of x are not key, value pairs: ["filter"]`},
		{"no VM 1", func(tb testing.TB) { Start(tb, wasm, "").VM(1) }, "VM 1 of a plugin with 1 VMs"},
		{"no workers", func(tb testing.TB) { Start(tb, wasm, "", Workers(0)) }, "Workers(0)"},
	} {
		if msg := fails(t, c.fn); !strings.Contains(msg, c.want) {
			t.Errorf("%s: failed with %q, want %q", c.name, msg, c.want)
		}
	}
}

// The Prometheus names and labels are those the metrics package's own
// Envoy emulation (metricstest.Series) gives, for every metric of the
// chain example.
func TestPrometheusAgreesWithMetricstest(t *testing.T) {
	p := Start(t, image(t, "chain"), string(Load(t, "../examples/chain/config.json")))
	p.Do(Request{})
	ms := p.host.Metrics()
	tags, err := prometheus.StatsTags(ms)
	if err != nil {
		t.Fatal(err)
	}
	keys := metrics.Keys()
	for _, k := range host.TagKeys(ms) {
		if !strings.Contains(strings.Join(keys, " ")+" ", k+" ") {
			keys = append(keys, k)
		}
	}
	documented, err := metrics.StatsTags(keys...)
	if err != nil {
		t.Fatal(err)
	}
	text := p.Prometheus()
	for _, m := range ms {
		want, err := metricstest.Series(m.Name, documented)
		if err != nil {
			t.Fatal(err)
		}
		family, labels, ok, err := host.PrometheusSeries(m.Name, tags)
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", m.Name, ok, err)
		}
		got := family
		if len(labels) > 0 {
			parts := make([]string, len(labels))
			for i, l := range labels {
				parts[i] = l[0] + "=" + fmt.Sprintf("%q", l[1])
			}
			got += "{" + strings.Join(parts, ",") + "}"
		}
		if got != want {
			t.Errorf("%s: %s, metricstest says %s", m.Name, got, want)
		}
		if m.Type == host.Counter && !strings.Contains(text, "\n"+want+" ") {
			t.Errorf("Prometheus() lacks the series %s", want)
		}
	}
	if len(ms) < 30 {
		t.Errorf("the chain defined only %d metrics", len(ms))
	}
}
