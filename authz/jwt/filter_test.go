package jwt_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/authz/jwt"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/stats"
)

// The filter tests run natively and against build/jwt.wasm, the example's
// image (examples/jwt): the jwt filter followed by authz rules on claims.
const image = "jwt"

func native() types.VMContext { return policy.Configured(jwt.Kind, authz.Kind) }

// chainConfig is the plugin configuration of the tests: providers "idp"
// (the test's keys, authorization header), "rfc" (the RFC 7515 keys, header
// x-rfc-token, forwarded) and "web" (the test's keys under another issuer,
// a cookie or a query parameter); authz allows /admin/ and /public/vip only
// to role admin.
func chainConfig(s *signers) string {
	return wasmtest.Chain(`{"name": "jwt", "config": {
		"providers": [
			{"name": "idp", "issuer": "`+issuer+`", "audiences": ["api", "other"], "jwks": `+s.jwks+`,
			 "claim_to_headers": [{"claim": "sub", "header": "x-user"}, {"claim": "groups", "header": "X-Groups"}, {"claim": "level", "header": "x-level"}]},
			{"name": "rfc", "issuer": "joe", "jwks": `+rfcJWKS+`, "from_headers": [{"name": "x-rfc-token"}], "forward": true,
			 "claim_to_headers": [{"claim": "http://example\\.com/is_root", "header": "x-root"}]},
			{"name": "web", "issuer": "https://web.example", "jwks": `+s.jwks+`, "from_cookies": ["session"], "from_params": ["access_token"]}
		],
		"rules": [
			{"match": {"path": {"prefix": "/public/"}}, "requires": ["web"], "allow_missing": true},
			{"match": {"path": {"prefix": "/rfc/"}}, "requires": ["rfc"]},
			{"match": {"path": {"prefix": "/web/"}}, "requires": ["web"]},
			{"requires": ["idp"]}
		]}}`,
		`{"name": "authz", "config": {"rules": [
			{"action": "allow", "match": {"path": {"glob": "/admin/**"}}, "claims": [{"path": "role", "equals": "admin"}]},
			{"action": "allow", "match": {"path": {"exact": "/public/vip"}}, "claims": [{"path": "role", "equals": "admin"}]},
			{"action": "deny", "match": {"path": {"glob": "/admin/**"}}},
			{"action": "deny", "match": {"path": {"exact": "/public/vip"}}}
		], "default": "allow"}}`)
}

// request is one request of the table.
type request struct {
	path    string
	headers [][2]string
	at      time.Time // request.time; t0 when zero
}

type want struct {
	status      uint32      // 0: sent upstream
	challenge   string      // the www-authenticate of a 401
	upstream    [][2]string // request headers the upstream must get, exactly
	notUpstream []string    // request headers it must not get
	path        string      // the upstream :path, when checked
	result      string      // jwt_requests_total result
	log         string      // in the debug log
}

func bearer(token string) [2]string { return [2]string{"authorization", "Bearer " + token} }

