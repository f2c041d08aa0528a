package headerauth_test

import (
	"slices"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/match"
)

// apiKeyConfig is the Go form of apiKeyJSON.
var apiKeyConfig = headerauth.Config{
	Rule: headerauth.Rule{
		Header:         "x-api-key",
		Keys:           []headerauth.Key{{Name: "alice", Value: "k-alice-0001"}},
		Strip:          true,
		IdentityHeader: "x-consumer",
	},
	Bypass: []match.Match{{Methods: []string{"OPTIONS"}}},
	Deny:   policy.DenyResponse{Status: 401, Body: "key required\n"},
}

const apiKeyJSON = `{"header": "x-api-key", "keys": {"alice": "k-alice-0001"}, "strip": true,
	"identity_header": "x-consumer", "bypass": [{"methods": ["OPTIONS"]}],
	"deny": {"status": 401, "body": "key required\n"}}`

// TestGoComposition runs a chain built in Go with headerauth.Filter
// natively, and the same configuration written as JSON in the compiled
// example: both must answer alike.
func TestGoComposition(t *testing.T) {
	static := func() types.VMContext {
		spec := headerauth.Filter(apiKeyConfig)
		spec.ID = "headerauth" // the metric names below use the default ID
		return policy.Static(spec)
	}
	wasmtest.Both(t, image, static, func(t *testing.T, r wasmtest.Runner) {
		config := "" // a chain built in Go needs no configuration
		if r.Wasm != nil {
			config = pluginConfig(apiKeyJSON, "")
		}
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()

		e := send(host, "GET", "/", [][2]string{{"x-api-key", "k-alice-0001"}, {"x-consumer", "root"}})
		if e.local != nil || !slices.Equal(wasmtest.HeaderValues(e.upstream, "x-consumer"), []string{"alice"}) ||
			wasmtest.HeaderValues(e.upstream, "x-api-key") != nil {
			t.Errorf("valid key: local reply %v, upstream %q", e.local, e.upstream)
		}
		e = send(host, "GET", "/", nil)
		if e.local == nil || e.local.StatusCode != 401 || string(e.local.Data) != "key required\n" ||
			!slices.Equal(wasmtest.HeaderValues(e.local.Headers, "www-authenticate"), []string{`ApiKey realm="api"`}) {
			t.Errorf("no key: local reply %+v, want 401 with the default challenge", e.local)
		}
		if e = send(host, "OPTIONS", "/", nil); e.local != nil {
			t.Errorf("OPTIONS: local reply %d, want bypass", e.local.StatusCode)
		}
		if got := wasmtest.Counter(t, host, decisions("denied")); got != 1 {
			t.Errorf("denied counted %d times, want 1", got)
		}
		if got := wasmtest.Counter(t, host, bypassedTotal); got != 1 {
			t.Errorf("bypassed counted %d times, want 1", got)
		}
	})
}

// A chain built in Go: API keys checked in shadow mode first.
func ExampleFilter() {
	spec := headerauth.Filter(headerauth.Config{
		Rule: headerauth.Rule{
			Header:         "x-api-key",
			Keys:           []headerauth.Key{{Name: "billing", Value: "<billing key>"}, {Name: "search", Value: "<search key>"}},
			Strip:          true,
			IdentityHeader: "x-consumer",
		},
		Bypass: []match.Match{{Path: match.Path{Exact: "/healthz"}}, {Methods: []string{"OPTIONS"}}},
		Deny:   policy.DenyResponse{Status: 401},
	})
	spec.Mode = policy.Shadow
	policy.Serve(policy.Static(spec))
}
