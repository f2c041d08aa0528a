package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The tutorials' chain on build/chain.wasm: the rate limit admits two
// requests a second, a request without allow: true is denied, and every
// response carries the injected headers. The configuration is the test's
// own, so that it states exactly what the traffic expects.
const seedConfig = `{"filters":[
	{"name":"headermutate","config":{"response":{"set":{"who-am-i":"wasm-extension","injected-by":"istio-api!"}}}},
	{"name":"headerauth","config":{"header":"allow","values":["true"]}},
	{"name":"ratelimit","config":{"requests_per_unit":2,"unit":"second","deny":{"status":429,"body":"rate limited, wait and retry."}}}
]}`

func TestRunnerThroughChain(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("backend")) })
	base, _ := startRunner(t, "chain", "-config", writeFile(t, seedConfig), "-upstream", up.srv.URL)
	for i, s := range []struct {
		pause  time.Duration
		allow  bool
		status int
		body   string
	}{
		{0, true, 200, "backend"},
		{250 * time.Millisecond, true, 200, "backend"},
		{250 * time.Millisecond, true, 429, "rate limited, wait and retry."},
		{1100 * time.Millisecond, false, 403, ""},
		{0, true, 200, "backend"},
	} {
		time.Sleep(s.pause)
		var headers []string
		if s.allow {
			headers = []string{"allow", "true"}
		}
		resp, body := do(t, "GET", base+"/headers", "", headers...)
		if resp.StatusCode != s.status || (s.body != "" && body != s.body) {
			t.Errorf("request %d: %d %q, want %d %q", i+1, resp.StatusCode, body, s.status, s.body)
		}
		if resp.Header.Get("Who-Am-I") != "wasm-extension" || resp.Header.Get("Injected-By") != "istio-api!" {
			t.Errorf("request %d: the injected headers are missing: %v", i+1, resp.Header)
		}
		if s.status == 429 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("request %d: 429 without retry-after", i+1)
		}
	}
	if up.count() != 3 {
		t.Errorf("the upstream got %d requests, want the 3 allowed ones", up.count())
	}
}

func TestDemo(t *testing.T) {
	wasm := wasmtest.Image(t, "chain")
	var out bytes.Buffer
	o := options{wasm: wasm, config: []byte(seedConfig), workers: 2, log: &bytes.Buffer{}}
	if err := runDemo(context.Background(), o, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	blocks := strings.Split(text, "\n$ curl -i")[1:]
	wantStatus := []string{"200 OK", "200 OK", "429 Too Many Requests", "403 Forbidden", "200 OK"}
	if len(blocks) != len(wantStatus) {
		t.Fatalf("%d requests printed, want %d:\n%s", len(blocks), len(wantStatus), text)
	}
	for i, b := range blocks {
		if !strings.Contains(b, "\nHTTP/1.1 "+wantStatus[i]+"\n") {
			t.Errorf("request %d: no status line %q in\n%s", i+1, wantStatus[i], b)
		}
		for _, h := range []string{"Who-Am-I: wasm-extension", "Injected-By: istio-api!"} {
			if !strings.Contains(b, "\n"+h+"\n") {
				t.Errorf("request %d: no header line %q in\n%s", i+1, h, b)
			}
		}
	}
	if !regexp.MustCompile(`\nRetry-After: \d+\n`).MatchString(blocks[2]) {
		t.Errorf("the 429 has no retry-after:\n%s", blocks[2])
	}
	if !strings.HasPrefix(blocks[3], " http://") || !strings.HasPrefix(blocks[4], " -H 'allow: true' http://") {
		t.Errorf("the last two requests are not without, then with, the allow header:\n%s", text)
	}
	if !strings.Contains(text, "# statuses 200 200 429 403 200, as the tutorial expects") {
		t.Errorf("no summary line:\n%s", text)
	}

	// A chain that does not check the allow header lets the fourth request
	// through: the demo says so and fails.
	o.config = []byte(strings.Replace(seedConfig, `"name":"headerauth"`, `"name":"headerauth","mode":"shadow"`, 1))
	err := runDemo(context.Background(), o, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "the statuses were 200 200 429 200 200; the tutorial expects 200 200 429 403 200") {
		t.Errorf("demo with a shadow headerauth: %v, want the mismatch reported", err)
	}
}