func TestFilter(t *testing.T) {
	s := keysOnce()
	a := algs(s)
	rs256, es256 := a[0], a[6]
	good := mint(t, rs256, "rsa", claims(nil))
	user := mint(t, es256, "ec256", claims(map[string]any{"role": "user", "sub": "bob"}))
	web := mint(t, es256, "", claims(map[string]any{"iss": "https://web.example"}))
	parts := strings.Split(good, ".")
	verified := func(sub string) want {
		return want{upstream: [][2]string{{"x-user", sub}}, notUpstream: []string{"authorization"}, result: "verified"}
	}
	refused := func(result, log string) want {
		return want{status: 401, challenge: `Bearer error="invalid_token"`, result: result, log: "token refused: " + log}
	}
	type tc struct {
		name string
		req  request
		want want
	}
	var cases []tc
	for _, al := range a {
		cases = append(cases, tc{"verifies " + al.method.Alg(), request{path: "/admin/x", headers: [][2]string{bearer(mint(t, al, al.kid, claims(nil)))}}, verified("alice")})
	}
	for name, tok := range map[string]string{"A.1 HS256": rfcHS256, "A.2 RS256": rfcRS256, "A.3 ES256": rfcES256} {
		cases = append(cases,
			tc{"RFC 7515 " + name, request{path: "/rfc/x", at: rfcTime, headers: [][2]string{{"x-rfc-token", tok}}},
				want{upstream: [][2]string{{"x-rfc-token", tok}, {"x-root", "true"}}, result: "verified"}},
			tc{"RFC 7515 " + name + " has expired", request{path: "/rfc/x", headers: [][2]string{{"x-rfc-token", tok}}},
				refused("expired", "expired: provider rfc: exp 2011-03-22T18:43:00Z, now 2026-12-01T12:00:00Z, clock skew 1m0s")})
	}
	cases = append(cases, []tc{
		{"claims to headers replace the client's", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"level": 3}))),
			{"x-user", "mallory"}, {"X-Groups", "admins"}, {"x-level", "9"}, {"x-root", "true"}}},
			want{upstream: [][2]string{{"x-user", "alice"}, {"x-groups", "ops,dev"}, {"x-level", "3"}}, notUpstream: []string{"authorization", "x-root"}, result: "verified"}},
		// An array claim is a comma-separated list: an element that a list
		// parser would split or trim differently is not copied.
		{"an array element with a comma is not copied", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"groups": []string{"read,admin"}}))), {"x-groups", "admins"}}},
			want{upstream: [][2]string{{"x-user", "alice"}}, notUpstream: []string{"x-groups"}, result: "verified"}},
		{"an array element with a space around it is not copied", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"groups": []string{"read", " admin"}})))}},
			want{upstream: [][2]string{{"x-user", "alice"}}, notUpstream: []string{"x-groups"}, result: "verified"}},
		{"a claim with a line break is not copied", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"sub": "alice\r\nx-admin: 1"}))), {"x-user", "mallory"}}},
			want{notUpstream: []string{"x-user", "x-admin"}, result: "verified"}},
		{"authz denies a verified user", request{path: "/admin/x", headers: [][2]string{bearer(user)}}, want{status: 403}},
		{"no token", request{path: "/admin/x"}, want{status: 401, challenge: "Bearer", result: "missing", log: "token refused: missing: the request has no token"}},
		{"basic credentials are no token", request{path: "/x", headers: [][2]string{{"authorization", "Basic YWxpY2U6cHc="}}}, want{status: 401, challenge: "Bearer", result: "missing"}},
		{"two tokens", request{path: "/x", headers: [][2]string{bearer(good), bearer(user)}}, refused("several_tokens", "several_tokens: the request carries more than one token")},
		// Not checked: that both copies are stripped, which proxytest's
		// emulator does not do (it removes the first value of a header).
		{"the same token twice", request{path: "/x", headers: [][2]string{bearer(good), bearer(good)}}, want{upstream: [][2]string{{"x-user", "alice"}}, result: "verified"}},
		{"expired", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"exp": t0.Add(-2 * time.Minute).Unix()})))}},
			refused("expired", "expired: provider idp: exp 2026-12-01T11:58:00Z, now 2026-12-01T12:00:00Z, clock skew 1m0s")},
		{"expired within the clock skew", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"exp": t0.Add(-30 * time.Second).Unix()})))}}, verified("alice")},
		{"not yet valid", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"nbf": t0.Add(2 * time.Minute).Unix()})))}},
			refused("not_yet_valid", "not_yet_valid: provider idp: nbf 2026-12-01T12:02:00Z")},
		{"not yet valid, until later", request{path: "/x", at: t0.Add(2 * time.Minute), headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"nbf": t0.Add(2 * time.Minute).Unix()})))}}, verified("alice")},
		{"wrong issuer", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"iss": "https://evil.example"})))}},
			refused("wrong_issuer", `wrong_issuer: iss "https://evil.example" is not the issuer of a provider this request may use`)},
		{"issuer of a provider the route does not accept", request{path: "/x", headers: [][2]string{bearer(web)}}, refused("wrong_issuer", `wrong_issuer: iss "https://web.example" is not`)},
		{"wrong audience", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"aud": "billing"})))}},
			refused("wrong_audience", `wrong_audience: provider idp: aud "\"billing\"" names none of ["api" "other"]`)},
		{"one of the audiences", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"aud": []string{"billing", "other"}})))}}, verified("alice")},
		{"no audience", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"aud": nil})))}}, refused("wrong_audience", "wrong_audience")},
		{"bad signature", request{path: "/admin/x", headers: [][2]string{bearer(mint(t, alg{jwtlib.SigningMethodRS256, s.otherRSA, ""}, "rsa", claims(nil)))}},
			refused("bad_signature", `bad_signature: provider idp: alg RS256, kid "rsa"`)},
		{"forged payload", request{path: "/admin/x", headers: [][2]string{bearer(parts[0] + "." + b64([]byte(`{"iss":"`+issuer+`","aud":"api","role":"admin"}`)) + "." + parts[2])}},
			refused("bad_signature", "bad_signature")},
		{"unknown kid", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "2027-key", claims(nil)))}},
			refused("unknown_kid", `unknown_kid: provider idp: no key has kid "2027-key"`)},
		{"alg none", request{path: "/admin/x", headers: [][2]string{bearer(b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".")}},
			refused("bad_algorithm", `bad_algorithm: alg "none" is not accepted`)},
		{"HS256 signed with the RSA public key", request{path: "/admin/x", headers: [][2]string{bearer(mint(t, alg{jwtlib.SigningMethodHS256, s.rsaPublicPEM, ""}, "rsa", claims(nil)))}},
			refused("no_key", `no_key: provider idp: key "rsa" is a RSA key that does not verify HS256`)},
		{"truncated token", request{path: "/x", headers: [][2]string{bearer(parts[0] + "." + parts[1])}}, refused("malformed", "malformed: 2 parts, not 3")},
		{"duplicate claim", request{path: "/admin/x", headers: [][2]string{bearer(raw(t, rs256, `{"alg":"RS256","kid":"rsa"}`,
			`{"iss":"`+issuer+`","aud":"api","role":"user","role":"admin"}`))}},
			refused("duplicate_key", `duplicate_key: in the payload: key "role" is given twice`)},
		{"oversized token", request{path: "/x", headers: [][2]string{bearer(mint(t, rs256, "rsa", claims(map[string]any{"pad": strings.Repeat("x", 8<<10)})))}},
			refused("too_large", "too_large: ")},
		{"public without a token", request{path: "/public/x", headers: [][2]string{{"x-user", "mallory"}}}, want{notUpstream: []string{"x-user"}, result: "no_token"}},
		// The route reads tokens only from the web provider's places: the
		// bearer token is not verified, so authz must not see its claims.
		{"an unverified bearer token gives authz no claims", request{path: "/public/vip", headers: [][2]string{bearer(b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(`{"role":"admin"}`)) + ".")}},
			want{status: 403, result: "no_token"}},
		{"public with a verified token", request{path: "/public/vip", headers: [][2]string{{"cookie", "a=1; session=" + web + "; b=2"}}},
			want{upstream: [][2]string{{"cookie", "a=1; b=2"}}, result: "verified"}},
		{"public with a bad token", request{path: "/public/x", headers: [][2]string{{"cookie", "session=" + web[:strings.LastIndexByte(web, '.')] + ".AAAA"}}}, refused("bad_signature", "bad_signature")},
		{"token in a cookie", request{path: "/web/x", headers: [][2]string{{"cookie", "session=" + web}}}, want{notUpstream: []string{"cookie"}, result: "verified"}},
		{"token in a query parameter", request{path: "/web/x?a=1&access_token=" + web + "&b=2"}, want{path: "/web/x?a=1&b=2", result: "verified"}},
		{"only token in the query", request{path: "/web/x?access_token=" + web}, want{path: "/web/x", result: "verified"}},
		{"the same token in a parameter and a cookie", request{path: "/web/x?access_token=" + web, headers: [][2]string{{"cookie", "session=" + web}}},
			want{path: "/web/x", notUpstream: []string{"cookie"}, result: "verified"}},
		{"cookie and parameter disagree", request{path: "/web/x?access_token=" + web, headers: [][2]string{{"cookie", "session=" + good}}}, refused("several_tokens", "several_tokens")},
		// The query is read as a backend reads it: names and values
		// percent-decoded, "&" and ";" both separators. A second token under
		// another spelling of the name is a second token, and every spelling
		// is stripped.
		{"a second token under an encoded name", request{path: "/web/x?access_token=" + web + "&access%5Ftoken=" + good}, refused("several_tokens", "several_tokens")},
		{"a second token after a semicolon", request{path: "/web/x?access_token=" + web + ";access_token=" + good}, refused("several_tokens", "several_tokens")},
		{"the token under an encoded name", request{path: "/web/x?a=1&access%5ftoken=" + web + ";b=2"}, want{path: "/web/x?a=1;b=2", result: "verified"}},
		{"the same token in two spellings", request{path: "/web/x?access_token=" + web + "&a=1&%61ccess_token=" + web}, want{path: "/web/x?a=1", result: "verified"}},
		{"an encoded token", request{path: "/web/x?access_token=" + strings.ReplaceAll(web, ".", "%2E")}, want{path: "/web/x", result: "verified"}},
	}...)

	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		config := chainConfig(s)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, config)
				defer reset()
				at := c.req.at
				if at.IsZero() {
					at = t0
				}
				if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(at)); err != nil {
					t.Fatal(err)
				}
				headers := append([][2]string{{":method", "GET"}, {":path", c.req.path}, {":authority", "api.example"}}, c.req.headers...)
				id := host.InitializeHttpContext()
				action := host.CallOnRequestHeaders(id, headers, true)
				local := host.GetSentLocalResponse(id)
				upstream := host.GetCurrentRequestHeaders(id)
				host.CompleteHttpContext(id)
				var status uint32
				if local != nil {
					status = local.StatusCode
				} else if action != types.ActionContinue {
					t.Fatalf("action %v without a reply", action)
				}
				if status != c.want.status {
					t.Fatalf("status %d, want %d; debug log %q, warn %q, error %q", status, c.want.status, host.GetDebugLogs(), host.GetWarnLogs(), host.GetErrorLogs())
				}
				if c.want.challenge != "" {
					if got := wasmtest.HeaderValues(local.Headers, "www-authenticate"); len(got) != 1 || got[0] != c.want.challenge {
						t.Errorf("www-authenticate %q, want %q", got, c.want.challenge)
					}
				}
				if status == 0 {
					for _, h := range c.want.upstream {
						if got := wasmtest.HeaderValues(upstream, h[0]); len(got) != 1 || got[0] != h[1] {
							t.Errorf("upstream %s = %q, want %q", h[0], got, h[1])
						}
					}
					for _, name := range c.want.notUpstream {
						if got := wasmtest.HeaderValues(upstream, name); got != nil {
							t.Errorf("upstream got %s: %q", name, got)
						}
					}
					if c.want.path != "" {
						if got := wasmtest.HeaderValues(upstream, ":path"); len(got) != 1 || got[0] != c.want.path {
							t.Errorf("upstream :path %q, want %q", got, c.want.path)
						}
					}
				}
				if c.want.log != "" && !wasmtest.AnyContains(host.GetDebugLogs(), c.want.log) {
					t.Errorf("no log line with %q in %q", c.want.log, host.GetDebugLogs())
				}
				for _, l := range append(host.GetDebugLogs(), host.GetInfoLogs()...) {
					for _, h := range c.req.headers {
						if sig := h[1][strings.LastIndexByte(h[1], '.')+1:]; len(sig) > 8 && strings.Contains(l, sig) {
							t.Errorf("the log quotes the token: %q", l)
						}
					}
				}
				if c.want.result != "" {
					if got := result(t, host, c.want.result); got != 1 {
						t.Errorf("jwt_requests_total{result=%s} = %d, want 1", c.want.result, got)
					}
				}
			})
		}
	})
}

