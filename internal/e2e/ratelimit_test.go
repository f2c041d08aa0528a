//go:build e2e_ratelimit

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// limit is the service's limit per client, per minute.
const limit = 20

const serviceConfig = `domain: api
descriptors:
  - key: client
    rate_limit:
      unit: minute
      requests_per_unit: 20
  - key: generic_key
    value: tokens
    descriptors:
      - key: client
        rate_limit:
          unit: minute
          requests_per_unit: 1000
`

// budget is the service's token budget per client, per minute.
const budget = 1000

// costConfig is a plugin spending the token budget by the usage each
// response reports.
const costConfig = `{"filters": [{"name": "ratelimit", "config": {
	"global": {"cluster": "ratelimit", "domain": "api", "timeout": "500ms", "failure_mode": "closed",
		"descriptors": [{"entries": [{"generic_key": "tokens"}, {"request_header": {"name": "x-client", "key": "client"}}]}]},
	"cost": {"field": "usage.total_tokens"}}}]}`

// pluginConfig is the plugin's configuration, failing open or closed, with
// the check's timeout.
func pluginConfig(failure, timeout string) string {
	return `{"filters": [{"name": "ratelimit", "config": {
		"global": {"cluster": "ratelimit", "domain": "api", "timeout": "` + timeout + `",
			"descriptors": [{"entries": [{"request_header": {"name": "x-client", "key": "client"}}]}],
			"failure_mode": "` + failure + `", "status_on_error": 503},
		"rate_limit_headers": true}}]}`
}

