package policy_test

import (
	"slices"
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz/jwt"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/internal/testfilters"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// A filter's lines name it, and never show a value a filter of the plugin
// declared secret: not the filter's own, not another's, not when a client
// sends it back.
func TestLogger(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		config := wasmtest.Chain(
			step("keys", `{"secret": "k-7Hq2"}`),
			step("audit", `{"log": "saw key k-7Hq2; header", "secret": "tok-9Zp"}`),
		)
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, append(request, [2]string{"x-log", "tok-9Zp and k-7Hq2k-7Hq2, tok-9"}), true)
		want := "policy: filter audit: saw key [secret]; header [secret] and [secret][secret], tok-9"
		if logs := host.GetInfoLogs(); !slices.Contains(logs, want) {
			t.Errorf("info logs %q, want %q", logs, want)
		}
	})
}

// The module's filters declare their secrets: headerauth's keys and secret
// values, jwt's shared keys.
func TestFiltersDeclareSecrets(t *testing.T) {
	plugin := policy.Configured(headerauth.Kind, jwt.Kind, testfilters.Kind)
	config := wasmtest.Chain(
		`{"name": "headerauth", "config": {"rules": [{"header": "x-key", "keys": {"alice": "k-alice-123"}}, {"any_of": [{"header": "x-pass", "values": ["p-secret-9"], "secret": true}, {"header": "x-other"}]}]}}`,
		`{"name": "jwt", "config": {"providers": [{"name": "hs", "issuer": "me", "jwks": {"keys": [{"kty": "oct", "kid": "a", "k": "c2hhcmVkLXNlY3JldC0xMjM0NTY3ODkwMTIzNDU2Nzg5MA"}]}}], "rules": [{"allow_missing": true}]}}`,
		step("audit", `{"log": "header"}`),
	)
	host, reset := wasmtest.Start(t, plugin, config)
	defer reset()
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, append(request, [][2]string{{"x-key", "k-alice-123"}, {"x-pass", "p-secret-9"},
		{"x-log", "k-alice-123 p-secret-9 c2hhcmVkLXNlY3JldC0xMjM0NTY3ODkwMTIzNDU2Nzg5MA"}}...), true)
	want := "policy: filter audit: header [secret] [secret] [secret]"
	if logs := host.GetInfoLogs(); !slices.Contains(logs, want) {
		t.Errorf("info logs %q, want %q", logs, want)
	}
}