// result reads jwt_requests_total{filter=jwt, result} after a tick.
func result(t *testing.T, host proxytest.HostEmulator, result string) uint64 {
	t.Helper()
	host.Tick()
	return wasmtest.ReadCounter(t, host, stats.Name("policy_jwt_requests_total", stats.Tag{Key: "filter", Value: "jwt"}, stats.Tag{Key: "result", Value: result}))
}

func TestConfigErrors(t *testing.T) {
	s := keysOnce()
	provider := func(extra string) string {
		return `{"name": "idp", "issuer": "` + issuer + `", "jwks": ` + s.jwks + extra + `}`
	}
	cases := []struct{ config, err string }{
		{`{}`, "providers: must list at least one provider"},
		{`{"providers": [{"name": "idp", "issuer": "x"}]}`, "providers[0].jwks: is required"},
		{`{"providers": [` + provider("") + `, ` + provider("") + `]}`, `providers[1].name: "idp" names another provider too`},
		{`{"providers": [` + provider(`, "jwks": {"keys": []}`) + `]}`, "is given twice"},
		{`{"providers": [{"name": "idp", "issuer": "x", "jwks": {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}}]}`, "providers[0].jwks: keys[0]: n: is a 17-bit modulus"},
		{`{"providers": [` + provider(`, "clock_skew": "-1s"`) + `]}`, "providers[0].clock_skew: must not be negative"},
		{`{"providers": [` + provider(`, "claim_to_headers": [{"claim": "sub", "header": "Authorization"}]`) + `]}`,
			`providers[0].claim_to_headers[0].header: "Authorization" is where the provider's token is read from`},
		{`{"providers": [` + provider(`, "claim_to_headers": [{"claim": "sub", "header": "x user"}]`) + `]}`, `"x user" is not a header name`},
		{`{"providers": [` + provider(`, "from_params": ["a=b"]`) + `]}`, `providers[0].from_params[0]: "a=b" is not a query parameter name`},
		{`{"providers": [` + provider("") + `], "rules": [{"requires": ["other"]}]}`, `rules[0].requires[0]: "other" is not the name of a provider`},
		{`{"providers": [` + provider("") + `], "rules": [{"match": {"path": {"prefix": "/a/../b"}}}]}`, "rules[0].match.path.prefix: must be in normal form"},
		{`{"providers": [` + provider(`, "audience": "api"`) + `]}`, "audience"},
	}
	for _, c := range cases {
		ok, critical := wasmtest.TryStart(native(), wasmtest.FilterConfig("jwt", "", c.config))
		if ok || !wasmtest.AnyContains(critical, c.err) {
			t.Errorf("%.80s: started %v, critical %q; want an error with %q", c.config, ok, critical, c.err)
		}
	}
}

