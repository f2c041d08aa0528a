package host

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests drive build/hostprobe.wasm (internal/testdata/hostprobe), a
// plugin written on the SDK alone that makes every kind of host call.

func TestStreamRequestAndResponsePhases(t *testing.T) {
	h, _ := newHost(t, "hostprobe", Config{Name: "probe", PluginConfig: []byte("cfg")})
	vm := newVM(t, h)
	up := &upstream{resp: Response{Status: 201, Headers: [][2]string{{"x-upstream-secret", "s"}, {"x-kept", "k"}}, Body: []byte("created")}}
	req := get("/items", [2]string{"x-replace", "old"}, [2]string{"x-replace", "older"}, [2]string{"x-remove", "gone"})
	req.Body = []byte("payload")
	req.Source, req.Route = "192.0.2.7:5555", "items-route"
	req.Time = t0.Add(42 * time.Second)
	resp := serve(t, vm, req, up.serve)

	seen := up.last(t)
	for _, c := range []struct{ name, want string }{
		{"x-probe", "seen,twice"}, // added values stay separate entries
		{"x-replace", "replaced"}, // replace leaves one value
		{"x-remove", ""},
		{":path", "/items"},
	} {
		if got := value(seen.Headers, c.name); got != c.want {
			t.Errorf("upstream saw %s = %q, want %q", c.name, got, c.want)
		}
	}
	if string(seen.Body) != "PAYLOAD" {
		t.Errorf("upstream saw body %q, want the plugin's replacement PAYLOAD", seen.Body)
	}

	if resp.Status != 201 || string(resp.Body) != "created|probe" {
		t.Errorf("response %d %q, want 201 %q", resp.Status, resp.Body, "created|probe")
	}
	for _, c := range []struct{ name, want string }{
		{"x-probe-status", "201"},
		{"x-probe-source", "192.0.2.7:5555"},
		{"x-probe-route", "items-route"},
		{"x-probe-plugin", "probe"},
		{"x-probe-time", strconv.FormatInt(req.Time.UnixNano(), 10)},
		{"x-upstream-secret", ""},
		{"x-kept", "k"},
	} {
		if got := value(resp.Headers, c.name); got != c.want {
			t.Errorf("response %s = %q, want %q", c.name, got, c.want)
		}
	}
	// The plugin's time.Now reads the injected clock.
	now, _ := strconv.ParseInt(value(resp.Headers, "x-probe-now"), 10, 64)
	if d := time.Unix(0, now).Sub(t0); d < 0 || d > time.Second {
		t.Errorf("the plugin's clock read %v, want just after %v", time.Unix(0, now).UTC(), t0)
	}
}

func TestLocalReplyGoesThroughResponsePhase(t *testing.T) {
	h, _ := newHost(t, "hostprobe", Config{})
	vm := newVM(t, h)
	up := &upstream{}
	resp := serve(t, vm, get("/deny"), up.serve)
	if len(up.seen) != 0 {
		t.Errorf("the upstream saw a request the plugin answered itself")
	}
	if resp.Status != 418 || string(resp.Body) != "denied by hostprobe\n|probe" {
		t.Errorf("got %d %q, want 418 with the body the response phase extended", resp.Status, resp.Body)
	}
	for _, c := range []struct{ name, want string }{
		{"x-probe-deny", "yes"},
		{"x-probe-status", "418"}, // the response phase saw the local reply
		{"content-type", "text/plain"},
	} {
		if got := value(resp.Headers, c.name); got != c.want {
			t.Errorf("%s = %q, want %q", c.name, got, c.want)
		}
	}
	if n := vm.HostCalls()["proxy_send_local_response"]; n != 1 {
		t.Errorf("proxy_send_local_response called %d times, want 1", n)
	}
}

