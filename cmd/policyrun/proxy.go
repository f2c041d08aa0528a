package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/internal/prometheus"
)

// options configure a proxy.
type options struct {
	wasm, config []byte
	name         string // the plugin's file, for messages
	upstream     *url.URL
	clusters     map[string]*url.URL
	workers      int
	route        string
	minLevel     host.LogLevel
	log          io.Writer
	accessLog    bool
	cacheDir     string
}

// maxBody bounds the request and response bodies the proxy buffers for the
// plugin (Envoy buffers bodies a plugin reads, up to a limit, too).
const maxBody = 8 << 20

// proxy is an http.Handler that sends every request through the plugin:
// one host.VM per worker, requests spread over them in turn.
type proxy struct {
	host      *host.Host
	vms       []*host.VM
	next      atomic.Uint32
	upstream  *url.URL
	clusters  map[string]*url.URL
	route     string
	transport *http.Transport
	accessLog bool

	logMu    sync.Mutex
	log      io.Writer
	minLevel host.LogLevel
	// While the VMs start, the plugin's log lines are held in held
	// (holding is set), so that the line a refusal repeats is not
	// printed twice.
	holding bool
	held    []logLine
}

type logLine struct {
	level host.LogLevel
	msg   string
}

// progressEvery is how often compiling the plugin reports that it is
// still at it.
var progressEvery = 5 * time.Second

func newProxy(ctx context.Context, o options) (*proxy, error) {
	p := &proxy{upstream: o.upstream, clusters: o.clusters, route: o.route, log: o.log, minLevel: o.minLevel,
		accessLog: o.accessLog, transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}}
	cfg := host.Config{PluginConfig: o.config, Log: p.pluginLog, HTTPCall: p.callout}
	if o.cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(o.cacheDir)
		if err != nil {
			return nil, &loadError{err}
		}
		cfg.Cache = cache
	}
	h, err := p.compile(ctx, o, cfg)
	if err != nil {
		return nil, &loadError{err}
	}
	p.host = h
	if err := p.startVMs(ctx, o.workers); err != nil {
		h.Close(ctx)
		return nil, err
	}
	return p, nil
}

// loadError is an error loading the plugin, before it sees its
// configuration.
type loadError struct{ err error }

func (e *loadError) Error() string { return e.err.Error() }
func (e *loadError) Unwrap() error { return e.err }

// compile loads the plugin, saying what it does: compiling a large module
// takes seconds.
func (p *proxy) compile(ctx context.Context, o options, cfg host.Config) (*host.Host, error) {
	start := time.Now()
	p.say("compiling %s (%.1f MB)", o.name, float64(len(o.wasm))/(1<<20))
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.say("still compiling %s (%s)", o.name, time.Since(start).Round(time.Second))
			}
		}
	}()
	h, err := host.New(ctx, o.wasm, cfg)
	close(done)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.name, err)
	}
	p.say("compiled in %s; starting %d VMs", time.Since(start).Round(10*time.Millisecond), o.workers)
	return h, nil
}

// startVMs starts n VMs. If the plugin refuses to start, the error says
// why, and the log line it repeats is not printed.
func (p *proxy) startVMs(ctx context.Context, n int) error {
	p.logMu.Lock()
	p.holding = true
	p.logMu.Unlock()
	var err error
	for i := 0; i < n && err == nil; i++ {
		var vm *host.VM
		if vm, err = p.host.NewVM(ctx); err == nil {
			p.vms = append(p.vms, vm)
		}
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	p.holding = false
	var refused *host.RefusedError
	shown := !errors.As(err, &refused) // the refusal's message is in err
	for _, l := range p.held {
		if !shown && l.msg == refused.Message {
			shown = true
			continue
		}
		p.writeLog(l.level, l.msg)
	}
	p.held = nil
	return err
}

func (p *proxy) close() { p.host.Close(context.Background()) }

// say writes a line of the runner's own.
func (p *proxy) say(format string, args ...any) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	fmt.Fprintf(p.log, "policyrun: "+format+"\n", args...)
}