// The provider section of the chain example's README runs as it is written.
func TestChainREADME(t *testing.T) {
	var config string
	for _, b := range wasmtest.FencedBlocks(wasmtest.ReadFile(t, filepath.Join(wasmtest.Root(), "examples", "chain", "README.md")), "json") {
		if strings.Contains(b, `"name": "jwt"`) {
			config = b
		}
	}
	if config == "" {
		t.Fatal("examples/chain/README.md shows no jwt configuration")
	}
	forged := b64([]byte(`{"alg":"ES256","kid":"2026-12"}`)) + "." + b64([]byte(`{"iss":"https://idp.example.com","aud":"shop","role":"admin"}`)) + "." + b64(make([]byte, 64))
	cases := []struct {
		path      string
		headers   [][2]string
		status    uint32
		challenge string
	}{
		{"/healthz", nil, 0, ""},
		{"/docs/a", nil, 0, ""},
		{"/docs/a", [][2]string{bearer(forged)}, 401, `Bearer error="invalid_token"`},
		{"/orders", nil, 401, "Bearer"},
		{"/admin/users", [][2]string{bearer(forged)}, 401, `Bearer error="invalid_token"`},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for _, c := range cases {
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, append([][2]string{{":method", "GET"}, {":path", c.path}, {":authority", "shop"}}, c.headers...), true)
			local := host.GetSentLocalResponse(id)
			host.CompleteHttpContext(id)
			var status uint32
			var challenge []string
			if local != nil {
				status, challenge = local.StatusCode, wasmtest.HeaderValues(local.Headers, "www-authenticate")
			}
			if status != c.status || c.challenge != "" && (len(challenge) != 1 || challenge[0] != c.challenge) {
				t.Errorf("%s with %d headers: status %d, www-authenticate %q; want %d, %q", c.path, len(c.headers), status, challenge, c.status, c.challenge)
			}
		}
	})
}