// TestGlobalRateLimit runs the plugin in two hosts, two proxies of three
// worker VMs each, against Envoy's rate limit service and Redis (started
// here from $E2E_RATELIMIT_SERVICE and $E2E_REDIS_SERVER in $E2E_WORK; run
// it with `make e2e-ratelimit`).
func TestGlobalRateLimit(t *testing.T) {
	redisBin, serviceBin, work := os.Getenv("E2E_REDIS_SERVER"), os.Getenv("E2E_RATELIMIT_SERVICE"), os.Getenv("E2E_WORK")
	if redisBin == "" || serviceBin == "" || work == "" {
		t.Fatal("E2E_REDIS_SERVER, E2E_RATELIMIT_SERVICE and E2E_WORK are not set: run this test with `make e2e-ratelimit`")
	}
	wasm := wasmtest.Image(t, "globalratelimit")

	redisPort := freePort(t)
	redis := start(t, filepath.Join(work, "redis.log"), nil, redisBin,
		"--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work)
	waitTCP(t, redisPort)

	configDir := filepath.Join(work, "runtime", "ratelimit", "config")
	if err := os.MkdirAll(configDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(configDir, "api.yaml"), []byte(serviceConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	httpPort := freePort(t)
	service := start(t, filepath.Join(work, "service.log"), []string{
		"REDIS_SOCKET_TYPE=tcp", "REDIS_URL=127.0.0.1:" + strconv.Itoa(redisPort), "USE_STATSD=false",
		"HOST=127.0.0.1", "GRPC_HOST=127.0.0.1", "DEBUG_HOST=127.0.0.1",
		"PORT=" + strconv.Itoa(httpPort), "GRPC_PORT=" + strconv.Itoa(freePort(t)), "DEBUG_PORT=" + strconv.Itoa(freePort(t)),
		"RUNTIME_ROOT=" + filepath.Join(work, "runtime"), "RUNTIME_SUBDIRECTORY=ratelimit", "RUNTIME_WATCH_ROOT=false",
		"LOG_LEVEL=warn",
	}, serviceBin)
	serviceURL := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	waitHTTP(t, serviceURL+"/healthcheck")

	t.Run("exact across two proxies", func(t *testing.T) {
		a := newProxy(t, wasm, pluginConfig("closed", "500ms"), serviceURL)
		b := newProxy(t, wasm, pluginConfig("closed", "500ms"), serviceURL)
		// The service counts in calendar minutes: start early in one, so
		// that the traffic does not straddle two, and check it did not.
		if s := time.Now().Second(); s > 40 {
			time.Sleep(time.Duration(61-s) * time.Second)
		}
		window := time.Now().Unix() / 60
		client := "alice-" + strconv.FormatInt(time.Now().UnixNano(), 36) // not counted by an earlier run
		results := make(chan *host.Response, 3*limit)
		var wg sync.WaitGroup
		for _, p := range []*proxy{a, b} {
			for _, vm := range p.vms {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 3 * limit / 6 {
						results <- p.send(t, vm, client)
					}
				}()
			}
		}
		wg.Wait()
		close(results)
		if now := time.Now().Unix() / 60; now != window {
			t.Fatalf("the traffic straddled a minute boundary (%d to %d)", window, now)
		}
		admitted := 0
		for resp := range results {
			switch resp.Status {
			case 200:
				admitted++
			case 429:
				retry, err := strconv.Atoi(header(resp, "retry-after"))
				if err != nil || retry < 1 || retry > 60 {
					t.Errorf("429 with retry-after %q, want 1 to 60 seconds", header(resp, "retry-after"))
				}
				if header(resp, "x-ratelimit-remaining") != "0" || !strings.HasPrefix(header(resp, "x-ratelimit-limit"), "20, 20;w=60") {
					t.Errorf("429 with x-ratelimit-limit %q, -remaining %q", header(resp, "x-ratelimit-limit"), header(resp, "x-ratelimit-remaining"))
				}
			default:
				t.Errorf("status %d: %s", resp.Status, resp.Body)
			}
		}
		if admitted != limit {
			t.Errorf("admitted %d of %d requests of one client across two proxies, want exactly %d", admitted, 3*limit, limit)
		}
		// Another client is not affected.
		other := "bob-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		for i := range 5 {
			if resp := a.send(t, a.vms[i%3], other); resp.Status != 200 {
				t.Errorf("another client's request %d: status %d", i, resp.Status)
			}
		}
		for _, p := range []*proxy{a, b} {
			if n := p.counter(t, "result", "error", "checks_total"); n != 0 {
				t.Errorf("%d failed checks", n)
			}
		}
		t.Logf("admitted %d of %d; proxy a: %d ok, %d over limit; proxy b: %d ok, %d over limit", admitted, 3*limit,
			a.counter(t, "result", "ok", "checks_total"), a.counter(t, "result", "over_limit", "checks_total"),
			b.counter(t, "result", "ok", "checks_total"), b.counter(t, "result", "over_limit", "checks_total"))
	})

	t.Run("a token budget spent exactly across two proxies", func(t *testing.T) {
		a := newProxy(t, wasm, costConfig, serviceURL)
		b := newProxy(t, wasm, costConfig, serviceURL)
		if s := time.Now().Second(); s > 30 {
			time.Sleep(time.Duration(61-s) * time.Second)
		}
		window := time.Now().Unix() / 60
		client := "tokens-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		vms := append(append([]*host.VM(nil), a.vms...), b.vms...)
		// Every worker of both proxies serves requests concurrently, each
		// reporting 37 tokens: 24 of them, 888 tokens.
		var wg sync.WaitGroup
		for _, vm := range vms {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					if resp := sendCost(t, vm, client, 37); resp.Status != 200 {
						t.Errorf("status %d, want 200 within the budget", resp.Status)
					}
				}
			}()
		}
		wg.Wait()
		flushCharges(t, []*proxy{a, b}, 6)
		if got := remaining(t, serviceURL, client); got != budget-24*37 {
			t.Fatalf("the service has %d tokens left, want exactly %d - 24 × 37 = %d", got, budget, budget-24*37)
		}
		// Six more, one per worker: admitted, as the budget is not spent
		// when they ask, and overdrawing it.
		for _, vm := range vms {
			if resp := sendCost(t, vm, client, 37); resp.Status != 200 {
				t.Errorf("status %d, want 200: the budget is not spent yet", resp.Status)
			}
		}
		flushCharges(t, []*proxy{a, b}, 12)
		for i, vm := range vms {
			if resp := sendCost(t, vm, client, 37); resp.Status != 429 {
				t.Errorf("worker %d: status %d once the budget is spent, want 429", i, resp.Status)
			}
		}
		if now := time.Now().Unix() / 60; now != window {
			t.Fatalf("the traffic straddled a minute boundary (%d to %d)", window, now)
		}
	})

	// Each failure: a proxy failing open lets every request through, one
	// failing closed answers 503; within the timeout, counted, none hangs.
	failures := func(t *testing.T, url, reason string) {
		const timeout = 200 * time.Millisecond
		for _, mode := range []struct {
			failure string
			status  int
		}{{"open", 200}, {"closed", 503}} {
			p := newProxy(t, wasm, pluginConfig(mode.failure, timeout.String()), url)
			for i := range 6 {
				began := time.Now()
				resp := p.send(t, p.vms[i%3], "carol")
				if took := time.Since(began); took > timeout+time.Second {
					t.Errorf("failure_mode %s: request %d took %v, timeout %v", mode.failure, i, took, timeout)
				}
				if resp.Status != mode.status {
					t.Errorf("failure_mode %s: request %d: status %d, want %d", mode.failure, i, resp.Status, mode.status)
				}
			}
			if n := p.counter(t, "result", "error", "checks_total"); n != 6 {
				t.Errorf("failure_mode %s: %d failed checks counted, want 6", mode.failure, n)
			}
			if reason != "" {
				if n := p.counter(t, "reason", reason, "errors_total"); n != 6 {
					t.Errorf("failure_mode %s: errors{reason=%s} = %d, want 6", mode.failure, reason, n)
				}
			} else {
				var counts []string
				for _, r := range []string{"unavailable", "server_error", "rejected", "malformed", "dispatch"} {
					if n := p.counter(t, "reason", r, "errors_total"); n > 0 {
						counts = append(counts, r+"="+strconv.FormatUint(n, 10))
					}
				}
				t.Logf("failure_mode %s: errors by reason: %s", mode.failure, strings.Join(counts, ", "))
			}
		}
	}
	t.Run("a service that never answers", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(io.Discard, c); c.Close() }()
			}
		}()
		failures(t, "http://"+ln.Addr().String(), "unavailable")
	})
	t.Run("a service that answers garbage", func(t *testing.T) {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"overallCode": OK`))
		})}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		defer srv.Close()
		failures(t, "http://"+ln.Addr().String(), "malformed")
	})
	t.Run("Redis stopped", func(t *testing.T) {
		// Mid-run: requests keep coming through both proxies while Redis
		// stops; each is answered, by the service or by the failure mode.
		const timeout = 200 * time.Millisecond
		open := newProxy(t, wasm, pluginConfig("open", timeout.String()), serviceURL)
		closed := newProxy(t, wasm, pluginConfig("closed", timeout.String()), serviceURL)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[string]map[int]int{"open": {}, "closed": {}}
		for name, p := range map[string]*proxy{"open": open, "closed": closed} {
			for _, vm := range p.vms {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						began := time.Now()
						resp := p.send(t, vm, "dave-"+strconv.Itoa(i%500))
						if took := time.Since(began); took > timeout+time.Second {
							t.Errorf("failure_mode %s: a request took %v, timeout %v", name, took, timeout)
						}
						mu.Lock()
						statuses[name][resp.Status]++
						mu.Unlock()
					}
				}()
			}
		}
		time.Sleep(300 * time.Millisecond)
		redis.stop(t)
		deadline := time.Now().Add(10 * time.Second)
		for closed.counter(t, "result", "error", "checks_total") < 6 || open.counter(t, "result", "error", "checks_total") < 6 {
			if time.Now().After(deadline) {
				t.Fatal("no failures counted 10s after Redis stopped")
			}
			time.Sleep(50 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		t.Logf("statuses while Redis stopped: %v", statuses)
		// (A client over its limit would get 429: the 500 clients here
		// cannot be, within the seconds the test takes.)
		for code := range statuses["open"] {
			if code != 200 {
				t.Errorf("failing open: a request got %d", code)
			}
		}
		for code := range statuses["closed"] {
			if code != 200 && code != 503 {
				t.Errorf("failing closed: a request got %d", code)
			}
		}
		if statuses["closed"][200] == 0 || statuses["closed"][503] == 0 {
			t.Errorf("failing closed: %v; want requests admitted before Redis stopped and 503 after", statuses["closed"])
		}
		// And with Redis gone, every request takes the failure mode.
		// The service answers 400 when Redis fails, or takes longer than
		// the timeout to find out: either way a failure.
		failures(t, serviceURL, "")
	})
	t.Run("the service stopped", func(t *testing.T) {
		service.stop(t)
		failures(t, serviceURL, "unavailable")
	})
}

// proxy is one host, as one Envoy, with three worker VMs.
type proxy struct {
	h   *host.Host
	vms []*host.VM
}

func newProxy(t *testing.T, wasm []byte, config, serviceURL string) *proxy {
	t.Helper()
	ctx := context.Background()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	h, err := host.New(ctx, wasm, host.Config{
		PluginConfig: []byte(config),
		HTTPCall: func(ctx context.Context, c host.Callout) (*host.CalloutResponse, error) {
			if c.Cluster != "ratelimit" {
				return nil, fmt.Errorf("unknown cluster %q", c.Cluster)
			}
			return call(ctx, client, serviceURL, c)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	p := &proxy{h: h}
	for range 3 {
		vm, err := h.NewVM(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p.vms = append(p.vms, vm)
	}
	return p
}

// call makes the plugin's callout over HTTP.
func call(ctx context.Context, client *http.Client, base string, c host.Callout) (*host.CalloutResponse, error) {
	var method, path, authority string
	var headers [][2]string
	for _, h := range c.Headers {
		switch h[0] {
		case ":method":
			method = h[1]
		case ":path":
			path = h[1]
		case ":authority":
			authority = h[1]
		case "content-length":
		default:
			headers = append(headers, h)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(c.Body))
	if err != nil {
		return nil, err
	}
	req.Host = authority
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := &host.CalloutResponse{Headers: [][2]string{{":status", strconv.Itoa(resp.StatusCode)}}, Body: body}
	for name, values := range resp.Header {
		for _, v := range values {
			out.Headers = append(out.Headers, [2]string{strings.ToLower(name), v})
		}
	}
	return out, nil
}

// send sends one request of client through vm; the upstream answers 200.
func (p *proxy) send(t *testing.T, vm *host.VM, client string) *host.Response {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := vm.Serve(ctx, &host.Request{
		Headers: [][2]string{{":method", "GET"}, {":path", "/headers"}, {":authority", "httpbin.example.com"}, {":scheme", "http"}, {"x-client", client}},
		Source:  "10.0.0.1:40000",
	}, func(context.Context, *host.Request) (*host.Response, error) {
		return &host.Response{Status: 200, Body: []byte("ok")}, nil
	})
	if err != nil {
		t.Errorf("serve: %v", err)
		return &host.Response{}
	}
	return resp
}

// sendCost sends a request of client whose response reports cost tokens.
func sendCost(t *testing.T, vm *host.VM, client string, cost int) *host.Response {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := vm.Serve(ctx, &host.Request{
		Headers: [][2]string{{":method", "POST"}, {":path", "/v1/chat/completions"}, {":authority", "llm.example.com"}, {":scheme", "http"}, {"x-client", client}},
		Source:  "10.0.0.1:40000",
	}, func(context.Context, *host.Request) (*host.Response, error) {
		body := `{"choices": [], "usage": {"total_tokens": ` + strconv.Itoa(cost) + `}}`
		return &host.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(body)}, nil
	})
	if err != nil {
		t.Errorf("serve: %v", err)
		return &host.Response{}
	}
	return resp
}

// flushCharges ticks every worker until the charges it sent, want in all
// (one per worker and tick with charges), are answered.
func flushCharges(t *testing.T, proxies []*proxy, want uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n uint64
		for _, p := range proxies {
			n += p.counter(t, "result", "ok", "charges_total") // ticks, which sends what is queued
		}
		if n == want {
			return
		}
		if n > want || time.Now().After(deadline) {
			t.Fatalf("%d charges answered, want %d", n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// remaining asks the service, charging nothing, how many tokens client has
// left this minute.
func remaining(t *testing.T, serviceURL, client string) int {
	t.Helper()
	body := `{"domain":"api","descriptors":[{"entries":[{"key":"generic_key","value":"tokens"},{"key":"client","value":"` + client + `"}],"hitsAddend":0}]}`
	resp, err := http.Post(serviceURL+"/json", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Statuses []struct {
			LimitRemaining int `json:"limitRemaining"`
		} `json:"statuses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || len(answer.Statuses) != 1 {
		t.Fatalf("the service's answer: %v (%d statuses)", err, len(answer.Statuses))
	}
	return answer.Statuses[0].LimitRemaining
}

// counter reads policy_ratelimit_global_<name>{key=value} summed over the
// proxy's VMs, after a tick has flushed them.
func (p *proxy) counter(t *testing.T, key, value, name string) uint64 {
	t.Helper()
	for _, vm := range p.vms {
		if err := vm.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	m, ok := p.h.Metric("filter=.=ratelimit;.;" + key + "=.=" + value + ";.;policy_ratelimit_global_" + name)
	if !ok {
		t.Fatalf("no metric %s{%s=%s}", name, key, value)
	}
	return m.Value
}

func header(resp *host.Response, name string) string {
	for _, h := range resp.Headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// process is a process the test started.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs bin with args and the extra environment, its output in log;
// it is stopped when the test ends, and dies with the test binary.
func start(t *testing.T, log string, env []string, bin string, args ...string) *process {
	t.Helper()
	out, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); out.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			if b, err := os.ReadFile(log); err == nil {
				t.Logf("%s:\n%s", filepath.Base(log), lastLines(string(b), 30))
			}
		}
	})
	return p
}

// stop ends the process and waits for it.
func (p *process) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitTCP(t *testing.T, port int) {
	t.Helper()
	for range 100 {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for range 100 {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s does not answer 200", url)
}
