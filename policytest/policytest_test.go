package policytest

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests run the repository's compiled test plugins: build/hostprobe.wasm
// (internal/testdata/hostprobe, written on the SDK alone: it makes every
// kind of host call) and build/chain.wasm (examples/chain, the library's
// five filters).

// image loads the compiled plugin name from build/ (from build/tinygo/
// under make test TOOLCHAIN=tinygo).
func image(t *testing.T, name string) []byte {
	t.Helper()
	dir := "build"
	if d := os.Getenv("POLICY_BUILD_DIR"); d != "" {
		dir = d
	}
	return Load(t, "../"+dir+"/"+name+".wasm")
}

func TestRequestThroughThePlugin(t *testing.T) {
	p := Start(t, image(t, "hostprobe"), "cfg", PluginName("probe"))
	res := p.Do(Request{
		Method: "POST", Path: "/items?q=1", Body: "payload", Source: "192.0.2.7:5555", Route: "items-route",
		Headers:  [][2]string{{"X-Replace", "a"}, {"x-replace", "b"}, {"x-remove", "gone"}},
		Upstream: &Response{Status: 201, Headers: [][2]string{{"x-upstream-secret", "s"}, {"X-Kept", "k"}}, Body: "created"},
	})
	if res.Err != nil || res.LocalReply || res.Forwarded == nil {
		t.Fatalf("err %v, local reply %v, forwarded %v", res.Err, res.LocalReply, res.Forwarded)
	}
	f := res.Forwarded
	if f.Method() != "POST" || f.Path() != "/items?q=1" || f.Header(":authority") != "example.com" || f.Body != "PAYLOAD" {
		t.Errorf("forwarded %s %s to %s with %q", f.Method(), f.Path(), f.Header(":authority"), f.Body)
	}
	if got := strings.Join(f.Values("x-probe"), ","); got != "seen,twice" {
		t.Errorf("forwarded x-probe %q, want the two values the plugin added, as two entries", got)
	}
	if got := f.Values("x-replace"); len(got) != 1 || got[0] != "replaced" || f.Values("x-remove") != nil {
		t.Errorf("forwarded x-replace %q, x-remove %q", got, f.Values("x-remove"))
	}
	if res.Status != 201 || res.Body != "created|probe" || res.Details != "via_upstream" {
		t.Errorf("response %d %q (%s)", res.Status, res.Body, res.Details)
	}
	for name, want := range map[string]string{
		"x-probe-status": "201", "x-probe-source": "192.0.2.7:5555", "x-probe-route": "items-route",
		"x-probe-plugin": "probe", "x-kept": "k", "x-upstream-secret": "",
	} {
		if got := res.Header(name); got != want {
			t.Errorf("response %s: %q, want %q", name, got, want)
		}
	}
	if !p.Logged(`hostprobe: configured with "cfg"`) || !hasLog(res.Logs, "hostprobe: request /items?q=1") {
		t.Errorf("logs: %v, of the request: %v", p.Logs(), res.Logs)
	}
}

func hasLog(logs []Log, text string) bool {
	for _, l := range logs {
		if strings.Contains(l.Message, text) {
			return true
		}
	}
	return false
}

func TestPseudoHeadersInHeaders(t *testing.T) {
	p := Start(t, image(t, "hostprobe"), "")
	res := p.Do(Request{Authority: "ignored", Headers: [][2]string{{":authority", "a.example"}, {":authority", "b.example"}}})
	if got := res.Forwarded.Values(":authority"); strings.Join(got, ",") != "a.example,b.example" {
		t.Errorf("forwarded :authority %q, want the two the test sent", got)
	}
	if res.Forwarded.Method() != "GET" || res.Forwarded.Path() != "/" {
		t.Errorf("forwarded %s %s, want the defaults", res.Forwarded.Method(), res.Forwarded.Path())
	}
}

func TestAnswerFromAFunction(t *testing.T) {
	p := Start(t, image(t, "hostprobe"), "")
	res := p.Do(Request{Path: "/echo", Answer: func(f *Forwarded) *Response {
		return &Response{Status: 202, Body: f.Path() + " " + f.Header("x-probe")}
	}})
	if res.Status != 202 || res.Body != "/echo seen|probe" {
		t.Errorf("got %d %q", res.Status, res.Body)
	}
}

func TestLocalReply(t *testing.T) {
	p := Start(t, image(t, "hostprobe"), "")
	res := p.Do(Request{Path: "/deny"})
	// Envoy passes the local reply through the response phases: the
	// plugin's response body phase extends it, too.
	if res.Status != 418 || !res.LocalReply || res.Forwarded != nil || res.Body != "denied by hostprobe\n|probe" {
		t.Fatalf("got %d %q, local reply %v, forwarded %v", res.Status, res.Body, res.LocalReply, res.Forwarded)
	}
	if res.Header("x-probe-deny") != "yes" || res.Header("x-probe-status") != "418" {
		t.Errorf("headers %q", res.Headers)
	}
}

