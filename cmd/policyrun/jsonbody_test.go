package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The jsonbody example in the runner, over real HTTP: a request body the
// plugin rewrites reaches the upstream whole, with a content-length that
// matches it (Go's server reads exactly content-length bytes, so a stale
// one would cut or hang the body); a response the plugin strips reaches the
// client the same way; a body over body_limit gets 413; a body the rule
// refuses never reaches the upstream.
func TestRunnerRewritesJSONBodies(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id": 7, "name": "ann", "password_hash": "x", "internal": {"shard": 3}}`)
	})
	base, _ := startRunner(t, "jsonbody", "-upstream", up.srv.URL, "-config", "../../examples/jsonbody/config.json")

	send := func(body string) (*http.Response, string) {
		t.Helper()
		return do(t, "POST", base+"/orders", body, "Content-Type", "application/json", "X-Request-Id", "req-1")
	}

	resp, body := send(`{"item": "book", "debug": true}`)
	seen, seenBody := up.last(t)
	if want := `{"item": "book", "audit":{"request_id":"req-1","via":"gateway"}}`; seenBody != want {
		t.Errorf("upstream body %s, want %s", seenBody, want)
	}
	if cl := seen.Header.Get("Content-Length"); cl != strconv.Itoa(len(seenBody)) {
		t.Errorf("upstream content-length %q for %d bytes", cl, len(seenBody))
	}
	if want := `{"id": 7, "name": "ann"}`; resp.StatusCode != 200 || body != want {
		t.Errorf("client got %d %s, want 200 %s", resp.StatusCode, body, want)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("client content-length %q for %d bytes", cl, len(body))
	}

	n := up.count()
	if resp, _ := send(`{"name": "x", "pad": "` + strings.Repeat("a", 70000) + `"}`); resp.StatusCode != 413 {
		t.Errorf("a body over body_limit: %d, want 413", resp.StatusCode)
	}
	if resp, body := send(`{"item": "book"`); resp.StatusCode != 400 || body != "invalid JSON body\n" {
		t.Errorf("invalid JSON: %d %q, want 400", resp.StatusCode, body)
	}
	if up.count() != n {
		t.Errorf("the upstream got %d more requests, want none", up.count()-n)
	}
}
