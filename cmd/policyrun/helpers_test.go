package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// output collects what the runner writes to stderr and hands over the
// address it serves once it says so.
type output struct {
	mu    sync.Mutex
	text  strings.Builder
	ready chan string
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.text.Write(p)
	if _, rest, ok := strings.Cut(o.text.String(), "serving http://"); ok && o.ready != nil && strings.Contains(rest, "\n") {
		o.ready <- strings.Fields(rest)[0]
		o.ready = nil
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.text.String()
}

// adminAddr is the admin address the runner said it serves metrics on.
func (o *output) adminAddr(t *testing.T) string {
	t.Helper()
	_, rest, ok := strings.Cut(o.String(), "metrics on http://")
	if !ok {
		t.Fatalf("the runner did not say where its metrics are:\n%s", o)
	}
	addr, _, _ := strings.Cut(rest, "/")
	return addr
}

// startRunner runs the command in-process on a free loopback port, with the
// compiled image build/<image>.wasm, and stops it when the test ends.
func startRunner(t *testing.T, image string, args ...string) (base string, log *output) {
	t.Helper()
	wasmtest.Image(t, image) // fails with the build command if missing
	args = append([]string{"-plugin", wasmtest.ImagePath(image)}, args...)
	args = append(args, "-listen", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	log = &output{ready: ready}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, io.Discard, log) }()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("the runner ended with %v", err)
			}
		})
		return "http://" + addr, log
	case err := <-done:
		cancel()
		t.Fatalf("the runner exited: %v\n%s", err, log)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatalf("the runner did not start\n%s", log)
	}
	return "", nil
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// recorder is an upstream that records the requests it gets.
type recorder struct {
	mu     sync.Mutex
	seen   []*http.Request
	bodies []string
	srv    *httptest.Server
}

func newRecorder(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *recorder {
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.seen, rec.bodies = append(rec.seen, r), append(rec.bodies, string(body))
		rec.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.seen)
}

func (rec *recorder) last(t *testing.T) (*http.Request, string) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) == 0 {
		t.Fatal("the upstream got no request")
	}
	return rec.seen[len(rec.seen)-1], rec.bodies[len(rec.bodies)-1]
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, method, url, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
