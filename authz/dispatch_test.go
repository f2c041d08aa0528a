package authz_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
	"github.com/wasmpolicy/policy/stats"
)

// The remote check once more, in the test kit's host (policytest), for the one failure the
// SDK's emulator cannot produce: the proxy refusing to dispatch the check
// request at all, as Envoy refuses a callout to a cluster it does not know.
// A plugin started without policytest.Callouts knows no cluster, so its proxy_http_call
// fails and x.HTTPCall returns the error; the filter then decides at once,
// without pausing. This host runs compiled images only: there is no native
// half to this test.

// warnings are the warnings a plugin logged.
func warnings(p *policytest.Plugin) []string {
	var w []string
	for _, l := range p.Logs() {
		if l.Level == "warn" {
			w = append(w, l.Message)
		}
	}
	return w
}

func TestRemoteDispatchRefused(t *testing.T) {
	const refused = `policy: filter authz: authorization service "ext-authz": the check request could not be sent: error status returned by host: bad argument; `
	cases := []struct {
		name, extra, mode string

		status   int    // the client's status; 200 is the upstream's answer
		body     string // the client's body
		failOpen uint64 // authz_remote_fail_open_total
		decision string // filter_decisions_total decision
		log      string // the warning logged
	}{
		{name: "fail closed with the default status",
			status: 403, body: "access denied\n", decision: "denied",
			log: refused + "request denied with 403 (failure_mode closed)"},
		{name: "fail closed with status_on_error", extra: `"status_on_error": 503`,
			status: 503, body: "access denied\n", decision: "denied",
			log: refused + "request denied with 503 (failure_mode closed)"},
		{name: "fail open", extra: `"failure_mode": "open"`,
			status: 200, body: "upstream body", failOpen: 1, decision: "allowed",
			log: refused + "request allowed (failure_mode open)"},
		{name: "shadow mode lets the request through", mode: "shadow",
			status: 200, body: "upstream body", decision: "shadow_denied",
			log: refused + "request denied with 403 (failure_mode closed)"},
	}
	wasm := wasmtest.Image(t, image)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// No Callouts: every callout is refused. A paused stream that
			// is never resumed fails with a pause timeout.
			p := policytest.Start(t, wasm, pluginConfig(remoteConfig(c.extra, ""), c.mode), policytest.PauseTimeout(2*time.Second))
			vm := p.VM(0)
			res := vm.Do(policytest.Request{Headers: clientRequest.all(), Source: "10.1.2.3:51234",
				Upstream: &policytest.Response{Status: 200, Body: "upstream body"}})
			if res.Err != nil {
				t.Fatalf("Do: %v (the stream must be answered or resumed at once)", res.Err)
			}
			upstream := res.Forwarded
			if n := vm.HostCalls()["proxy_http_call"]; n != 1 {
				t.Errorf("proxy_http_call called %d times, want the one refused check request", n)
			}
			if res.Status != c.status || res.Body != c.body {
				t.Errorf("client got %d %q, want %d %q", res.Status, res.Body, c.status, c.body)
			}
			switch {
			case c.status != 200 && upstream != nil:
				t.Errorf("the upstream was reached; want the request denied")
			case c.status == 200 && upstream == nil:
				t.Errorf("the upstream was not reached; want the request let through")
			case c.status == 200:
				if got := wasmtest.HeaderValues(upstream.Headers, "x-auth-user"); got != nil {
					t.Errorf("the upstream got the client's x-auth-user %q", got)
				}
			}

			// Counters reach the host when the plugin flushes them, on tick.
			dispatched := authzMetric("authz_remote_errors_total", tag("reason", "dispatch"))
			if got := p.Unflushed(dispatched); got != 0 {
				t.Errorf("%s = %d before the tick, want 0 (flushed on tick)", dispatched, got)
			}
			p.Tick()
			if err := vm.Err(); err != nil {
				t.Fatal(err)
			}
			for _, m := range []struct {
				name string
				want uint64
			}{
				{dispatched, 1},
				{authzMetric("authz_remote_errors_total", tag("reason", "unavailable")), 0},
				{authzMetric("authz_remote_errors_total", tag("reason", "malformed")), 0},
				{authzMetric("authz_remote_checks_total", tag("result", "error")), 1},
				{authzMetric("authz_remote_checks_total", tag("result", "allowed")), 0},
				{authzMetric("authz_remote_checks_total", tag("result", "denied")), 0},
				{authzMetric("authz_remote_fail_open_total"), c.failOpen},
				{authzMetric("filter_decisions_total", tag("decision", c.decision)), 1},
				// The filter decided at once: it never paused the stream.
				{authzMetric("filter_decisions_total", tag("decision", "paused")), 0},
			} {
				if got := p.Unflushed(m.name); got != m.want {
					t.Errorf("%s = %d, want %d", m.name, got, m.want)
				}
			}

			if w := warnings(p); !containsLine(w, c.log) {
				t.Errorf("no warning %q in %q", c.log, w)
			}
		})
	}
}

// authzMetric is the full name of the metric name of the filter "authz".
func authzMetric(name string, tags ...stats.Tag) string {
	return stats.Name("policy_"+name, append([]stats.Tag{tag("filter", "authz")}, tags...)...)
}

func containsLine(lines []string, line string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}
