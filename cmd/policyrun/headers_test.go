package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The upstream gets the headers exactly as the plugin left them: one
// user-agent, the client's (net/http would add its own beside a header it
// does not know by that spelling), or none; and what Envoy adds at the
// edge, each once.
func TestForwardedHeaders(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
	base, _ := startRunner(t, "noop", "-upstream", up.srv.URL)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

	for _, c := range []struct {
		name      string
		headers   []string
		userAgent []string // what the upstream gets
		xff       string
		requestID string // "" for a generated one
	}{
		{"the client's user-agent", []string{"User-Agent", "test-client/1.0"}, []string{"test-client/1.0"}, "127.0.0.1", ""},
		{"no user-agent", []string{"User-Agent", ""}, nil, "127.0.0.1", ""},
		{"forwarded already", []string{"User-Agent", "c/2", "X-Forwarded-For", "203.0.113.9", "X-Request-Id", "given-id", "X-Forwarded-Proto", "https"},
			[]string{"c/2"}, "203.0.113.9", "given-id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := do(t, "GET", base+"/h", "", c.headers...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			seen, _ := up.last(t)
			if got := seen.Header.Values("User-Agent"); strings.Join(got, "|") != strings.Join(c.userAgent, "|") {
				t.Errorf("the upstream got user-agent %q, want %q", got, c.userAgent)
			}
			if got := seen.Header.Values("X-Forwarded-For"); len(got) != 1 || got[0] != c.xff {
				t.Errorf("x-forwarded-for %q, want %q once", got, c.xff)
			}
			if got := seen.Header.Values("X-Forwarded-Proto"); len(got) != 1 || got[0] != "http" {
				t.Errorf("x-forwarded-proto %q, want the scheme the runner serves, once", got)
			}
			ids := seen.Header.Values("X-Request-Id")
			if len(ids) != 1 || (c.requestID == "" && !uuid.MatchString(ids[0])) || (c.requestID != "" && ids[0] != c.requestID) {
				t.Errorf("x-request-id %q, want %q once (or a random UUID)", ids, c.requestID)
			}
			for name := range seen.Header {
				switch name {
				case "User-Agent", "X-Forwarded-For", "X-Forwarded-Proto", "X-Request-Id", "Accept-Encoding":
				default:
					t.Errorf("the upstream got %s: %q, which neither the client nor the proxy sent", name, seen.Header[name])
				}
			}
		})
	}
}
