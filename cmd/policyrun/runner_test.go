package main

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wasmpolicy/policy/internal/tinygo"
)

// The dispatcher's test chain (build/testchain.wasm) with the configuration
// next to its source, which has a step of every kind: each request step
// adds its id to the request's x-trace, the response step to the response's.
const testchainConfig = "../../internal/testdata/testchain/config.json"

func TestRunnerThroughTestchain(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "yes")
		fmt.Fprint(w, "from upstream")
	})
	callout := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
	base, _ := startRunner(t, "testchain", "-config", testchainConfig, "-upstream", up.srv.URL,
		"-cluster", "callout="+callout.srv.URL)

	for _, c := range []struct {
		name        string
		method      string
		body        string
		headers     []string
		status      int
		respBody    string
		upstream    bool
		upstreamTag string // the x-body the upstream sees
	}{
		{"allowed", "GET", "", nil, 200, "from upstream", true, ""},
		{"with a body", "POST", "hello", nil, 200, "from upstream", true, "b:hello"},
		{"denied", "GET", "", []string{"X-Deny", "1"}, 403, "denied by deny", false, ""},
		{"paused for a callout", "GET", "", []string{"X-Pause", "1"}, 200, "from upstream", true, ""},
		{"panicking filter", "GET", "", []string{"X-Panic", "1"}, 500, "internal error in policy filter\n", false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tinygo.SkipIfCannot(t)
			before := up.count()
			resp, body := do(t, c.method, base+"/items?q=1", c.body, c.headers...)
			if resp.StatusCode != c.status || body != c.respBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, c.status, c.respBody)
			}
			if got := resp.Header.Values("X-Trace"); strings.Join(got, ",") != "r" {
				t.Errorf("response X-Trace %q, want the response step's r (a local reply goes through the response phase)", got)
			}
			if (up.count() > before) != c.upstream {
				t.Fatalf("upstream reached: %v, want %v", up.count() > before, c.upstream)
			}
			if !c.upstream {
				if c.status == 403 && resp.Header.Get("X-Denied-By") != "deny" {
					t.Errorf("X-Denied-By %q, want the denying step's id", resp.Header.Get("X-Denied-By"))
				}
				return
			}
			seen, seenBody := up.last(t)
			if got := seen.Header.Values("X-Trace"); strings.Join(got, ",") != "a,deny,wait,boom" {
				t.Errorf("upstream X-Trace %q, want one entry per request step", got)
			}
			if seen.Header.Get("X-Body") != c.upstreamTag || seenBody != c.body {
				t.Errorf("upstream X-Body %q body %q, want %q %q", seen.Header.Get("X-Body"), seenBody, c.upstreamTag, c.body)
			}
			if seen.URL.RequestURI() != "/items?q=1" || seen.Method != c.method || seen.Header.Get("X-Request-Id") == "" {
				t.Errorf("upstream got %s %s (x-request-id %q)", seen.Method, seen.URL.RequestURI(), seen.Header.Get("X-Request-Id"))
			}
			if resp.Header.Get("X-Upstream") != "yes" {
				t.Error("the upstream's response headers were lost")
			}
		})
	}
	if n := callout.count(); n != 1 {
		t.Fatalf("the callout cluster got %d calls, want 1", n)
	}
	if r, _ := callout.last(t); r.URL.Path != "/wait" {
		t.Errorf("callout to %s, want /wait", r.URL.Path)
	}
}

