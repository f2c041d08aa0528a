package jwt_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/authz/jwt"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// The remote key set tests: the provider "idp" fetches its keys from the
// cluster "idp-jwks", answered by a jwksServer.

const jwksPath = "/.well-known/jwks.json"

func remoteConfig(extra string) string {
	return wasmtest.Chain(`{"name": "jwt", "config": {"providers": [
		{"name": "idp", "issuer": "` + issuer + `", "remote_jwks": {"cluster": "idp-jwks", "path": "` + jwksPath + `", "authority": "idp.example"}` + extra + `}]}}`)
}

// jwksServer answers the key set callouts: doc with status, or no answer
// at all when drop is set.
type jwksServer struct {
	t      testing.TB
	mu     sync.Mutex
	doc    string
	status int
	drop   bool
	calls  int
	during func() // called (once) while the first callout is in flight
}

func (s *jwksServer) set(doc string, status int, drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc, s.status, s.drop = doc, status, drop
}

func (s *jwksServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *jwksServer) answer(c policytest.Callout) *policytest.Response {
	s.mu.Lock()
	s.calls++
	during := s.during
	s.during = nil
	doc, status, drop := s.doc, s.status, s.drop
	s.mu.Unlock()
	if c.Cluster != "idp-jwks" || c.Method() != "GET" || c.Path() != jwksPath || c.Header(":authority") != "idp.example" || c.Timeout != time.Second {
		s.t.Errorf("callout to %q: %s %s on %q, timeout %s; want GET %s on idp.example, to idp-jwks, timeout 1s",
			c.Cluster, c.Method(), c.Path(), c.Header(":authority"), c.Timeout, jwksPath)
	}
	if during != nil {
		during()
	}
	if drop {
		return nil
	}
	return &policytest.Response{Status: status, Headers: [][2]string{{"content-type", "application/json"}}, Body: doc}
}

// remoteKeys are the key sets the server hands out: k1 (RSA), then k2
// (EC P-256) in its place.
func remoteKeys(s *signers) (k1, k2 string) {
	return `{"keys": [` + rsaJWK("k1", "", &s.rsa.PublicKey) + `]}`, `{"keys": [` + ecJWK("k2", "P-256", &s.ec256.PublicKey) + `]}`
}

func startRemote(t *testing.T, srv *jwksServer, extra string, workers int) *policytest.Plugin {
	t.Helper()
	srv.t = t
	return wasmtest.Plugin(t, image, remoteConfig(extra), policytest.StartTime(t0), policytest.Workers(workers),
		policytest.Callouts(srv.answer), policytest.PauseTimeout(2*time.Second))
}

// do sends a request with token on VM i and checks its status and, for a
// 401, the reason the filter logged.
func do(t *testing.T, p *policytest.Plugin, i int, token string, status int, reason string) *policytest.Result {
	t.Helper()
	res := p.VM(i).Do(policytest.Request{Path: "/x", Headers: [][2]string{bearer(token)}})
	if res.Err != nil {
		t.Fatalf("VM %d: %v", i, res.Err)
	}
	if res.Status != status || reason != "" && !strings.Contains(res.Reason, reason) {
		t.Fatalf("VM %d: status %d (reason %q), want %d with %q", i, res.Status, res.Reason, status, reason)
	}
	if status == 401 && res.Header("www-authenticate") != `Bearer error="invalid_token"` {
		t.Errorf("VM %d: www-authenticate %q", i, res.Header("www-authenticate"))
	}
	return res
}

func TestRemoteFetchedOncePerProxy(t *testing.T) {
	s := keysOnce()
	k1, _ := remoteKeys(s)
	tok := mint(t, algs(s)[0], "k1", claims(nil))
	srv := &jwksServer{doc: k1, status: 200}
	var p *policytest.Plugin
	// While the first fetch is in flight, every VM ticks: none fetches too.
	srv.during = func() { p.Tick() }
	p = startRemote(t, srv, "", 3)

	for i := range 3 { // before the first tick
		do(t, p, i, tok, 401, "keys_unavailable: provider idp: the key set has not been fetched")
	}
	p.Advance(time.Second)
	if n := srv.count(); n != 1 {
		t.Fatalf("%d fetches by 3 VMs, want 1", n)
	}
	for i := range 3 {
		res := do(t, p, i, tok, 200, "")
		if res.Forwarded.Header("authorization") != "" {
			t.Errorf("VM %d forwarded the token", i)
		}
	}
	// Refreshed after 3/4 of the default 10m cache duration, once.
	p.Advance(7*time.Minute + 29*time.Second)
	if n := srv.count(); n != 1 {
		t.Errorf("%d fetches before the refresh is due, want 1", n)
	}
	p.Advance(time.Second)
	if n := srv.count(); n != 2 {
		t.Errorf("%d fetches after 7m30s, want 2", n)
	}
	p.Advance(7*time.Minute + 30*time.Second)
	if n := srv.count(); n != 3 {
		t.Errorf("%d fetches after 15m, want 3", n)
	}
	for i := range 3 {
		do(t, p, i, tok, 200, "")
	}
	if n := p.Counter("policy_jwt_jwks_fetches_total", "filter", "jwt", "provider", "idp", "result", "success"); n != 3 {
		t.Errorf("jwt_jwks_fetches_total{result=success} = %d, want 3", n)
	}
	if n := p.Counter("policy_jwt_requests_total", "filter", "jwt", "result", "keys_unavailable"); n != 3 {
		t.Errorf("jwt_requests_total{result=keys_unavailable} = %d, want 3", n)
	}
}