func TestCallout(t *testing.T) {
	var got Callout
	answer := func(ctx context.Context, c Callout) (*CalloutResponse, error) {
		got = c
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the callout's context has no deadline; the plugin asked for 1s")
		}
		return &CalloutResponse{Headers: [][2]string{{":status", "200"}}, Body: []byte("pong")}, nil
	}
	fail := func(context.Context, Callout) (*CalloutResponse, error) { return nil, errors.New("connection refused") }
	for _, c := range []struct {
		name     string
		call     func(context.Context, Callout) (*CalloutResponse, error)
		status   int
		body     string
		upstream string // the x-callout header the upstream sees
	}{
		{"answered", answer, 200, "upstream body|probe", "200 pong"},
		{"failed", fail, 503, "callout failed\n|probe", ""},
		{"no clusters", nil, 500, "dispatch: error status returned by host: bad argument\n|probe", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, _ := newHost(t, "hostprobe", Config{HTTPCall: c.call})
			vm := newVM(t, h)
			up := &upstream{}
			resp := serve(t, vm, get("/callout"), up.serve)
			if resp.Status != c.status || string(resp.Body) != c.body {
				t.Errorf("got %d %q, want %d %q", resp.Status, resp.Body, c.status, c.body)
			}
			if c.upstream != "" && value(up.last(t).Headers, "x-callout") != c.upstream {
				t.Errorf("upstream saw x-callout %q, want %q", value(up.last(t).Headers, "x-callout"), c.upstream)
			}
		})
	}
	if got.Cluster != "backend" || value(got.Headers, ":method") != "POST" || value(got.Headers, ":path") != "/check" ||
		string(got.Body) != "ping" || got.Timeout != time.Second {
		t.Errorf("callout = %+v, want POST /check to backend with body ping and a 1s timeout", got)
	}
}

func TestTrapFailsTheVM(t *testing.T) {
	h, l := newHost(t, "hostprobe", Config{})
	vm, other := newVM(t, h), newVM(t, h)
	up := &upstream{}
	resp, err := vm.Serve(context.Background(), get("/trap"), up.serve)
	var trap *TrapError
	if !errors.As(err, &trap) || trap.Callback != "proxy_on_request_headers" {
		t.Fatalf("Serve returned %v, want a trap in proxy_on_request_headers", err)
	}
	if resp.Status != 503 || resp.Details != "wasm_fail_stream" {
		t.Errorf("trapping request got %d %s, want 503 wasm_fail_stream", resp.Status, resp.Details)
	}
	if !errors.Is(vm.Err(), err) {
		t.Errorf("VM.Err() = %v, want the trap", vm.Err())
	}
	if _, ok := l.find("panic: hostprobe: trap requested"); !ok {
		t.Error("the plugin's panic message (its stderr) was not logged")
	}
	if line, ok := l.find("trapped in proxy_on_request_headers"); !ok || !strings.HasPrefix(line, "critical") {
		t.Errorf("the trap was not logged as critical: %q", line)
	}
	resp, err = vm.Serve(context.Background(), get("/"), up.serve)
	if resp.Status != 503 || !errors.As(err, &trap) {
		t.Errorf("a later stream on the failed VM got %d, %v; want 503 and the trap", resp.Status, err)
	}
	if len(up.seen) != 0 {
		t.Error("a stream on the failed VM reached the upstream")
	}
	if resp := serve(t, other, get("/"), up.serve); resp.Status != 200 {
		t.Errorf("the other VM answered %d, want 200", resp.Status)
	}
}

