package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/metrics/metricstest"
)

// step is one request of the scenario and what the client sees.
type step struct {
	at      time.Duration // after the first request
	path    string
	headers [][2]string // besides :authority, :method and :path
	status  int         // what the client gets; 200 comes from the backend
	body    string      // the local reply's body, when the chain answers
}

// Istio's Wasm rate-limiting tutorial end to end, with config.json as the plugin
// configuration: three requests 0.25 s apart get 200, 200, 429, and every
// response, the denied one too, carries who-am-i and injected-by; a second
// later the limit admits requests again. The headerauth rule (allow: true,
// as in the managed-mesh tutorial) and the authz rule act as README.md
// says, and the metrics filter counts it all.
func TestTutorialScenario(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	allow := [][2]string{{"allow", "true"}}
	steps := []step{
		{at: 0, path: "/headers", headers: allow, status: 200},
		{at: 250 * time.Millisecond, path: "/headers", headers: allow, status: 200},
		{at: 500 * time.Millisecond, path: "/headers", headers: allow, status: 429, body: "rate limited, wait and retry."},
		{at: 1250 * time.Millisecond, path: "/headers", status: 403, body: "access denied\n"},
		{at: 1300 * time.Millisecond, path: "/headers", headers: allow, status: 200},
		{at: 1350 * time.Millisecond, path: "/admin/users", headers: allow, status: 403, body: "access denied\n"},
	}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	wasmtest.Both(t, "chain", func() types.VMContext { return Plugin() }, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for i, s := range steps {
			if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0.Add(s.at))); err != nil {
				t.Fatal(err)
			}
			headers := append([][2]string{{":authority", "httpbin.default"}, {":method", "GET"}, {":path", s.path}}, s.headers...)
			got := send(t, host, headers)
			if got.status != s.status || got.body != s.body {
				t.Errorf("request %d (%s at +%v): %d %q, want %d %q", i+1, s.path, s.at, got.status, got.body, s.status, s.body)
			}
			for _, h := range [][2]string{{"who-am-i", "wasm-extension"}, {"injected-by", "istio-api!"}} {
				if v, ok := lookup(got.headers, h[0]); !ok || v != h[1] {
					t.Errorf("request %d: response header %s = %q, want %q (headers %q)", i+1, h[0], v, h[1], got.headers)
				}
			}
		}
		host.Tick()
		for name, want := range map[string]uint64{
			"filter=.=metrics;.;method=.=GET;.;code_class=.=2xx;.;policy_requests_total": 3,
			"filter=.=metrics;.;method=.=GET;.;code_class=.=4xx;.;policy_requests_total": 3,
			"filter=.=metrics;.;code_class=.=4xx;.;policy_local_replies_total":           3,
			"filter=.=headerauth;.;decision=.=denied;.;policy_filter_decisions_total":    1,
			"filter=.=headerauth;.;decision=.=allowed;.;policy_filter_decisions_total":   5,
			"filter=.=ratelimit;.;policy_filter_requests_total":                          5,
			"filter=.=ratelimit;.;decision=.=allowed;.;policy_filter_decisions_total":    4,
			"filter=.=ratelimit;.;decision=.=denied;.;policy_filter_decisions_total":     1,
			"filter=.=authz;.;decision=.=denied;.;policy_filter_decisions_total":         1,
			"filter=.=authz;.;decision=.=allowed;.;policy_filter_decisions_total":        3,
		} {
			if got := metricstest.Counter(t, host, name); got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
	})
}

type response struct {
	status  int
	body    string
	headers [][2]string
}

// send runs one request through the plugin as Envoy would: a request the
// chain lets through gets the backend's 200; a local reply comes back
// through the plugin's response phase, as Envoy sends it.
func send(t *testing.T, host proxytest.HostEmulator, headers [][2]string) response {
	t.Helper()
	id := host.InitializeHttpContext()
	defer host.CompleteHttpContext(id)
	action := host.CallOnRequestHeaders(id, headers, true)
	reply := host.GetSentLocalResponse(id)
	var out response
	var respHeaders [][2]string
	switch {
	case reply != nil:
		out.status, out.body = int(reply.StatusCode), string(reply.Data)
		respHeaders = append([][2]string{{":status", strconv.Itoa(int(reply.StatusCode))}}, reply.Headers...)
	case action == types.ActionContinue:
		out.status = 200
		respHeaders = [][2]string{{":status", "200"}, {"content-type", "application/json"}}
	default:
		t.Fatalf("request action %v without a local reply", action)
	}
	if a := host.CallOnResponseHeaders(id, respHeaders, true); a != types.ActionContinue {
		t.Fatalf("response action = %v", a)
	}
	out.headers = host.GetCurrentResponseHeaders(id)
	return out
}