func TestRemoteRotation(t *testing.T) {
	s := keysOnce()
	k1, k2 := remoteKeys(s)
	old, rotated := mint(t, algs(s)[0], "k1", claims(nil)), mint(t, algs(s)[6], "k2", claims(nil))
	srv := &jwksServer{doc: k1, status: 200}
	p := startRemote(t, srv, "", 2)
	p.Advance(time.Second)
	do(t, p, 0, old, 200, "")
	do(t, p, 1, rotated, 401, `unknown_kid: provider idp: no key has kid "k2"`)
	p.Advance(time.Second) // the unknown kid brought the fetch forward, but the key set is the same
	if n := srv.count(); n != 2 {
		t.Fatalf("%d fetches, want 2: one early refresh for the unknown kid", n)
	}
	do(t, p, 1, rotated, 401, "unknown_kid")

	// The issuer rotates. An early refresh was made a second ago: the next
	// one may come EarlyRefreshInterval after it, not before.
	srv.set(k2, 200, false)
	do(t, p, 0, rotated, 401, "unknown_kid")
	p.Advance(jwt.EarlyRefreshInterval - 2*time.Second)
	if n := srv.count(); n != 2 {
		t.Fatalf("%d fetches, want no second early refresh within %s", n, jwt.EarlyRefreshInterval)
	}
	p.Advance(2 * time.Second)
	do(t, p, 0, rotated, 401, "unknown_kid")
	p.Advance(time.Second)
	if n := srv.count(); n != 3 {
		t.Fatalf("%d fetches, want the second early refresh", n)
	}
	for i := range 2 {
		do(t, p, i, rotated, 200, "")
		do(t, p, i, old, 401, `unknown_kid: provider idp: no key has kid "k1"`) // withdrawn, though it verified before
	}
	// After the cache duration an unknown kid may bring a fetch forward
	// again: the issuer rotates back.
	p.Advance(10 * time.Minute)
	before := srv.count()
	srv.set(k1, 200, false)
	do(t, p, 1, old, 401, "unknown_kid")
	p.Advance(time.Second)
	if n := srv.count(); n != before+1 {
		t.Fatalf("%d fetches, want %d: an early refresh", n, before+1)
	}
	do(t, p, 0, old, 200, "")
	do(t, p, 1, old, 200, "")
}

// TestRemoteMadeUpKids: a client sending a token with a made-up kid every
// second makes the proxy fetch at most once per EarlyRefreshInterval, and
// does not hold back a key the issuer rotates in: its first token after the
// rotation is followed by a refresh within EarlyRefreshInterval, and tokens
// with it verify from then on.
func TestRemoteMadeUpKids(t *testing.T) {
	s := keysOnce()
	k1, k2 := remoteKeys(s)
	rotated := mint(t, algs(s)[6], "k2", claims(nil))
	srv := &jwksServer{doc: k1, status: 200}
	p := startRemote(t, srv, "", 2)
	p.Advance(time.Second)
	start := srv.count()
	const attack = 3 * time.Minute
	for i := range int(attack / time.Second) {
		do(t, p, i%2, mint(t, algs(s)[0], "made-up-"+strconv.Itoa(i), claims(nil)), 401, "unknown_kid")
		p.Advance(time.Second)
	}
	if n, most := srv.count()-start, int(attack/jwt.EarlyRefreshInterval)+1; n > most {
		t.Fatalf("%d fetches in %s of made-up kids, want at most %d", n, attack, most)
	}
	srv.set(k2, 200, false)
	accepted := time.Duration(-1)
	for waited := time.Duration(0); waited <= jwt.EarlyRefreshInterval+2*time.Second; waited += time.Second {
		do(t, p, 0, mint(t, algs(s)[0], "made-up-again", claims(nil)), 401, "unknown_kid")
		if res := p.VM(1).Do(policytest.Request{Path: "/x", Headers: [][2]string{bearer(rotated)}}); res.Status == 200 {
			accepted = waited
			break
		}
		p.Advance(time.Second)
	}
	if accepted < 0 {
		t.Fatalf("the rotated key was not used within %s of its first token", jwt.EarlyRefreshInterval+2*time.Second)
	}
}