func TestSharedDataAndMetricsAcrossVMs(t *testing.T) {
	h, _ := newHost(t, "hostprobe", Config{})
	vms := []*VM{newVM(t, h), newVM(t, h)}
	up := &upstream{}
	// Sequentially, alternating VMs: one count shared by both.
	for i := 1; i <= 4; i++ {
		resp := serve(t, vms[i%2], get("/"), up.serve)
		if got := value(resp.Headers, "x-probe-count"); got != strconv.Itoa(i) {
			t.Errorf("request %d: shared count %s, want %d", i, got, i)
		}
	}
	// Concurrently: CAS keeps the count exact, the VMs serialize callbacks.
	const n = 40
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := get("/")
			req.Body = []byte(fmt.Sprintf("body-%02d", i))
			if resp, err := vms[i%2].Serve(context.Background(), req, up.serve); err != nil || resp.Status != 200 {
				t.Errorf("concurrent request %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if v, _, _ := h.SharedData("hostprobe/count"); string(v) != strconv.Itoa(n+4) {
		t.Errorf("shared count %s, want %d", v, n+4)
	}
	if m, _ := h.Metric("hostprobe_requests_total"); m.Type != Counter || m.Value != n+4 {
		t.Errorf("requests counter %+v, want %d", m, n+4)
	}
	if m, _ := h.Metric("hostprobe_inflight"); m.Type != Gauge || m.Value != 0 {
		t.Errorf("in-flight gauge %+v, want 0 once every stream is done", m)
	}
	if m, _ := h.Metric("hostprobe_body_bytes"); m.Type != Histogram || m.Count != n || m.Sum != n*7 {
		t.Errorf("body size histogram %+v, want %d samples of 7 bytes", m, n)
	}
	if got := len(h.Metrics()); got != 4 {
		t.Errorf("%d metrics defined, want 4 (each VM defines the same 4)", got)
	}
}

func TestQueueTickAndHostCalls(t *testing.T) {
	h, l := newHost(t, "hostprobe", Config{CountWASI: true})
	first, second := newVM(t, h), newVM(t, h)
	req := get("/enqueue")
	req.Body = []byte("queued item")
	serve(t, first, req, (&upstream{}).serve)
	// The second VM registered the queue last: it hears of the item.
	if v, _, ok := h.SharedData("hostprobe/dequeued"); !ok || string(v) != "queued item" {
		t.Errorf("dequeued %q, want the enqueued item", v)
	}
	if _, ok := l.find(`hostprobe: dequeued "queued item"`); !ok {
		t.Error("the dequeuing VM's log line is missing")
	}
	if second.HostCalls()["proxy_dequeue_shared_queue"] == 0 || first.HostCalls()["proxy_enqueue_shared_queue"] != 1 {
		t.Errorf("calls: first %v, second %v; want the enqueue on the first and the dequeue on the second", first.HostCalls(), second.HostCalls())
	}

	if p := first.TickPeriod(); p != 250*time.Millisecond {
		t.Errorf("tick period %v, want the plugin's 250ms", p)
	}
	if err := first.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m, _ := h.Metric("hostprobe_ticks_total"); m.Value != 1 {
		t.Errorf("ticks %d after one Tick, want 1", m.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	h.RunTicks(ctx)
	if m, _ := h.Metric("hostprobe_ticks_total"); m.Value < 1+2*2 {
		t.Errorf("ticks %d after 700ms of RunTicks on two VMs ticking every 250ms, want at least 5", m.Value)
	}

	first.ResetHostCalls()
	serve(t, first, get("/"), (&upstream{}).serve)
	calls := first.HostCalls()
	if calls["proxy_get_property"] != 4 || calls["proxy_log"] < 2 || calls["clock_time_get"] == 0 {
		t.Errorf("host calls for one request: %v; want 4 property reads, the log lines and the WASI clock", calls)
	}
}

func TestPausedAndClosedStreams(t *testing.T) {
	h, _ := newHost(t, "hostprobe", Config{PauseTimeout: 50 * time.Millisecond})
	vm := newVM(t, h)
	up := &upstream{}
	resp, err := vm.Serve(context.Background(), get("/pause"), up.serve)
	if !errors.Is(err, ErrPauseTimeout) || resp.Status != 504 {
		t.Errorf("paused stream: %v, %+v; want ErrPauseTimeout and 504", err, resp)
	}
	resp, err = vm.Serve(context.Background(), get("/close"), up.serve)
	if !errors.Is(err, ErrStreamClosed) || resp != nil {
		t.Errorf("closed stream: %v, %+v; want ErrStreamClosed and no response", err, resp)
	}
	if len(up.seen) != 0 {
		t.Error("a paused or closed stream reached the upstream")
	}
	if resp := serve(t, vm, get("/"), up.serve); resp.Status != 200 {
		t.Errorf("the VM answered %d after those streams, want 200", resp.Status)
	}
}

func TestUpstreamFailureGoesThroughResponsePhase(t *testing.T) {
	h, _ := newHost(t, "hostprobe", Config{})
	vm := newVM(t, h)
	resp := serve(t, vm, get("/"), func(context.Context, *Request) (*Response, error) {
		return nil, errors.New("connection refused")
	})
	if resp.Status != 503 || value(resp.Headers, "x-probe-status") != "503" || !strings.HasPrefix(string(resp.Body), "upstream connect error") {
		t.Errorf("got %d %v %q; want Envoy's 503 reply, seen by the response phase", resp.Status, resp.Headers, resp.Body)
	}
}

func TestPluginRefusesToStart(t *testing.T) {
	h, _ := newHost(t, "hostprobe", Config{PluginConfig: []byte("refuse")})
	_, err := h.NewVM(context.Background())
	if err == nil || !strings.Contains(err.Error(), "proxy_on_configure") || !strings.Contains(err.Error(), "configured to refuse") {
		t.Errorf("NewVM: %v; want the failed proxy_on_configure and the plugin's critical log line", err)
	}
}
