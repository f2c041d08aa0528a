package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the start of the test clock. The clock advances a microsecond per
// reading: the Go runtime in the plugin expects time to move.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

// logs collects what a Host logs.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) log(level LogLevel, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level.String()+": "+msg)
}

// find returns the first line containing s.
func (l *logs) find(s string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return line, true
		}
	}
	return "", false
}

// readImage reads build/<name>.wasm; a missing image fails the test with
// the command that builds it.
func readImage(tb testing.TB, name string) []byte {
	tb.Helper()
	dir := "build"
	if d := os.Getenv("POLICY_BUILD_DIR"); d != "" {
		dir = d // make test TOOLCHAIN=tinygo
	}
	wasm, err := os.ReadFile(filepath.Join("..", "..", dir, name+".wasm"))
	if err != nil {
		tb.Fatalf("compiled plugin missing: %v\nbuild it with: make %s/%s.wasm", err, dir, name)
	}
	return wasm
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// newHost loads build/<image>.wasm; cfg.Log and cfg.Clock default to a
// collecting log and the test clock.
func newHost(t *testing.T, image string, cfg Config) (*Host, *logs) {
	t.Helper()
	l := &logs{}
	if cfg.Log == nil {
		cfg.Log = l.log
	}
	if cfg.Clock == nil {
		cfg.Clock = (&testClock{t: t0}).now
	}
	h, err := New(context.Background(), readImage(t, image), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h, l
}

func newVM(t *testing.T, h *Host) *VM {
	t.Helper()
	vm, err := h.NewVM(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

func get(path string, headers ...[2]string) *Request {
	return &Request{Headers: append([][2]string{{":method", "GET"}, {":path", path}, {":authority", "example.com"}, {":scheme", "http"}}, headers...)}
}

// upstream answers every request with resp and remembers what it saw.
type upstream struct {
	mu   sync.Mutex
	seen []*Request
	resp Response
}

func (u *upstream) serve(_ context.Context, r *Request) (*Response, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen = append(u.seen, r)
	resp := u.resp
	if resp.Status == 0 {
		resp = Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte("upstream body"), Details: "via_upstream"}
	}
	return &resp, nil
}

func (u *upstream) last(t *testing.T) *Request {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		t.Fatal("the upstream saw no request")
	}
	return u.seen[len(u.seen)-1]
}

func values(headers [][2]string, name string) []string {
	var out []string
	for _, h := range headers {
		if h[0] == name {
			out = append(out, h[1])
		}
	}
	return out
}

func value(headers [][2]string, name string) string {
	return strings.Join(values(headers, name), ",")
}

func serve(t *testing.T, vm *VM, req *Request, up Upstream) *Response {
	t.Helper()
	resp, err := vm.Serve(context.Background(), req, up)
	if err != nil {
		t.Fatalf("Serve %s: %v", value(req.Headers, ":path"), err)
	}
	return resp
}