func lookup(headers [][2]string, name string) (string, bool) {
	for _, h := range headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

// The authz rule denies /admin/** however the path is spelled: every
// spelling below is one that some backend (or Envoy itself) resolves to
// /admin/..., and each gets the authz denial; the paths that do not stand
// for /admin reach the backend. A rate limit of 2 per second would deny
// most of them, so each request gets a time of its own.
func TestAdminDenyCoversEverySpelling(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	denied := []string{
		"/admin", "/admin/x", "//admin/x", "/admin;x/y", "/Admin/x", "/ADMIN/x", "/./admin/x",
		"/public/../admin/x", "/public/..;/admin/x", "/%61dmin/x", "/%2e%2e/admin/x", "/admin%2Fx",
		"/public%2F..%2Fadmin", `/admin\x`, "/public/..%5cadmin", "/admin/x?y=1", "/..%00",
		"/public/%00/../admin", "/public#/../admin",
		// Segments with trailing dots and spaces, which IIS and Windows trim.
		"/admin./x", "/admin%2e/x", "/admin%20/x", "/ADMIN.%20/", "/public/..%20/admin", "/public/.../admin",
	}
	allowed := []string{"/public/x", "/administrator", "/public/admin", "/public/%2e%2e", "/x/admin",
		"/administrator./x", "/public/admin./x"}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	wasmtest.Both(t, "chain", func() types.VMContext { return Plugin() }, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for i, p := range append(denied, allowed...) {
			if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0.Add(time.Duration(i)*time.Second))); err != nil {
				t.Fatal(err)
			}
			got := send(t, host, [][2]string{{":authority", "httpbin.default"}, {":method", "GET"}, {":path", p}, {"allow", "true"}})
			want := 200
			if i < len(denied) {
				want = 403
			}
			if got.status != want {
				t.Errorf("GET %q: %d %q, want %d", p, got.status, got.body, want)
			}
		}
		host.Tick()
		if got, want := metricstest.Counter(t, host, "filter=.=authz;.;decision=.=denied;.;policy_filter_decisions_total"), uint64(len(denied)); got != want {
			t.Errorf("authz denied %d requests, want %d", got, want)
		}
	})
}

// TestRewrittenPathIsSeenByLaterFilters: the filters of a chain share one
// view of the request (policy.Exchange.Request), and a filter that
// rewrites the path makes the filters after it read the new one. Here an
// authz filter before headermutate lets /public through, and the same rule
// after it denies the /admin path headermutate set.
func TestRewrittenPathIsSeenByLaterFilters(t *testing.T) {
	const deny = `{"rules": [{"name": "admin", "action": "deny", "match": {"path": {"glob": "/admin/**"}}}], "default": "allow"}`
	config := `{"filters": [
		{"name": "authz", "id": "before", "config": ` + deny + `},
		{"name": "headermutate", "config": {"request": {"set": {":path": "/admin/x"}}}},
		{"name": "authz", "id": "after", "config": ` + deny + `}]}`
	wasmtest.Both(t, "chain", func() types.VMContext { return Plugin() }, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		if got := send(t, host, [][2]string{{":authority", "example.com"}, {":method", "GET"}, {":path", "/public"}}); got.status != 403 {
			t.Errorf("GET /public rewritten to /admin/x: %d, want 403", got.status)
		}
		host.Tick()
		for _, c := range []struct {
			id, decision string
		}{{"before", "allowed"}, {"after", "denied"}} {
			if got := metricstest.Counter(t, host, "filter=.="+c.id+";.;decision=.="+c.decision+";.;policy_filter_decisions_total"); got != 1 {
				t.Errorf("%s: %s %d requests, want 1", c.id, c.decision, got)
			}
		}
	})
}
