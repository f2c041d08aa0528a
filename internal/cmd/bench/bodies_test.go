package main

import (
	"context"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The measure's two configurations serve the benchmark body, and the body
// rule reads it: the same request with user.role "admin" is denied by the
// body rule, not by the header rule.
func TestBodyPluginsReadTheBody(t *testing.T) {
	ctx := context.Background()
	img := plugin{name: "authz", wasm: wasmtest.Image(t, "authz")}
	rewrite := plugin{name: "jsonbody", wasm: wasmtest.Image(t, "jsonbody")}
	body := bodyRequest()
	if len(body) < bodySize-128 || len(body) > bodySize {
		t.Errorf("the body has %d bytes, want about %d", len(body), bodySize)
	}
	admin := []byte(strings.Replace(string(body), `"role": "user"`, `"role": "admin"`, 1))
	for i, p := range bodyPlugins(img, rewrite) {
		r, err := newRunner(ctx, p, host.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.serve(ctx); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		r.req.Body = admin
		var forwarded string
		resp, err := r.vm.Serve(ctx, &r.req, func(ctx context.Context, req *host.Request) (*host.Response, error) {
			forwarded = string(req.Body)
			return r.up(ctx, req)
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{200, 403, 200}[i]; resp.Status != want {
			t.Errorf("%s with role admin: %d, want %d", p, resp.Status, want)
		}
		if got := forwarded; i == 2 && (!strings.Contains(got, `"audit":{`) || strings.Contains(got, `"currency"`)) {
			t.Errorf("%s: the upstream got ...%s, want it stamped and without currency", p, got[max(0, len(got)-80):])
		}
		r.close(ctx)
	}
}

// The report's section gives the ratio and the memory.
func TestBodiesSection(t *testing.T) {
	r := sampleResults()
	r.bodies = bodies{header: 0.02, body: 0.05, rewrite: 0.08,
		rule:      bodyCost{allocs: allocStats{mallocs: 40, bytes: 9000}, memory: []memoryPoint{{100_000, 9 << 20}, {1_000_000, 9 << 20}}},
		rewriting: bodyCost{allocs: allocStats{mallocs: 60, bytes: 20000}, memory: []memoryPoint{{100_000, 10 << 20}, {1_000_000, 10 << 20}}}}
	md := r.markdown("x.svg")
	for _, want := range []string{"## JSON bodies",
		"| authz, rule on a body field | 0.050 | 2.50 | 40 (9000) | 9.00 MiB after 100,000, 9.00 MiB after 1,000,000 |",
		"| bodymutate, rewrite | 0.080 | 4.00 | 60 (20000) | 10.00 MiB after 100,000, 10.00 MiB after 1,000,000 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(sampleResults().markdown("x.svg"), "## JSON bodies") {
		t.Error("a run without the measure has its section")
	}
}