// build/hostprobe.wasm (internal/testdata/hostprobe) mutates request and
// response headers and bodies, keeps a request count in shared data, and
// traps on /trap.
func TestRunnerMutationsAndConcurrency(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream-Secret", "s3cret")
		fmt.Fprint(w, "upstream")
	})
	base, _ := startRunner(t, "hostprobe", "-upstream", up.srv.URL, "-route", "probe-route", "-workers", "3")

	resp, body := do(t, "POST", base+"/", "payload", "X-Replace", "a", "X-Replace", "b", "X-Remove", "x")
	seen, seenBody := up.last(t)
	if got := seen.Header.Values("X-Probe"); strings.Join(got, ",") != "seen,twice" {
		t.Errorf("upstream X-Probe %q, want the two values the plugin added", got)
	}
	if got := seen.Header.Values("X-Replace"); strings.Join(got, ",") != "replaced" || seen.Header.Get("X-Remove") != "" {
		t.Errorf("upstream X-Replace %q, X-Remove %q; want replaced and removed", got, seen.Header.Get("X-Remove"))
	}
	if seenBody != "PAYLOAD" {
		t.Errorf("upstream body %q, want the plugin's PAYLOAD", seenBody)
	}
	if resp.StatusCode != 200 || body != "upstream|probe" || resp.Header.Get("X-Upstream-Secret") != "" {
		t.Errorf("got %d %q secret %q, want 200, the extended body, and the secret removed", resp.StatusCode, body, resp.Header.Get("X-Upstream-Secret"))
	}
	if resp.Header.Get("X-Probe-Route") != "probe-route" || !strings.HasPrefix(resp.Header.Get("X-Probe-Source"), "127.0.0.1:") {
		t.Errorf("properties seen: route %q source %q", resp.Header.Get("X-Probe-Route"), resp.Header.Get("X-Probe-Source"))
	}

	// A stream the plugin closes is reset: the client gets no response.
	if resp, err := http.Get(base + "/close"); err == nil {
		resp.Body.Close()
		t.Errorf("/close answered %d, want the connection reset", resp.StatusCode)
	}

	// Concurrent requests over three VMs: every count from the shared data
	// is handed out exactly once (the counts before depend on how often the
	// client retried /close).
	const n = 30
	var mu sync.Mutex
	var counts []int
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(base + "/c")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			c, _ := strconv.Atoi(resp.Header.Get("X-Probe-Count"))
			mu.Lock()
			counts = append(counts, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Ints(counts)
	for i, c := range counts {
		if c != counts[0]+i || counts[0] < 2 {
			t.Fatalf("counts %v, want %d consecutive counts, each once", counts, n)
		}
	}
}

func TestRunnerTrapAnswers503(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
	base, log := startRunner(t, "hostprobe", "-upstream", up.srv.URL, "-workers", "1")
	if resp, _ := do(t, "GET", base+"/", ""); resp.StatusCode != 200 {
		t.Fatalf("before the trap: %d", resp.StatusCode)
	}
	for _, path := range []string{"/trap", "/", "/"} {
		if resp, _ := do(t, "GET", base+path, ""); resp.StatusCode != 503 {
			t.Errorf("%s after the trap: %d, want 503", path, resp.StatusCode)
		}
	}
	if up.count() != 1 {
		t.Errorf("the upstream got %d requests, want only the one before the trap", up.count())
	}
	for _, want := range []string{"panic: hostprobe: trap requested", "[critical] host: plugin VM 1 trapped in proxy_on_request_headers"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}

// Bodies through the runner: a body a filter replaces reaches the upstream
// whole (the runner gives it its own content-length), and a request body
// over body_limit is answered with 413 by the dispatcher.
func TestRunnerBodies(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "from upstream") })
	config := writeFile(t, `{"body_limit": 16, "filters": [
		{"name": "step", "id": "req", "config": {"phase": "request_body", "set_body": "replaced!"}}]}`)
	base, _ := startRunner(t, "testchain", "-config", config, "-upstream", up.srv.URL)

	resp, body := do(t, "POST", base+"/items", "hello")
	seen, seenBody := up.last(t)
	if resp.StatusCode != 200 || body != "from upstream" || seenBody != "replaced!" || seen.ContentLength != 9 {
		t.Errorf("got %d %q; the upstream got %q (content-length %d), want the replaced body, 9 bytes", resp.StatusCode, body, seenBody, seen.ContentLength)
	}
	before := up.count()
	resp, body = do(t, "POST", base+"/items", "12345678901234567")
	if resp.StatusCode != 413 || body != "request body too large\n" || up.count() != before {
		t.Errorf("a 17-byte body over a limit of 16: %d %q (upstream reached: %v), want 413 from the dispatcher", resp.StatusCode, body, up.count() != before)
	}
}
