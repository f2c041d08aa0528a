package jwt_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz/jwt"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// TestDefaultsGoAndJSON builds the filter twice, from a Go Config that
// sets only a provider's required fields and from the JSON that does the
// same, and runs the same requests through both: each default must show
// the same way in both.
func TestDefaultsGoAndJSON(t *testing.T) {
	s := keysOnce()
	rs256 := algs(s)[0]

	// The token is the authorization header's Bearer credentials, removed
	// before the request goes upstream; every request needs one; exp, nbf
	// and iat have DefaultClockSkew of grace.
	t.Run("inline keys", func(t *testing.T) {
		cfg := jwt.Config{Providers: []jwt.Provider{{Name: "idp", Issuer: issuer, JWKS: s.jwks}}}
		config := `{"providers": [{"name": "idp", "issuer": "` + issuer + `", "jwks": ` + s.jwks + `}]}`
		valid := mint(t, rs256, "rsa", claims(nil))
		expired := func(ago time.Duration) string {
			return mint(t, rs256, "rsa", claims(map[string]any{"exp": t0.Add(-ago).Unix()}))
		}
		check := func(t *testing.T, p *policytest.Plugin) []string {
			var seen []string
			for _, c := range []struct {
				name    string
				headers [][2]string
				status  int
			}{
				{"a Bearer token", [][2]string{bearer(valid)}, 200},
				{"no token", nil, 401},
				{"a token elsewhere", [][2]string{{"x-token", valid}}, 401},
				{"a token expired within the skew", [][2]string{bearer(expired(jwt.DefaultClockSkew - time.Second))}, 200},
				{"a token expired beyond the skew", [][2]string{bearer(expired(jwt.DefaultClockSkew + time.Second))}, 401},
			} {
				res := p.Do(policytest.Request{Headers: c.headers})
				seen = append(seen, wasmtest.Describe(res))
				if res.Status != c.status {
					t.Errorf("%s: status %d (%s), want %d", c.name, res.Status, res.Reason, c.status)
				}
				if res.Forwarded != nil && res.Forwarded.Header("authorization") != "" {
					t.Errorf("%s: the token was forwarded", c.name)
				}
			}
			return seen
		}
		wasmtest.GoAndJSON(t, policy.Static(jwt.Filter(cfg)), policy.Configured(jwt.Kind),
			wasmtest.FilterConfig("jwt", "", config), check, policytest.StartTime(t0))
	})

	// A remote key set is fetched from the cluster with its name as the
	// authority and a 1s timeout, and again after three quarters of
	// DefaultJWKSCacheDuration; until the first fetch, tokens are refused.
	t.Run("remote keys", func(t *testing.T) {
		k1, _ := remoteKeys(s)
		tok := mint(t, rs256, "k1", claims(nil))
		cfg := jwt.Config{Providers: []jwt.Provider{{Name: "idp", Issuer: issuer, RemoteJWKS: &jwt.RemoteJWKS{Cluster: "idp-jwks", Path: jwksPath}}}}
		config := `{"providers": [{"name": "idp", "issuer": "` + issuer + `", "remote_jwks": {"cluster": "idp-jwks", "path": "` + jwksPath + `"}}]}`
		var seen [2][]string
		for i, run := range []struct {
			name, config string
			vm           *policy.Plugin
		}{
			{"go", "", policy.Static(jwt.Filter(cfg))},
			{"json", wasmtest.FilterConfig("jwt", "", config), policy.Configured(jwt.Kind)},
		} {
			t.Run(run.name, func(t *testing.T) {
				seen[i] = remoteDefaults(t, run.vm, run.config, tok, k1)
			})
		}
		if !t.Failed() && strings.Join(seen[0], "\n") != strings.Join(seen[1], "\n") {
			t.Errorf("built in Go, the filter gave\n%s\nconfigured from JSON,\n%s", strings.Join(seen[0], "\n"), strings.Join(seen[1], "\n"))
		}
	})
}

// remoteDefaults starts vm with config in the SDK's emulator, answers the
// key set's fetches, made from the tick, by hand, and checks the defaults
// of a remote key set; it returns what it saw.
func remoteDefaults(t *testing.T, vm *policy.Plugin, config, tok, keys string) []string {
	now := t0
	vm.Clock = func() time.Time { return now }
	host, reset := wasmtest.Start(t, vm, config)
	defer reset()
	var seen []string
	answered := 0
	pending := func() []proxytest.HttpCalloutAttribute {
		return host.GetCalloutAttributesFromContext(proxytest.PluginContextID)[answered:]
	}
	tick := func(d time.Duration) {
		now = now.Add(d)
		host.Tick()
	}
	fetch := func(status int, doc string) {
		t.Helper()
		calls := pending()
		if len(calls) != 1 {
			t.Fatalf("%d fetches pending, want 1", len(calls))
		}
		c := calls[0]
		seen = append(seen, c.Upstream+" "+strconv.Quote(first(c.Headers, ":authority"))+" "+first(c.Headers, ":path"))
		if c.Upstream != "idp-jwks" || first(c.Headers, ":authority") != "idp-jwks" || first(c.Headers, ":path") != jwksPath {
			t.Errorf("a fetch from %q, authority %q, path %q; want idp-jwks, idp-jwks, %s",
				c.Upstream, first(c.Headers, ":authority"), first(c.Headers, ":path"), jwksPath)
		}
		answered++
		if status == 0 {
			host.CallOnHttpCallResponse(c.CalloutID, nil, nil, nil)
			return
		}
		host.CallOnHttpCallResponse(c.CalloutID, [][2]string{{":status", strconv.Itoa(status)}}, nil, []byte(doc))
	}
	request := func(status uint32, reason string) {
		t.Helper()
		if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(now)); err != nil {
			t.Fatal(err)
		}
		id := host.InitializeHttpContext()
		action := host.CallOnRequestHeaders(id, [][2]string{{":method", "GET"}, {":path", "/x"}, {":authority", "a"}, bearer(tok)}, true)
		local := host.GetSentLocalResponse(id)
		host.CompleteHttpContext(id)
		var got uint32 = 200
		if local != nil {
			got = local.StatusCode
		} else if action != types.ActionContinue {
			t.Fatalf("the request was left paused (%v)", action)
		}
		seen = append(seen, strconv.Itoa(int(got)))
		if got != status {
			t.Fatalf("status %d, want %d; debug log %q", got, status, host.GetDebugLogs())
		}
		if reason != "" && !wasmtest.AnyContains(host.GetDebugLogs(), reason) {
			t.Fatalf("no log with %q: %q", reason, host.GetDebugLogs())
		}
	}

	request(401, "keys_unavailable") // failure_mode closed
	tick(time.Second)
	fetch(0, "")
	if !wasmtest.AnyContains(host.GetWarnLogs(), "without a response (timeout 1s)") {
		t.Errorf("the failed fetch's log %q does not give the 1s timeout", host.GetWarnLogs())
	}
	tick(time.Second) // the retry
	fetch(200, keys)
	request(200, "")
	// The refresh is due 7m30s after the fetch, not before.
	tick(3*jwt.DefaultJWKSCacheDuration/4 - time.Second)
	if n := len(pending()); n != 0 {
		t.Fatalf("%d fetches a second before the refresh is due", n)
	}
	tick(time.Second)
	fetch(200, keys)
	request(200, "")
	return seen
}

// first is the first value of the header name in headers, or "".
func first(headers [][2]string, name string) string {
	if v := wasmtest.HeaderValues(headers, name); len(v) > 0 {
		return v[0]
	}
	return ""
}