func TestCallouts(t *testing.T) {
	var mu sync.Mutex
	var calls []Callout
	answer := &Response{Status: 202, Body: "pong"}
	p := Start(t, image(t, "hostprobe"), "", Callouts(func(c Callout) *Response {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, c)
		return answer
	}))
	res := p.Do(Request{Path: "/callout"})
	if len(calls) != 1 {
		t.Fatalf("%d callouts", len(calls))
	}
	c := calls[0]
	if c.Cluster != "backend" || c.Method() != "POST" || c.Path() != "/check" || c.Header(":authority") != "backend" ||
		c.Body != "ping" || c.Timeout != time.Second {
		t.Errorf("callout %+v", c)
	}
	if res.Status != 200 || res.Forwarded.Header("x-callout") != "202 pong" {
		t.Errorf("got %d, forwarded x-callout %q", res.Status, res.Forwarded.Header("x-callout"))
	}

	answer = nil // the call fails
	if res := p.Do(Request{Path: "/callout"}); res.Status != 503 || res.Body != "callout failed\n|probe" {
		t.Errorf("a failed callout: %d %q", res.Status, res.Body)
	}
	// Without Callouts, the proxy knows no cluster.
	q := Start(t, image(t, "hostprobe"), "")
	if res := q.Do(Request{Path: "/callout"}); res.Status != 500 || !strings.HasPrefix(res.Body, "dispatch: ") || !strings.HasSuffix(res.Body, "|probe") {
		t.Errorf("a callout without clusters: %d %q", res.Status, res.Body)
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	p := Start(t, image(t, "hostprobe"), "", StartTime(start), Workers(2))
	if p.Counter("hostprobe_ticks_total") != 2 { // reading ticks every VM
		t.Fatalf("ticks %d before the clock moved, want the 2 of the read", p.Counter("hostprobe_ticks_total"))
	}
	// The plugin asks for a tick every 250ms: 4 a second on each VM, then
	// the read's.
	p.Advance(time.Second)
	if got := p.Counter("hostprobe_ticks_total"); got != 2+2*4+2 {
		t.Errorf("ticks %d after a second, want 12", got)
	}
	p.Advance(100 * time.Millisecond)
	p.Advance(100 * time.Millisecond) // 1.2s: no new period elapsed
	if got := p.Counter("hostprobe_ticks_total"); got != 14 {
		t.Errorf("ticks %d, want only the read's 2 more", got)
	}
	res := p.Do(Request{})
	requestTime, _ := strconv.ParseInt(res.Header("x-probe-time"), 10, 64)
	pluginNow, _ := strconv.ParseInt(res.Header("x-probe-now"), 10, 64)
	want := start.Add(1200 * time.Millisecond)
	for name, ns := range map[string]int64{"request.time": requestTime, "time.Now": pluginNow} {
		if d := time.Unix(0, ns).Sub(want); d < 0 || d > time.Millisecond {
			t.Errorf("%s in the plugin %v, want %v", name, time.Unix(0, ns).UTC(), want)
		}
	}
	if d := p.Now().Sub(want); d < 0 || d > time.Millisecond {
		t.Errorf("Now %v, want %v", p.Now(), want)
	}
}

func TestWorkersShareSharedData(t *testing.T) {
	p := Start(t, image(t, "hostprobe"), "", Workers(3))
	var counts []string
	for i := 0; i < 5; i++ {
		counts = append(counts, p.Do(Request{}).Header("x-probe-count"))
	}
	counts = append(counts, p.VM(2).Do(Request{}).Header("x-probe-count"))
	if got := strings.Join(counts, ","); got != "1,2,3,4,5,6" {
		t.Errorf("counts %s, want one count across the VMs", got)
	}
	if v, ok := p.SharedData("hostprobe/count"); !ok || string(v) != "6" {
		t.Errorf("shared data %q %v", v, ok)
	}
	p.SetSharedData("hostprobe/count", []byte("41"))
	if got := p.Do(Request{}).Header("x-probe-count"); got != "42" {
		t.Errorf("count %s after SetSharedData 41", got)
	}
}

