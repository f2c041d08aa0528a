package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wasmpolicy/policy/internal/host"
)

// The request every plugin serves, and the upstream's answer: a GET that
// every example's configuration lets through (authz allows GET /status/*,
// headerauth wants allow: true, globalratelimit checks each x-client with
// the rate limit service, llmbudget charges nothing for an answer without
// usage (benchConfig); the jwt example's rows add a token, below, and the
// routes example's its API key, routesRequest), with the headers a proxy
// typically passes, on the route benchRoute. An entry of a section of its
// own may have a request and an answer of its own (plugin.headers, body
// and response).
var (
	requestHeaders = [][2]string{
		{":method", "GET"}, {":path", "/status/ok"}, {":authority", "api.example.com"}, {":scheme", "https"},
		{"user-agent", "curl/8.5.0"}, {"accept", "*/*"}, {"allow", "true"}, {"x-client", "bench"},
		{"x-forwarded-proto", "https"}, {"x-request-id", "6f1f5c0e-5b1a-4a43-9d3e-8d3d1c8e2f11"},
	}
	upstreamResponse = &host.Response{Status: 200, Headers: [][2]string{
		{"content-type", "text/plain"}, {"content-length", "3"}, {"server", "upstream"},
	}, Body: []byte("ok\n"), Details: "via_upstream"}
)

// benchRoute is the route_name of every benchmark request, compiled and
// native.
const benchRoute = "api"

// The tokens of the jwt example's benchmark requests, in an authorization
// header after requestHeaders: one RS256 (kid "rs") and one ES256 (kid
// "es"), signed with the test keys of examples/jwt/main_test.go, with the
// claims its config.json asks for (iss https://issuer.example, aud api,
// scope ["read"], sub bench), iat 2023-11-14 and exp 2100-01-01: far past
// any request.time a run reaches (t0, then requestGap per request) and the
// real clock. Only the jwt rows send one, so the other plugins' requests,
// and their figures, are unchanged.
const (
	jwtRS256Token = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwic3ViIjoiYmVuY2giLCJzY29wZSI6WyJyZWFkIl0sImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwfQ.SCfUSC1le7ifUiX1_HvEC3tuBvv2Yh8v2qyZa7sbeKEm_U0S1f0BYUrMh39yD3rjzfDU6zctkKNp0gMmSSpvo_Vc9UiCieslO4VbDvdwSjbpW9yVw9UvCLfEg2qaTIjaF8e79WwhiTZiv7tmAGxiiKXCWXeZM5d4hHor5pga5fhNOvfjlWoFgJLcZ5sGjcr8fg5x_6cDaSEX0capbYtZXYovnYqQLHKtRQAPMUBmnRpvlRVRtwHfqL0UftzpfpyEAg4uVyShv0_4WF3i1e7Vs2tglfEe_gBkoIMvTS9RIVRn8O8ws1mWUs0rXdcSh2371u0RU3KVJf8jq0t8dAaU0A"
	jwtES256Token = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVzIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwic3ViIjoiYmVuY2giLCJzY29wZSI6WyJyZWFkIl0sImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwfQ.eUqSBIlqKEH2jwBsOEM3gHAa5Dl5qFHfLF2iaBH62KN5hVnmazhZzcarWAPFR_hFkFJTAQ3byBQynxEJmz-4Fw"
)

// postJSON is requestHeaders made a POST of a JSON body to path (the
// benchmark's own path when empty), with extra headers after them: the
// request of the measures that send a body.
func postJSON(path string, extra ...[2]string) [][2]string {
	out := make([][2]string, 0, len(requestHeaders)+1+len(extra))
	for _, h := range requestHeaders {
		switch {
		case h[0] == ":method":
			h[1] = "POST"
		case h[0] == ":path" && path != "":
			h[1] = path
		}
		out = append(out, h)
	}
	return append(append(out, [2]string{"content-type", "application/json"}), extra...)
}

// withBearer is requestHeaders with an authorization header for token.
func withBearer(token string) [][2]string {
	return append(append([][2]string{}, requestHeaders...), [2]string{"authorization", "Bearer " + token})
}

// The rate limit service's answer to every check (cluster "ratelimit"),
// given by the host at once: the cost of going global, without the
// network.
var (
	rateLimitHeaders = [][2]string{{":status", "200"}, {"content-type", "application/json"}}
	rateLimitAnswer  = []byte(`{"overallCode":"OK","statuses":[{"code":"OK","currentLimit":{"requestsPerUnit":1000,"unit":"MINUTE"},"limitRemaining":999,"durationUntilReset":"30s"}]}`)
)

func answerCallout(_ context.Context, c host.Callout) (*host.CalloutResponse, error) {
	if c.Cluster != "ratelimit" {
		return nil, fmt.Errorf("no cluster %q", c.Cluster)
	}
	return &host.CalloutResponse{Headers: rateLimitHeaders, Body: rateLimitAnswer}, nil
}