func TestRemoteFailures(t *testing.T) {
	s := keysOnce()
	k1, _ := remoteKeys(s)
	tok := mint(t, algs(s)[0], "k1", claims(nil))
	for _, c := range []struct {
		name, doc string
		status    int
		drop      bool
		result    string
		log       string
	}{
		{"no answer", "", 0, true, "unavailable", "unavailable: the proxy ended the call"},
		{"500", "oops", 500, false, "bad_status", "bad_status: answered 500"},
		{"malformed JSON", `{"keys": [`, 200, false, "malformed", "malformed: the key set is not valid JSON"},
		{"no keys", `{"keys": []}`, 200, false, "malformed", "malformed: the key set keys: must hold at least one key"},
		{"a secret", `{"keys": [{"kty": "oct", "k": "` + b64(s.secret) + `"}]}`, 200, false, "malformed", "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := &jwksServer{}
			srv.set(c.doc, c.status, c.drop)
			p := startRemote(t, srv, "", 2)
			// Backoff: a failure at 1s, retries at 2s, 4s, 8s.
			for _, w := range []struct {
				at    time.Duration
				calls int
			}{{time.Second, 1}, {2 * time.Second, 2}, {3 * time.Second, 2}, {4 * time.Second, 3}, {7 * time.Second, 3}, {8 * time.Second, 4}} {
				p.Advance(t0.Add(w.at + 10*time.Millisecond).Sub(p.Now()))
				if n := srv.count(); n != w.calls {
					t.Fatalf("at %s: %d fetches, want %d", w.at, n, w.calls)
				}
				do(t, p, int(w.at/time.Second)%2, tok, 401, "keys_unavailable")
			}
			if !p.Logged("provider idp: fetching the key set from cluster \"idp-jwks\", path \"" + jwksPath + "\": " + c.log) {
				t.Errorf("no warning with %q", c.log)
			}
			if n := p.Counter("policy_jwt_jwks_fetches_total", "filter", "jwt", "provider", "idp", "result", c.result); n != 4 {
				t.Errorf("jwt_jwks_fetches_total{result=%s} = %d, want 4", c.result, n)
			}
			// The fetch succeeds: the backoff resets.
			srv.set(k1, 200, false)
			p.Advance(8 * time.Second)
			if n := srv.count(); n != 5 {
				t.Fatalf("%d fetches, want 5", n)
			}
			do(t, p, 0, tok, 200, "")
			do(t, p, 1, tok, 200, "")

			// Stale keys are kept when refreshing fails.
			srv.set(c.doc, c.status, c.drop)
			p.Advance(30 * time.Minute)
			if n := srv.count(); n < 7 {
				t.Fatalf("%d fetches, want refreshes tried", n)
			}
			do(t, p, 0, tok, 200, "")
			do(t, p, 1, tok, 200, "")
			if !p.Logged("the last key set fetched stays in use") {
				t.Error("the failed refresh was not logged")
			}
		})
	}
}

func TestRemoteFailOpen(t *testing.T) {
	s := keysOnce()
	tok := mint(t, algs(s)[0], "k1", claims(nil))
	srv := &jwksServer{}
	srv.set("", 503, false)
	p := startRemote(t, srv, `, "failure_mode": "open"`, 2)
	p.Advance(time.Second)
	for i := range 2 {
		res := do(t, p, i, tok, 200, "")
		if res.Forwarded.Header("authorization") != "" {
			t.Errorf("the unverified token was forwarded")
		}
	}
	// Without a token, the request still needs one.
	if res := p.Do(policytest.Request{Path: "/x"}); res.Status != 401 {
		t.Errorf("no token: %d, want 401", res.Status)
	}
	if n := p.Counter("policy_jwt_requests_total", "filter", "jwt", "result", "failed_open"); n != 2 {
		t.Errorf("jwt_requests_total{result=failed_open} = %d, want 2", n)
	}
}