// A jwt filter in shadow mode lets a refused token through, but authz then
// sees no claims: they were not verified.
func TestShadowPublishesNoClaims(t *testing.T) {
	s := keysOnce()
	forged := mint(t, alg{jwtlib.SigningMethodRS256, s.otherRSA, ""}, "rsa", claims(nil))
	config := wasmtest.Chain(`{"name": "jwt", "mode": "shadow", "config": {"providers": [{"name": "idp", "issuer": "`+issuer+`", "jwks": `+s.jwks+`}]}}`,
		`{"name": "authz", "config": {"rules": [{"action": "allow", "claims": [{"path": "role", "equals": "admin"}]}], "default": "deny"}}`)
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for _, c := range []struct {
			token  string
			status uint32
		}{{forged, 403}, {mint(t, algs(s)[0], "rsa", claims(nil)), 0}} {
			if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0)); err != nil {
				t.Fatal(err)
			}
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}, bearer(c.token)}, true)
			var status uint32
			if local := host.GetSentLocalResponse(id); local != nil {
				status = local.StatusCode
			}
			host.CompleteHttpContext(id)
			if status != c.status {
				t.Errorf("status %d, want %d", status, c.status)
			}
		}
	})
}

// TestWeakKeysRefused: the plugin does not start with a key set holding an
// Ed25519 key of small order or an RSA key with another exponent than 65537
// or 3, natively and compiled.
func TestWeakKeysRefused(t *testing.T) {
	s := keysOnce()
	identity := b64(append([]byte{1}, make([]byte, 31)...))
	n := b64(s.rsa.PublicKey.N.Bytes())
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for jwks, want := range map[string]string{
			`{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "` + identity + `"}]}`: "providers[0].jwks: keys[0]: x: is a point of small order",
			`{"keys": [{"kty": "RSA", "n": "` + n + `", "e": "EQ"}]}`:               "providers[0].jwks: keys[0]: e: must be 65537 (AQAB) or 3, not 17",
		} {
			config := `{"providers": [{"name": "idp", "issuer": "` + issuer + `", "jwks": ` + jwks + `}]}`
			if ok, critical := wasmtest.TryStart(r.VM, wasmtest.FilterConfig("jwt", "", config)); ok || !wasmtest.AnyContains(critical, want) {
				t.Errorf("started %v, critical %q; want an error with %q", ok, critical, want)
			}
		}
	})
}