// requestGap is the time between two requests as the plugin sees it
// (request.time): wide enough that the tutorial scenario's 2 requests per
// second are always admitted.
const requestGap = time.Second

// t0 is the request.time of a runner's first request.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// cache is the wazero compilation cache every host of the run shares; run
// sets it to build/wazero-cache (shared with the local runner), so that
// only changed images compile again. cacheDir is that directory.
var (
	cache    = wazero.NewCompilationCache()
	cacheDir string
)

func useCacheDir(dir string) {
	if c, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
		cache, cacheDir = c, dir
	}
}

// privateCache is a compilation cache of one host's own, over the same
// directory: wazero keeps a compiled module in memory with the function
// listeners of its first compilation, so a host that listens (see
// moduleCatcher) needs a cache whose memory is its own. The caller closes
// it.
func privateCache() wazero.CompilationCache {
	if cacheDir != "" {
		if c, err := wazero.NewCompilationCacheWithDir(cacheDir); err == nil {
			return c
		}
	}
	return wazero.NewCompilationCache()
}

// runner serves the benchmark request through one VM of one plugin.
type runner struct {
	p    plugin
	host *host.Host
	vm   *host.VM
	req  host.Request
	up   host.Upstream

	upAt, upDone time.Time // when the request left for the upstream, and the answer came back
}

// newRunner loads p into a host of its own with cfg (its PluginConfig is
// set here, its Cache unless cfg has one, and its Clock for a plugin that
// limits by the WASI clock) and starts one VM. Its upstream answers
// p.answer().
func newRunner(ctx context.Context, p plugin, cfg host.Config) (*runner, error) {
	cfg.PluginConfig = p.config
	if cfg.Cache == nil {
		cfg.Cache = cache
	}
	if p.wasiClock {
		cfg.Clock = steppingClock()
	}
	if cfg.HTTPCall == nil {
		cfg.HTTPCall = answerCallout
	}
	h, err := host.New(ctx, p.wasm, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	vm, err := h.NewVM(ctx)
	if err != nil {
		h.Close(ctx)
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	r := &runner{p: p, host: h, vm: vm, req: host.Request{Headers: p.request(), Body: p.body,
		Source: "10.1.2.3:41234", Destination: "10.4.5.6:8080", Route: benchRoute, Time: t0}}
	r.up = func(context.Context, *host.Request) (*host.Response, error) {
		r.upAt = time.Now()
		defer func() { r.upDone = time.Now() }()
		return p.answer(), nil
	}
	return r, nil
}

func (r *runner) close(ctx context.Context) { r.host.Close(ctx) }

// serve runs one request, a requestGap after the previous one, and checks
// that the plugin let it through.
func (r *runner) serve(ctx context.Context) (*host.Response, error) {
	r.req.Time = r.req.Time.Add(requestGap)
	resp, err := r.vm.Serve(ctx, &r.req, r.up)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.p, err)
	}
	if r.p.deniedWith != 0 {
		if r.p.deniedWith > 0 && resp.Status != r.p.deniedWith {
			return nil, fmt.Errorf("%s answered the benchmark request %d (%s), not %d", r.p, resp.Status, resp.Details, r.p.deniedWith)
		}
		return resp, nil
	}
	if want := r.p.answer().Status; resp.Status != want || resp.Details != "via_upstream" {
		return nil, fmt.Errorf("%s answered the benchmark request %d (%s), not the upstream's %d: its configuration must let the request through",
			r.p, resp.Status, resp.Details, want)
	}
	return resp, nil
}

// serveN runs n requests and returns the time they spent in the request
// phase (from the stream's creation until the request leaves for the
// upstream), in the response phase (from the upstream's answer until the
// stream is deleted: stream-done filters run there) and in all.
func (r *runner) serveN(ctx context.Context, n int) (request, response, total time.Duration, err error) {
	for i := 0; i < n; i++ {
		start := time.Now()
		if _, err := r.serve(ctx); err != nil {
			return 0, 0, 0, err
		}
		end := time.Now()
		request += r.upAt.Sub(start)
		response += end.Sub(r.upDone)
		total += end.Sub(start)
	}
	return request, response, total, nil
}

// newFixedClock is a host configuration whose clock starts at t0 and
// advances a microsecond per reading, so that two runs of the same requests
// see the same times.
func newFixedClock() host.Config {
	now := t0
	return host.Config{Clock: func() time.Time {
		now = now.Add(time.Microsecond)
		return now
	}}
}

// steppingClock is a clock that starts at t0 and moves a requestGap per
// reading: for a plugin that limits by the WASI clock, what request.time is
// for the library's rate limit. Each request reads it at least once, so
// the tutorial's 2 per second admits every benchmark request, as the
// library's does.
func steppingClock() func() time.Time {
	now := t0
	return func() time.Time {
		now = now.Add(requestGap)
		return now
	}
}