func TestMetrics(t *testing.T) {
	p := Start(t, image(t, "hostprobe"), "", Workers(2))
	p.Do(Request{Body: "1234567"})
	p.Do(Request{Body: "123"})
	p.Do(Request{})
	if got := p.Counter("hostprobe_requests_total"); got != 3 {
		t.Errorf("requests %d", got)
	}
	if got := p.Gauge("hostprobe_inflight"); got != 0 {
		t.Errorf("in flight %d after the requests ended", got)
	}
	if count, sum := p.Histogram("hostprobe_body_bytes"); count != 2 || sum != 10 {
		t.Errorf("body sizes: %d values, sum %d", count, sum)
	}
	text := p.Prometheus()
	for _, want := range []string{
		"# TYPE hostprobe_requests_total counter\nhostprobe_requests_total{} 3\n",
		"# TYPE hostprobe_inflight gauge\nhostprobe_inflight{} 0\n",
		"hostprobe_body_bytes_bucket{le=\"5\"} 1\n", "hostprobe_body_bytes_bucket{le=\"10\"} 2\n",
		"hostprobe_body_bytes_sum{} 10\nhostprobe_body_bytes_count{} 2\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Prometheus lacks %q:\n%s", want, text)
		}
	}
}

func TestTrap(t *testing.T) {
	p := Start(t, image(t, "hostprobe"), "", Workers(2))
	res := p.VM(0).Do(Request{Path: "/trap"})
	if res.Err == nil || res.Status != 503 || res.Details != "wasm_fail_stream" || p.VM(0).Err() == nil {
		t.Fatalf("a trap: %d %s, %v", res.Status, res.Details, res.Err)
	}
	if !p.Logged("panic: hostprobe: trap requested") {
		t.Error("the panic is not in the logs")
	}
	if res := p.VM(0).Do(Request{}); res.Status != 503 {
		t.Errorf("the failed VM answered %d", res.Status)
	}
	if res := p.VM(1).Do(Request{}); res.Status != 200 || p.VM(1).Err() != nil {
		t.Errorf("the other VM answered %d", res.Status)
	}
}

func TestRefused(t *testing.T) {
	if msg := Refused(t, image(t, "hostprobe"), "refuse"); msg != "hostprobe: configured to refuse" {
		t.Errorf("refused with %q", msg)
	}
}

// chainConfig is the tutorials' chain: the injected headers, the allow
// header, and a rate limit of two requests a second.
const chainConfig = `{"filters":[
	{"name":"headermutate","config":{"response":{"set":{"who-am-i":"wasm-extension"}}}},
	{"name":"headerauth","config":{"header":"allow","values":["true"]}},
	{"name":"ratelimit","config":{"requests_per_unit":2,"unit":"second"}}
]}`

func TestLibraryChain(t *testing.T) {
	p := Start(t, image(t, "chain"), chainConfig, Workers(2))
	allowed := Request{Headers: [][2]string{{"allow", "true"}}}
	res := p.Do(Request{})
	if res.Status != 403 || !res.LocalReply || res.DeniedBy != "headerauth" || res.Reason != `header "allow" is missing` ||
		res.Header("who-am-i") != "wasm-extension" {
		t.Errorf("without the header: %d by %q (%q), who-am-i %q", res.Status, res.DeniedBy, res.Reason, res.Header("who-am-i"))
	}
	var statuses []string
	for i := 0; i < 3; i++ {
		statuses = append(statuses, strconv.Itoa(p.Do(allowed).Status))
	}
	p.Advance(500 * time.Millisecond)
	statuses = append(statuses, strconv.Itoa(p.Do(allowed).Status))
	p.Advance(500 * time.Millisecond)
	for i := 0; i < 3; i++ {
		statuses = append(statuses, strconv.Itoa(p.Do(allowed).Status))
	}
	// The limit is the proxy's, across both VMs: two tokens a second.
	if got := strings.Join(statuses, " "); got != "200 200 429 429 200 200 429" {
		t.Errorf("statuses %s, want 200 200 429 429 200 200 429", got)
	}
	if got := p.Counter("policy_filter_decisions_total", "decision", "denied", "filter", "ratelimit"); got != 3 {
		t.Errorf("ratelimit denials %d", got)
	}
	if got := p.Counter("filter=.=headerauth;.;decision=.=denied;.;policy_filter_decisions_total"); got != 1 {
		t.Errorf("headerauth denials by full name %d", got)
	}
	text := p.Prometheus()
	for _, want := range []string{
		`policy_filter_decisions_total{filter="headerauth",decision="denied"} 1`,
		`policy_filter_decisions_total{filter="ratelimit",decision="denied"} 3`,
		`policy_filter_requests_total{filter="ratelimit"} 7`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("Prometheus lacks %s:\n%s", want, text)
		}
	}
}

