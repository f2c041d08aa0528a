package ratelimit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/ratelimit"
)

// goConfig and jsonConfig are the same filter, written for Go composition
// and for the plugin configuration.
var goConfig = ratelimit.Config{
	Limit: ratelimit.Limit{RequestsPerUnit: 2, Unit: ratelimit.Minute, Key: []string{"header:x-user"}},
	Rules: []ratelimit.Rule{{
		Match: match.Match{Path: match.Path{Prefix: "/admin/"}},
		Limit: ratelimit.Limit{TokensPerFill: 1, FillInterval: 10 * time.Second},
	}},
	RateLimitHeaders: true,
}

const jsonConfig = `{"filters": [{"name": "ratelimit", "id": "api", "mode": "shadow", "config": {
	"requests_per_unit": 2, "unit": "minute", "key": ["header:x-user"],
	"rules": [{"match": {"path": {"prefix": "/admin/"}}, "limit": {"tokens_per_fill": 1, "fill_interval": "10s"}}],
	"rate_limit_headers": true}}]}`

func TestGoCompositionMatchesJSON(t *testing.T) {
	// The "go" run builds the filter in Go (policy.Static), the "wasm" run
	// is the example image configured with the equivalent JSON: the same
	// requests must get the same answers.
	static := func() types.VMContext {
		spec := ratelimit.Filter(goConfig)
		spec.ID, spec.Mode = "api", policy.Shadow
		return policy.Static(spec)
	}
	wasmtest.Both(t, image, static, func(t *testing.T, r wasmtest.Runner) {
		config := "" // a chain built in Go needs no configuration
		if r.Wasm != nil {
			config = jsonConfig
		}
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		steps := []struct {
			req       request
			remaining string
		}{
			{withHeader(0, "x-user", "a"), "1"},
			{withHeader(0, "x-user", "a"), "0"},
			{withHeader(0, "x-user", "a"), "0"}, // denied, in shadow mode
			{withHeader(0, "x-user", "b"), "1"},
			{request{path: "/admin/x"}, "0"},
			{request{path: "/admin/x", at: 5 * time.Second}, "0"}, // denied, in shadow mode
			{request{path: "/admin/x", at: 10 * time.Second}, "0"},
		}
		for i, s := range steps {
			res := send(t, host, r.Wasm, s.req)
			if res.status != 200 || !equalValues(wasmtest.HeaderValues(res.headers, "x-ratelimit-remaining"), s.remaining) {
				t.Fatalf("request %d: status %d, x-ratelimit-remaining %q; want 200 and %s", i, res.status,
					wasmtest.HeaderValues(res.headers, "x-ratelimit-remaining"), s.remaining)
			}
		}
		if got := wasmtest.Counter(t, host, "filter=.=api;.;decision=.=shadow_denied;.;policy_filter_decisions_total"); got != 2 {
			t.Fatalf("shadow_denied = %d, want 2", got)
		}
		// The filter's ID names its records.
		if _, _, err := proxywasm.GetSharedData("ratelimit/api/0/all"); err != nil {
			t.Fatalf("the admin rule's bucket: %v", err)
		}
	})
}

func equalValues(got []string, want string) bool { return len(got) == 1 && got[0] == want }

func TestGoConfigErrorsFailThePluginStart(t *testing.T) {
	// New reports a bad Config with the same paths as the JSON decoder.
	p := policy.Static(ratelimit.Filter(ratelimit.Config{Rules: []ratelimit.Rule{
		{Limit: ratelimit.Limit{RequestsPerUnit: 1, Key: []string{"source_ip"}, MaxKeys: -1}},
	}}))
	started, logs := wasmtest.TryStart(p, "")
	if started {
		t.Fatal("plugin started")
	}
	want := "filters[0] (ratelimit): rules[0].limit.max_keys: must be > 0, not -1"
	if len(logs) != 1 || !strings.HasSuffix(logs[0], want) {
		t.Fatalf("critical logs %q, want one ending in %q", logs, want)
	}
}
