package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"

	"github.com/wasmpolicy/policy/internal/host"
)

// options configure a proxy.
type options struct {
	wasm, config []byte
	upstream     *url.URL
	clusters     map[string]*url.URL
	workers      int
	route        string
	minLevel     host.LogLevel
	log          io.Writer
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

	logMu    sync.Mutex
	log      io.Writer
	minLevel host.LogLevel
}

func newProxy(ctx context.Context, o options) (*proxy, error) {
	p := &proxy{upstream: o.upstream, clusters: o.clusters, route: o.route, log: o.log, minLevel: o.minLevel,
		transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}}
	cfg := host.Config{PluginConfig: o.config, Log: p.pluginLog, HTTPCall: p.callout}
	if o.cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(o.cacheDir)
		if err != nil {
			return nil, err
		}
		cfg.Cache = cache
	}
	h, err := host.New(ctx, o.wasm, cfg)
	if err != nil {
		return nil, err
	}
	p.host = h
	for i := 0; i < o.workers; i++ {
		vm, err := h.NewVM(ctx)
		if err != nil {
			h.Close(ctx)
			return nil, err
		}
		p.vms = append(p.vms, vm)
	}
	return p, nil
}

func (p *proxy) close() { p.host.Close(context.Background()) }

// pluginLog writes the plugin's log lines at or above the chosen level.
func (p *proxy) pluginLog(level host.LogLevel, msg string) {
	if level < p.minLevel {
		return
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	fmt.Fprintf(p.log, "policyrun: [%s] %s\n", level, msg)
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := toRequest(r, p.route)
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	vm := p.vms[int(p.next.Add(1)-1)%len(p.vms)]
	resp, err := vm.Serve(r.Context(), req, p.forward)
	var trap *host.TrapError
	switch {
	case errors.Is(err, host.ErrStreamClosed):
		panic(http.ErrAbortHandler) // the plugin reset the stream
	case errors.As(err, &trap):
		// The host logged the trap when it happened.
	case err != nil:
		p.pluginLog(host.LogError, "policyrun: "+err.Error())
	}
	writeResponse(w, resp)
}

// forward sends the request, as the plugin left it, to the upstream.
func (p *proxy) forward(ctx context.Context, req *host.Request) (*host.Response, error) {
	status, headers, body, err := p.roundTrip(ctx, p.upstream, req.Headers, req.Body)
	if err != nil {
		p.pluginLog(host.LogWarn, "policyrun: upstream: "+err.Error())
		return nil, err
	}
	return &host.Response{Status: status, Headers: headers, Body: body, Details: "via_upstream"}, nil
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
