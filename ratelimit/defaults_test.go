package ratelimit_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testdata/ratelimitfail/failing"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// TestDefaultsGoAndJSON builds each case's filter twice, from a Go Config
// that sets only what the case needs and from the JSON that does the
// same, and runs the same requests through both: each default must show
// in what the requests get, the same way for both. A default that only
// the decoder applied would be missing from the filter built in Go.
func TestDefaultsGoAndJSON(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   ratelimit.Config
		json  string
		store policy.SharedData // the proxy's when nil
		check func(t *testing.T, h *harness) []string
	}{
		{
			// Unit second, burst of one fill, the 429 reply with its JSON
			// body, no x-ratelimit-* headers, buckets in the proxy's shared
			// data named after the filter's ID.
			name: "limit",
			cfg:  ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 2}},
			json: `{"requests_per_unit": 2}`,
			check: func(t *testing.T, h *harness) []string {
				var seen []string
				var denied *policytest.Result // the last request's
				for i, want := range []int{200, 200, 429} {
					res := h.do(t, policytest.Request{})
					seen = append(seen, wasmtest.Describe(res))
					if res.Status != want {
						t.Fatalf("request %d: status %d, want %d", i, res.Status, want)
					}
					if got := res.Header("x-ratelimit-remaining"); got != "" {
						t.Errorf("request %d: x-ratelimit-remaining %q without rate_limit_headers", i, got)
					}
					denied = res
				}
				const body = `{"error":"rate limit exceeded","limit":"2 per second","retry_after":1}`
				if denied.Body != body || denied.Header("content-type") != "application/json" || denied.Header("retry-after") != "1" {
					t.Errorf("the denial: body %q, content-type %q, retry-after %q; want %q, application/json, 1",
						denied.Body, denied.Header("content-type"), denied.Header("retry-after"), body)
				}
				h.p.Advance(time.Second) // a whole unit refills the bucket
				if res := h.do(t, policytest.Request{}); res.Status != 200 {
					t.Errorf("a second later: status %d, want 200", res.Status)
				}
				if _, ok := h.p.SharedData("ratelimit/ratelimit/default/all"); !ok {
					t.Error("no bucket in the proxy's shared data under the filter's ID")
				}
				return seen
			},
		},
		{
			// A bucket per key, in a table of DefaultMaxKeys slots; requests
			// without the key share the fallback bucket.
			name: "key",
			cfg:  ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 1, Key: []string{"header:x-user"}}},
			json: `{"requests_per_unit": 1, "key": ["header:x-user"]}`,
			check: func(t *testing.T, h *harness) []string {
				var seen []string
				for i, want := range []int{200, 429} {
					res := h.do(t, policytest.Request{})
					seen = append(seen, wasmtest.Describe(res))
					if res.Status != want {
						t.Fatalf("request %d without the key: status %d, want %d (the fallback bucket)", i, res.Status, want)
					}
				}
				const users = 40
				for i := 0; i < users; i++ {
					res := h.do(t, policytest.Request{Headers: [][2]string{{"x-user", "u" + strconv.Itoa(i)}}})
					seen = append(seen, wasmtest.Describe(res))
					if res.Status != 200 {
						t.Fatalf("user %d: status %d, want 200 (a bucket of its own)", i, res.Status)
					}
				}
				if got := h.p.Counter("policy_ratelimit_overflow_total", "filter", "ratelimit"); got != 0 {
					t.Errorf("overflow_total = %d, want 0", got)
				}
				// The slots are the records "<prefix><i>", i < max_keys, placed
				// by a keyed hash: every user's is below DefaultMaxKeys, and
				// some are far up the table.
				found, highest := 0, -1
				for i := 0; i < 2*ratelimit.DefaultMaxKeys; i++ {
					if _, ok := h.p.SharedData("ratelimit/ratelimit/default/" + strconv.Itoa(i)); ok {
						found, highest = found+1, i
					}
				}
				if found != users || highest >= ratelimit.DefaultMaxKeys || highest < ratelimit.DefaultMaxKeys/2 {
					t.Errorf("%d slots used, the highest %d; want %d, below %d and not below %d",
						found, highest, users, ratelimit.DefaultMaxKeys, ratelimit.DefaultMaxKeys/2)
				}
				return seen
			},
		},
		{
			name:  "shared data fails open",
			cfg:   ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 1}},
			json:  `{"requests_per_unit": 1}`,
			store: failing.Store{},
			check: func(t *testing.T, h *harness) []string {
				var seen []string
				for i := 0; i < 3; i++ {
					res := h.do(t, policytest.Request{})
					seen = append(seen, wasmtest.Describe(res))
					if res.Status != 200 {
						t.Fatalf("request %d: status %d, want 200 (failing open)", i, res.Status)
					}
				}
				if !h.p.Logged("letting requests through (failure_mode open)") {
					t.Errorf("the failure was not logged as failing open: %q", h.p.Logs())
				}
				return seen
			},
		},
		{
			// status_on_error is the deny status.
			name:  "failing closed",
			cfg:   ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 1}, FailureMode: policy.FailClosed, Deny: policy.DenyResponse{Status: 403}},
			json:  `{"requests_per_unit": 1, "failure_mode": "closed", "deny": {"status": 403}}`,
			store: failing.Store{},
			check: func(t *testing.T, h *harness) []string {
				res := h.do(t, policytest.Request{})
				if res.Status != 403 {
					t.Errorf("status %d, want the deny status, 403", res.Status)
				}
				return []string{wasmtest.Describe(res)}
			},
		},
		{
			// The callout's authority is the cluster, an entry's key its
			// action's name, the timeout DefaultGlobalTimeout; the service's
			// failures let requests through.
			name: "global",
			cfg: ratelimit.Config{Global: &ratelimit.Global{Cluster: "rl", Domain: "api", Descriptors: []ratelimit.Descriptor{
				{Entries: []ratelimit.Entry{{Action: ratelimit.GenericKey, Value: "per-client"}, {Action: ratelimit.MethodEntry}}},
			}}},
			json: `{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"generic_key": "per-client"}, {"method": {}}]}]}}`,
			check: func(t *testing.T, h *harness) []string {
				var seen []string
				h.answer = func(c policytest.Callout) *policytest.Response {
					seen = append(seen, c.Cluster+" "+c.Header(":authority")+" "+c.Body)
					return &policytest.Response{Status: 200, Body: `{"overallCode":"OK"}`}
				}
				res := h.do(t, policytest.Request{})
				seen = append(seen, wasmtest.Describe(res))
				const check = `{"domain":"api","descriptors":[{"entries":[{"key":"generic_key","value":"per-client"},{"key":"method","value":"GET"}]}],"hitsAddend":1}`
				if res.Status != 200 || len(seen) != 2 || seen[0] != "rl rl "+check {
					t.Fatalf("status %d, callouts %q; want 200 after one callout to rl, authority rl, asking %s", res.Status, seen[:len(seen)-1], check)
				}
				// No answer: a wait of the timeout or more is a timeout, a
				// shorter one a connection failure. (The log line is
				// throttled to one a minute.)
				for _, c := range []struct {
					wait time.Duration
					log  string
				}{
					{ratelimit.DefaultGlobalTimeout, "no answer within the 20ms timeout (unavailable); letting requests through (failure_mode open)"},
					{ratelimit.DefaultGlobalTimeout - time.Millisecond, "no answer after 19ms: a connection failure or a reset (unavailable); letting requests through"},
				} {
					h.p.Advance(time.Minute)
					h.answer = func(policytest.Callout) *policytest.Response {
						h.p.Advance(c.wait)
						return nil
					}
					res := h.do(t, policytest.Request{})
					seen = append(seen, wasmtest.Describe(res))
					if res.Status != 200 {
						t.Errorf("no answer after %s: status %d, want 200 (failing open)", c.wait, res.Status)
					}
					if !loggedFor(res, c.log) {
						t.Errorf("no answer after %s: logged %q, want a line with %q", c.wait, res.Logs, c.log)
					}
				}
				return seen
			},
		},
		{
			// The global limit's status_on_error is the filter's, and that
			// is the deny status; the body says what failed.
			name: "global failing closed",
			cfg: ratelimit.Config{Deny: policy.DenyResponse{Status: 403}, Global: &ratelimit.Global{Cluster: "rl", Domain: "api",
				FailureMode: policy.FailClosed, Descriptors: []ratelimit.Descriptor{{Entries: []ratelimit.Entry{{Action: ratelimit.MethodEntry}}}}}},
			json: `{"deny": {"status": 403}, "global": {"cluster": "rl", "domain": "api", "failure_mode": "closed", "descriptors": [{"entries": [{"method": {}}]}]}}`,
			check: func(t *testing.T, h *harness) []string {
				res := h.do(t, policytest.Request{})
				if res.Status != 403 || res.Body != `{"error":"rate limit service unavailable"}` {
					t.Errorf("status %d, body %q; want 403 and the service's failure", res.Status, res.Body)
				}
				return []string{wasmtest.Describe(res)}
			},
		},
		{
			// The cost is "usage.total_tokens" of a JSON response of at most
			// policy.DefaultBodyLimit bytes, the model "model" of the
			// request's; a response without a cost, or an error, costs 0.
			name: "cost",
			cfg:  ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 1000, Unit: ratelimit.Minute}, Cost: &ratelimit.Cost{Models: []string{"m1"}}},
			json: `{"requests_per_unit": 1000, "unit": "minute", "cost": {"models": ["m1"]}}`,
			check: func(t *testing.T, h *harness) []string {
				var seen []string
				answer := func(status int, body string) *policytest.Response {
					return &policytest.Response{Status: status, Headers: [][2]string{{"content-type", "application/json"}}, Body: body}
				}
				// padded is a JSON response of n bytes that reports cost.
				padded := func(n, cost int) string {
					head := `{"usage":{"total_tokens":` + strconv.Itoa(cost) + `},"pad":"`
					return head + strings.Repeat("x", n-len(head)-2) + `"}`
				}
				for _, r := range []policytest.Request{
					{Method: "POST", Body: `{"model":"m1"}`, Upstream: answer(200, `{"usage":{"total_tokens":7}}`)},
					{Method: "POST", Body: `{"model":"m2"}`, Upstream: answer(200, padded(policy.DefaultBodyLimit, 11))},
					{Method: "POST", Body: `{"model":"m2"}`, Upstream: answer(200, padded(policy.DefaultBodyLimit+1, 13))},
					{Method: "POST", Body: `{"model":"m1"}`, Upstream: answer(500, `{"usage":{"total_tokens":17}}`)},
				} {
					res := h.do(t, r)
					seen = append(seen, strconv.Itoa(res.Status))
				}
				for _, m := range []struct {
					model, result string
					want          uint64
				}{
					{"m1", "reported", 7}, {"other", "reported", 11}, {"other", "default", 0}, {"m1", "error", 0},
				} {
					got := h.p.Counter("policy_ratelimit_cost_tokens_total", "filter", "ratelimit", "model", m.model, "result", m.result)
					seen = append(seen, m.model+" "+m.result+" "+strconv.FormatUint(got, 10))
					if got != m.want {
						t.Errorf("cost_tokens_total{model=%s,result=%s} = %d, want %d", m.model, m.result, got, m.want)
					}
				}
				if got := h.p.Counter("policy_ratelimit_cost_missing_total", "filter", "ratelimit"); got != 1 {
					t.Errorf("cost_missing_total = %d, want 1 (the response over the default max_body)", got)
				}
				return seen
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			goVM, jsonVM := policy.Static(ratelimit.Filter(c.cfg)), policy.Configured(ratelimit.Kind)
			goVM.SharedData, jsonVM.SharedData = c.store, c.store
			h := &harness{}
			wasmtest.GoAndJSON(t, goVM, jsonVM, pluginConfig(c.json, ""), func(t *testing.T, p *policytest.Plugin) []string {
				*h = harness{p: p}
				return c.check(t, h)
			}, policytest.StartTime(t0), policytest.Callouts(h.callout))
		})
	}
}

// harness is a defaults case's plugin and the answer to its callouts.
type harness struct {
	p      *policytest.Plugin
	answer func(policytest.Callout) *policytest.Response // none when nil
}

// callout answers the plugin's callouts with answer.
func (h *harness) callout(c policytest.Callout) *policytest.Response {
	if h.answer == nil {
		return nil
	}
	return h.answer(c)
}

// do runs r through the plugin; the test fails if it did not complete.
func (h *harness) do(t *testing.T, r policytest.Request) *policytest.Result {
	t.Helper()
	res := h.p.Do(r)
	if res.Err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, res.Err)
	}
	return res
}

// loggedFor reports whether the plugin logged a line containing text while
// it worked on res's request.
func loggedFor(res *policytest.Result, text string) bool {
	for _, l := range res.Logs {
		if strings.Contains(l.Message, text) {
			return true
		}
	}
	return false
}