// TestKidlessTokensInThePlugin: in the plugin too, a token without a kid is
// tried against the first MaxKidlessTries keys that fit its algorithm, and
// no further, natively and compiled.
func TestKidlessTokensInThePlugin(t *testing.T) {
	s := keysOnce()
	tok := mint(t, alg{jwtlib.SigningMethodRS256, s.rsa, ""}, "", claims(nil)) // no kid
	config := func(at int) string {
		return wasmtest.FilterConfig("jwt", "", `{"providers": [{"name": "idp", "issuer": "`+issuer+`", "jwks": `+kidlessSet(s, at)+`}]}`)
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for at, want := range map[int]uint32{jwt.MaxKidlessTries - 1: 0, jwt.MaxKidlessTries: 401} {
			func() {
				host, reset := wasmtest.Start(t, r.VM, config(at))
				defer reset()
				if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0)); err != nil {
					t.Fatal(err)
				}
				id := host.InitializeHttpContext()
				host.CallOnRequestHeaders(id, [][2]string{{":method", "GET"}, {":path", "/x"}, {":authority", "api.example"}, bearer(tok)}, true)
				var status uint32
				if local := host.GetSentLocalResponse(id); local != nil {
					status = local.StatusCode
				}
				host.CompleteHttpContext(id)
				if status != want {
					t.Errorf("the signing key at %d: status %d, want %d", at, status, want)
				}
			}()
		}
	})
}
