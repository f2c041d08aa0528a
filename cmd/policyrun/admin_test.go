package main

import (
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// scrape reads one of the admin endpoints.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// waitFor scrapes url until its text contains want (the plugin flushes its
// counters on a tick, once a second) and returns the text.
func waitFor(t *testing.T, url, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		text := scrape(t, url)
		if strings.Contains(text, want) {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q:\n%s", url, want, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The metrics example with the traffic of its README: /stats/prometheus
// shows the request counters the README shows (but for the request that got
// no response, which an HTTP client cannot make), labelled as the README's
// stats_tags make Envoy label them.
func TestAdminPrometheus(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.WriteHeader(status)
	})
	base, log := startRunner(t, "metrics", "-config", "../../examples/metrics/config.json", "-upstream", up.srv.URL,
		"-admin", "127.0.0.1:0")
	admin := "http://" + log.adminAddr(t)
	for _, req := range [][2]string{
		{"GET", "200"}, {"GET", "200"}, {"GET", "200"}, {"GET", "404"},
		{"POST", "201"}, {"POST", "201"}, {"DELETE", "503"}, {"PROPFIND", "207"},
	} {
		if resp, _ := do(t, req[0], base+"/?status="+req[1], ""); strconv.Itoa(resp.StatusCode) != req[1] {
			t.Fatalf("%s: %d, want %s", req[0], resp.StatusCode, req[1])
		}
	}
	text := waitFor(t, admin+"/stats/prometheus", `policy_requests_total{filter="metrics",method="other",code_class="2xx"} 1`)

	readme := wasmtest.ReadFile(t, "../../examples/metrics/README.md")
	var want []string
	for _, block := range wasmtest.FencedBlocks(readme, "text") {
		if strings.HasPrefix(block, "# TYPE policy_requests_total counter\n") {
			for _, l := range strings.Split(strings.TrimSpace(block), "\n")[1:] {
				if !strings.Contains(l, `method="HEAD"`) {
					want = append(want, l)
				}
			}
		}
	}
	if len(want) != 5 {
		t.Fatalf("the README's block of request counters is not where it was: %q", want)
	}
	var got []string
	family := false
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, "# TYPE "):
			family = l == "# TYPE policy_requests_total counter"
		case family && l != "" && !strings.HasSuffix(l, " 0"):
			got = append(got, l)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the request counters that are not zero:\n%s\nthe README shows:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := strings.Count(text, "# TYPE policy_requests_total counter\n"); n != 1 {
		t.Errorf("the family is typed %d times, want once", n)
	}
	for _, want := range []string{
		`policy_chain_time_microseconds_bucket{filter="metrics",le="0.5"} `,
		`policy_chain_time_microseconds_bucket{filter="metrics",le="3600000"} 8` + "\n",
		`policy_chain_time_microseconds_bucket{filter="metrics",le="+Inf"} 8` + "\n",
		`policy_chain_time_microseconds_count{filter="metrics"} 8` + "\n",
		"# TYPE policy_chain_time_microseconds histogram\n",
		`policy_filter_requests_total{filter="metrics"} 8` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/stats/prometheus lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "=.=") || strings.Contains(text, "wasmcustom") {
		t.Errorf("a name kept its tags or its namespace:\n%s", text)
	}

	stats := scrape(t, admin+"/stats")
	for _, want := range []string{
		"wasmcustom.filter=.=metrics;.;method=.=GET;.;code_class=.=2xx;.;policy_requests_total: 3\n",
		"wasmcustom.filter=.=metrics;.;policy_chain_time_microseconds: count=8 sum=",
	} {
		if !strings.Contains(stats, want) {
			t.Errorf("/stats lacks %q:\n%s", want, stats)
		}
	}
}

// -v writes a line per request: status, and which filter answered.
func TestAccessLog(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
	base, log := startRunner(t, "chain", "-config", writeFile(t, seedConfig), "-upstream", up.srv.URL, "-v")
	do(t, "GET", base+"/a?x=1", "", "allow", "true")
	do(t, "POST", base+"/b", "")
	var lines []string
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.HasPrefix(l, "policyrun: GET ") || strings.HasPrefix(l, "policyrun: POST ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "policyrun: GET /a?x=1 200 (upstream) ") ||
		!strings.HasPrefix(lines[1], "policyrun: POST /b 403 (local reply by filter headerauth: ") {
		t.Errorf("access log:\n%s", strings.Join(lines, "\n"))
	}
	for _, want := range []string{"policyrun: compiling ", "policyrun: compiled in "} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("no progress line %q:\n%s", want, log)
		}
	}
}