func TestRemoteConfigErrors(t *testing.T) {
	s := keysOnce()
	cases := []struct{ config, err string }{
		{`"remote_jwks": {"path": "/k"}`, "providers[0].remote_jwks.cluster: is required"},
		{`"remote_jwks": {"cluster": "c", "path": "k"}`, `providers[0].remote_jwks.path: must start with '/', not "k"`},
		{`"remote_jwks": {"cluster": "c", "path": "/k", "timeout": "2m"}`, "providers[0].remote_jwks.timeout: must be between"},
		{`"remote_jwks": {"cluster": "c", "path": "/k", "cache_duration": "1s"}`, "providers[0].remote_jwks.cache_duration: must be at least 10s"},
		{`"remote_jwks": {"cluster": "c", "path": "/k", "ttl": "1s"}`, "ttl"},
		{`"remote_jwks": {"cluster": "c", "path": "/k"}, "jwks": ` + s.jwks, "providers[0].jwks: and remote_jwks exclude each other"},
		{`"remote_jwks": {"cluster": "c", "path": "/k"}, "failure_mode": "maybe"`, "providers[0].failure_mode"},
	}
	for _, c := range cases {
		config := `{"providers": [{"name": "idp", "issuer": "x", ` + c.config + `}]}`
		ok, critical := wasmtest.TryStart(native(), wasmtest.FilterConfig("jwt", "", config))
		if ok || !wasmtest.AnyContains(critical, c.err) {
			t.Errorf("%.80s: started %v, critical %q; want an error with %q", c.config, ok, critical, c.err)
		}
	}
}

// TestRemoteNative runs the fetch in the SDK's emulator, answering the
// callouts made from the tick by hand: one in flight at a time, requests
// answered (never paused) meanwhile, rotation and stale keys.
func TestRemoteNative(t *testing.T) {
	s := keysOnce()
	k1, k2 := remoteKeys(s)
	old, rotated := mint(t, algs(s)[0], "k1", claims(nil)), mint(t, algs(s)[6], "k2", claims(nil))
	now := t0
	plugin := policy.Configured(jwt.Kind, authz.Kind)
	plugin.Clock = func() time.Time { return now }
	host, reset := wasmtest.Start(t, plugin, remoteConfig(""))
	defer reset()

	answered := 0
	pending := func() []proxytest.HttpCalloutAttribute {
		return host.GetCalloutAttributesFromContext(proxytest.PluginContextID)[answered:]
	}
	answer := func(status int, doc string) {
		t.Helper()
		calls := pending()
		if len(calls) != 1 {
			t.Fatalf("%d callouts pending, want 1", len(calls))
		}
		answered++
		if status == 0 {
			host.CallOnHttpCallResponse(calls[0].CalloutID, nil, nil, nil)
			return
		}
		host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", strconv.Itoa(status)}}, nil, []byte(doc))
	}
	request := func(token string, status uint32, reason string) {
		t.Helper()
		if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(now)); err != nil {
			t.Fatal(err)
		}
		id := host.InitializeHttpContext()
		action := host.CallOnRequestHeaders(id, [][2]string{{":method", "GET"}, {":path", "/x"}, {":authority", "a"}, bearer(token)}, true)
		local := host.GetSentLocalResponse(id)
		host.CompleteHttpContext(id)
		var got uint32
		if local != nil {
			got = local.StatusCode
		} else if action != types.ActionContinue {
			t.Fatalf("the request was left paused (%v)", action)
		}
		if got != status {
			t.Fatalf("status %d, want %d; debug log %q", got, status, host.GetDebugLogs())
		}
		if reason != "" && !wasmtest.AnyContains(host.GetDebugLogs(), reason) {
			t.Fatalf("no log with %q", reason)
		}
	}
	tick := func(d time.Duration) {
		now = now.Add(d)
		host.Tick()
	}

	request(old, 401, "keys_unavailable")
	tick(time.Second)
	if calls := pending(); len(calls) != 1 || calls[0].Upstream != "idp-jwks" {
		t.Fatalf("callouts %v, want one to idp-jwks", calls)
	}
	request(old, 401, "keys_unavailable") // while the fetch is in flight
	tick(5 * time.Second)                 // the lease holds: no second fetch
	answer(200, k1)
	request(old, 0, "")
	request(rotated, 401, "unknown_kid")
	tick(time.Second)
	answer(200, k2) // the early refresh picks up the rotation
	request(rotated, 0, "")
	request(old, 401, "unknown_kid")
	tick(8 * time.Minute)
	answer(500, "")
	request(rotated, 0, "") // the stale key set stays
	tick(time.Second)
	answer(200, `{"keys": [`)
	request(rotated, 0, "")
	tick(time.Second)
	if n := len(pending()); n != 0 {
		t.Fatalf("%d callouts during the backoff", n)
	}
	tick(time.Second)
	answer(0, "")
	request(rotated, 0, "")
}