func TestHostCallsClockAndSharedData(t *testing.T) {
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	p := Start(t, image(t, "chain"), chainConfig, StartTime(start), SharedData("seed", []byte("v1")), PauseTimeout(time.Second))
	if v, ok := p.SharedData("seed"); !ok || string(v) != "v1" {
		t.Errorf("SharedData before the start: %q %v", v, ok)
	}
	_, cas, _ := p.SharedDataCAS("seed")
	p.SetSharedData("seed", []byte("v2"))
	if v, cas2, ok := p.SharedDataCAS("seed"); !ok || string(v) != "v2" || cas2 == cas {
		t.Errorf("after a write: %q, CAS %d then %d", v, cas, cas2)
	}

	vm := p.VM(0)
	vm.ResetHostCalls()
	if res := p.Do(Request{}); res.Status != 403 {
		t.Fatalf("status %d", res.Status)
	}
	if n := vm.HostCalls()["proxy_send_local_response"]; n != 1 {
		t.Errorf("proxy_send_local_response called %d times, want 1; calls %v", n, vm.HostCalls())
	}
	if n := p.HostCalls()["proxy_send_local_response"]; n != 1 {
		t.Errorf("the plugin's calls: %d local replies", n)
	}
	p.ResetHostCalls()
	if n := len(vm.HostCalls()); n != 0 {
		t.Errorf("after ResetHostCalls: %v", vm.HostCalls())
	}

	const denied = "filter=.=headerauth;.;decision=.=denied;.;policy_filter_decisions_total"
	if n := p.Unflushed(denied); n != 0 {
		t.Errorf("before a tick the host holds %d denials, want 0 (sent on tick)", n)
	}
	if n := p.Counter(denied); n != 1 || p.Unflushed(denied) != 1 {
		t.Errorf("after the tick: %d", n)
	}

	back := start.Add(-time.Hour)
	p.SetTime(back)
	if now := p.Now(); !now.Equal(back) {
		t.Errorf("Now %v after SetTime(%v)", now, back)
	}
	if res := p.Do(Request{Headers: [][2]string{{"allow", "true"}}}); res.Status != 200 {
		t.Errorf("with the clock gone back: %d (%v)", res.Status, res.Err)
	}
}

// Bodies through the kit, on the dispatcher's test plugin: a body a filter
// replaces is forwarded with its content-length, and a body over body_limit
// is answered with the dispatcher's 413 and counted.
func TestBodiesThroughTheKit(t *testing.T) {
	p := Start(t, image(t, "testchain"), `{"body_limit": 16, "filters": [
		{"name": "step", "id": "req", "config": {"phase": "request_body", "set_body": "replaced!"}}]}`)
	res := p.Do(Request{Method: "POST", Body: "hello", Headers: [][2]string{{"content-length", "5"}}})
	if res.Err != nil || res.Forwarded == nil || res.Forwarded.Body != "replaced!" || res.Forwarded.Header("content-length") != "9" {
		t.Fatalf("err %v, forwarded %+v: want the replaced body with content-length 9", res.Err, res.Forwarded)
	}
	res = p.Do(Request{Method: "POST", Body: strings.Repeat("x", 17), Headers: [][2]string{{"content-length", "17"}}})
	if res.Status != 413 || !res.LocalReply || res.Forwarded != nil || res.Body != "request body too large\n" {
		t.Errorf("a 17-byte body over a limit of 16: %d %q (local %v, forwarded %v), want 413", res.Status, res.Body, res.LocalReply, res.Forwarded)
	}
	if got := p.Counter("policy_body_too_large_total", "side", "request"); got != 1 {
		t.Errorf("policy_body_too_large_total{side=request} = %d, want 1", got)
	}
}

// A JSON body rewrite through the kit, on the jsonbody example: the
// request body the plugin stamps is forwarded with its content-length, and
// the response body it strips reaches the client with its own.
func TestJSONBodyRewriteThroughTheKit(t *testing.T) {
	config, err := os.ReadFile("../examples/jsonbody/config.json")
	if err != nil {
		t.Fatal(err)
	}
	p := Start(t, image(t, "jsonbody"), string(config))
	body := `{"item": "book", "debug": true}`
	res := p.Do(Request{Method: "POST", Path: "/orders", Body: body, Headers: [][2]string{
		{"content-type", "application/json"}, {"content-length", strconv.Itoa(len(body))}, {"x-request-id", "req-1"}},
		Upstream: &Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}, {"content-length", "31"}},
			Body: `{"id": 7, "password_hash": "x"}`}})
	if res.Err != nil || res.Forwarded == nil {
		t.Fatalf("err %v, forwarded %v", res.Err, res.Forwarded)
	}
	if want := `{"item": "book", "audit":{"request_id":"req-1","via":"gateway"}}`; res.Forwarded.Body != want || res.Forwarded.Header("content-length") != strconv.Itoa(len(want)) {
		t.Errorf("forwarded %q with content-length %q, want %q with its length", res.Forwarded.Body, res.Forwarded.Header("content-length"), want)
	}
	if res.Status != 200 || res.Body != `{"id": 7}` || res.Header("content-length") != "9" {
		t.Errorf("client got %d %q with content-length %q, want 200 {\"id\": 7} with 9", res.Status, res.Body, res.Header("content-length"))
	}
}