// pluginLog writes the plugin's log lines at or above the chosen level.
func (p *proxy) pluginLog(level host.LogLevel, msg string) {
	if level < p.minLevel {
		return
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	if p.holding {
		p.held = append(p.held, logLine{level, msg})
		return
	}
	p.writeLog(level, msg)
}

func (p *proxy) writeLog(level host.LogLevel, msg string) {
	fmt.Fprintf(p.log, "policyrun: [%s] %s\n", level, msg)
}

// deniedBy is the line the library's dispatcher logs (at debug) when a
// filter answers a request itself.
var deniedBy = regexp.MustCompile(`^policy: filter (\S+) denied with \d+: (.*)$`)

// exchange is what the access log says of one request.
type exchange struct {
	mu       sync.Mutex
	upstream bool   // the request reached the upstream
	filter   string // the filter that answered it, and why
	reason   string
}

func (x *exchange) log(level host.LogLevel, msg string) {
	if m := deniedBy.FindStringSubmatch(msg); m != nil {
		x.mu.Lock()
		x.filter, x.reason = m[1], m[2]
		x.mu.Unlock()
	}
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, err := toRequest(r, p.route)
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	x := &exchange{}
	if p.accessLog {
		req.Log = x.log // only the access log reads which filter denied
	}
	vm := p.vms[int(p.next.Add(1)-1)%len(p.vms)]
	resp, err := vm.Serve(r.Context(), req, func(ctx context.Context, req *host.Request) (*host.Response, error) {
		x.mu.Lock()
		x.upstream = true
		x.mu.Unlock()
		return p.forward(ctx, req)
	})
	var trap *host.TrapError
	switch {
	case errors.Is(err, host.ErrStreamClosed):
		p.access(r, x, nil, err, start)
		panic(http.ErrAbortHandler) // the plugin reset the stream
	case errors.As(err, &trap):
		// The host logged the trap when it happened.
	case err != nil:
		p.pluginLog(host.LogError, "policyrun: "+err.Error())
	}
	writeResponse(w, resp)
	p.access(r, x, resp, err, start)
}

// access writes the -v line of a request.
func (p *proxy) access(r *http.Request, x *exchange, resp *host.Response, err error, start time.Time) {
	if !p.accessLog {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	var from string
	switch {
	case errors.Is(err, host.ErrStreamClosed):
		from = "reset by the plugin"
	case err != nil:
		from = resp.Details + ": " + err.Error()
	case x.filter != "":
		from = "local reply by filter " + x.filter + ": " + x.reason
	case x.upstream && resp.Details != "via_upstream":
		from = "local reply: " + resp.Details
	case x.upstream:
		from = "upstream"
	default:
		from = "local reply"
	}
	status := "-"
	if resp != nil {
		status = fmt.Sprint(resp.Status)
	}
	p.say("%s %s %s (%s) %s", r.Method, r.RequestURI, status, from, time.Since(start).Round(time.Microsecond))
}

// forward sends the request, as the plugin left it, to the upstream.
func (p *proxy) forward(ctx context.Context, req *host.Request) (*host.Response, error) {
	status, headers, body, err := p.roundTrip(ctx, p.upstream, req.Headers, req.Body)
	if err != nil {
		p.pluginLog(host.LogWarn, "policyrun: upstream: "+err.Error())
		return nil, err
	}
	resp := &host.Response{Status: status, Headers: headers, Body: body, Details: "via_upstream"}
	if isEventStream(headers) {
		resp.Chunks = events(body)
	}
	return resp, nil
}

// isEventStream reports whether a response is a stream of Server-Sent
// Events, which the plugin gets event by event.
func isEventStream(headers [][2]string) bool {
	var contentType []string
	for _, h := range headers {
		if h[0] == "content-type" {
			contentType = append(contentType, h[1])
		}
	}
	t, _ := httptoken.MediaType(contentType)
	return t == "text/event-stream"
}

// events cuts a stream of Server-Sent Events after each blank line, as an
// upstream that sends an event at a time delivers it; the last piece is
// empty, the stream's end.
func events(body []byte) [][]byte {
	var out [][]byte
	for len(body) > 0 {
		i := bytes.Index(body, []byte("\n\n"))
		if i < 0 {
			out = append(out, body)
			break
		}
		out = append(out, body[:i+2])
		body = body[i+2:]
	}
	return append(out, nil)
}

// callout makes one of the plugin's HTTP callouts to the URL of its
// cluster. An unknown cluster fails the call.
func (p *proxy) callout(ctx context.Context, c host.Callout) (*host.CalloutResponse, error) {
	base, ok := p.clusters[c.Cluster]
	if !ok {
		return nil, fmt.Errorf("unknown cluster %q (give it with -cluster %s=URL)", c.Cluster, c.Cluster)
	}
	status, headers, body, err := p.roundTrip(ctx, base, c.Headers, c.Body)
	if err != nil {
		return nil, err
	}
	headers = append([][2]string{{":status", fmt.Sprint(status)}}, headers...)
	return &host.CalloutResponse{Headers: headers, Body: body}, nil
}

// serveAdmin serves the plugin's metrics on ln, as Envoy's admin interface
// does, until the returned function is called.
func (p *proxy) serveAdmin(ln net.Listener) (stop func()) {
	mux := http.NewServeMux()
	mux.HandleFunc("/stats/prometheus", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		prometheus.Write(w, p.host.Metrics())
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		host.WriteStats(w, p.host.Metrics())
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "/stats/prometheus  the plugin's metrics in the Prometheus text format\n/stats             the plugin's metrics, one \"name: value\" line each\n")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }
}
