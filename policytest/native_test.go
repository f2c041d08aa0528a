package policytest_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/policytest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// nativeChain is the tutorials' chain, as in TestLibraryChain.
const nativeChain = `{"filters":[
	{"name":"headermutate","config":{"response":{"set":{"who-am-i":"wasm-extension"}}}},
	{"name":"headerauth","config":{"header":"allow","values":["true"]}},
	{"name":"ratelimit","config":{"requests_per_unit":2,"unit":"second"}}
]}`

// checkChain is a user's test function: it takes a started plugin,
// however it runs, and uses only what both ways support.
func checkChain(t *testing.T, p *policytest.Plugin) {
	t.Helper()
	res := p.Do(policytest.Request{})
	if res.Status != 403 || !res.LocalReply || res.DeniedBy != "headerauth" || res.Reason != `header "allow" is missing` ||
		res.Header("who-am-i") != "wasm-extension" {
		t.Errorf("without the header: %d by %q (%q), who-am-i %q", res.Status, res.DeniedBy, res.Reason, res.Header("who-am-i"))
	}
	allowed := policytest.Request{Path: "/a", Headers: [][2]string{{"allow", "true"}}, Upstream: &policytest.Response{Status: 201, Body: "made"}}
	var statuses []string
	for i := 0; i < 3; i++ {
		statuses = append(statuses, strconv.Itoa(p.Do(allowed).Status))
	}
	p.Advance(time.Second) // the bucket refills
	res = p.Do(allowed)
	statuses = append(statuses, strconv.Itoa(res.Status))
	if got := strings.Join(statuses, " "); got != "201 201 429 201" {
		t.Errorf("statuses %s, want 201 201 429 201", got)
	}
	if res.Forwarded == nil || res.Forwarded.Path() != "/a" || res.Forwarded.Header("allow") != "true" || res.Body != "made" {
		t.Errorf("forwarded %+v, body %q", res.Forwarded, res.Body)
	}
	if got := p.Counter("policy_filter_decisions_total", "decision", "denied", "filter", "ratelimit"); got != 1 {
		t.Errorf("ratelimit denials %d, want 1", got)
	}
	if !p.Logged("policy: filter headerauth denied with 403") {
		t.Errorf("the denial was not logged: %v", p.Logs())
	}
}

// TestNativeAndCompiled runs checkChain on the compiled chain
// (build/chain.wasm, examples/chain) and on the same filters natively in
// the SDK's emulator.
func TestNativeAndCompiled(t *testing.T) {
	t.Run("wasm", func(t *testing.T) {
		dir := "build"
		if d := os.Getenv("POLICY_BUILD_DIR"); d != "" {
			dir = d
		}
		checkChain(t, policytest.Start(t, policytest.Load(t, "../"+dir+"/chain.wasm"), nativeChain))
	})
	t.Run("go", func(t *testing.T) {
		plugin := policy.Configured(ratelimit.Kind, headerauth.Kind, headermutate.Kind, authz.Kind, metrics.Kind)
		checkChain(t, policytest.Native(t, plugin, nativeChain))
	})
}

// clockKind is a filter type whose filter notes the time its plugin's
// clock reads when it is built, in *built, and forwards the time it reads
// for each request in x-now (Unix nanoseconds).
func clockKind(built *time.Time) policy.Kind {
	return policy.Kind{Name: "clock", Build: func(_ *conf.Object, env *policy.Env) (policy.Filter, error) {
		*built = env.Now()
		return clockFilter{env}, nil
	}}
}

type clockFilter struct{ env *policy.Env }

func (f clockFilter) OnRequestHeaders(x *policy.Exchange) policy.Result {
	x.SetRequestHeader("x-now", strconv.FormatInt(f.env.Now().UnixNano(), 10))
	return policy.Continue()
}

// near reports whether t is at, or at most a millisecond after, want: the
// test's clock moves a microsecond at every reading.
func near(t, want time.Time) bool { d := t.Sub(want); return d >= 0 && d < time.Millisecond }

// TestNativeClock: natively, a policy.Plugin's filters read the test's
// clock from the time they are built, Advance refills a rate limit and
// SetTime jumps, with no wiring in the test; the Plugin gets its own
// Clock back when the test ends, and a Clock the test set is left alone.
func TestNativeClock(t *testing.T) {
	start := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	var built time.Time
	plugin := policy.Configured(ratelimit.Kind, clockKind(&built))
	const config = `{"filters":[{"name":"clock"},{"name":"ratelimit","config":{"requests_per_unit":1,"unit":"second"}}]}`
	forwardedNow := func(res *policytest.Result) time.Time {
		if res.Forwarded == nil {
			return time.Time{}
		}
		ns, _ := strconv.ParseInt(res.Forwarded.Header("x-now"), 10, 64)
		return time.Unix(0, ns).UTC()
	}

	t.Run("the test's clock", func(t *testing.T) {
		p := policytest.Native(t, plugin, config, policytest.StartTime(start))
		if !near(built, start) {
			t.Errorf("the filter was built at %v, want the start time %v", built, start)
		}
		var statuses []string
		for i := 0; i < 2; i++ {
			statuses = append(statuses, strconv.Itoa(p.Do(policytest.Request{}).Status))
		}
		p.Advance(time.Second) // the bucket refills
		res := p.Do(policytest.Request{})
		statuses = append(statuses, strconv.Itoa(res.Status))
		if got := strings.Join(statuses, " "); got != "200 429 200" {
			t.Errorf("statuses %s, want 200 429 200: one request a second, and a second went by", got)
		}
		if now := forwardedNow(res); !near(now, start.Add(time.Second)) {
			t.Errorf("the filter read %v after Advance, want %v", now, start.Add(time.Second))
		}
		jump := start.Add(time.Hour)
		p.SetTime(jump)
		if now := forwardedNow(p.Do(policytest.Request{})); !near(now, jump) {
			t.Errorf("the filter read %v after SetTime, want %v", now, jump)
		}
	})
	if plugin.Clock != nil {
		t.Fatal("the test's clock was left in the plugin after the test")
	}

	t.Run("used again", func(t *testing.T) {
		later := start.Add(24 * time.Hour)
		p := policytest.Native(t, plugin, config, policytest.StartTime(later))
		if !near(built, later) {
			t.Errorf("the filter was built at %v, want this test's start time %v", built, later)
		}
		if now := forwardedNow(p.Do(policytest.Request{})); !near(now, later) {
			t.Errorf("the filter read %v, want %v", now, later)
		}
	})

	t.Run("the plugin's own clock", func(t *testing.T) {
		own := time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)
		plugin.Clock = func() time.Time { return own }
		defer func() { plugin.Clock = nil }()
		p := policytest.Native(t, plugin, config, policytest.StartTime(start))
		p.Advance(time.Hour)
		if now := forwardedNow(p.Do(policytest.Request{})); !built.Equal(own) || !now.Equal(own) {
			t.Errorf("built at %v, read %v; want the plugin's own clock, %v", built, now, own)
		}
		p.Close()
		if plugin.Clock == nil || !plugin.Clock().Equal(own) {
			t.Error("closing the plugin took away the clock the test set")
		}
	})
}

func TestNativeUnsupported(t *testing.T) {
	plugin := policy.Configured(headerauth.Kind)
	ft := &fatalT{TB: t}
	func() {
		defer func() { recover() }()
		policytest.Native(ft, plugin, "", policytest.Workers(2))
	}()
	if !strings.Contains(ft.msg, "one VM") {
		t.Errorf("Workers(2) natively: %q", ft.msg)
	}
}

// fatalT records a Fatalf and stops the function that called it.
type fatalT struct {
	testing.TB
	msg string
}

func (f *fatalT) Helper() {}

func (f *fatalT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}

// checkCallouts is a user's test function of a plugin that calls out:
// Envoy's rate limit service, answered by the test.
func checkCallouts(t *testing.T, p *policytest.Plugin, calls *[]policytest.Callout) {
	t.Helper()
	if res := p.Do(policytest.Request{Headers: [][2]string{{"x-client", "alice"}}}); res.Status != 200 || res.Err != nil {
		t.Errorf("alice: %d (%v), want 200", res.Status, res.Err)
	}
	if res := p.Do(policytest.Request{Headers: [][2]string{{"x-client", "mallory"}}}); res.Status != 429 || res.DeniedBy != "ratelimit" {
		t.Errorf("mallory: %d by %q, want 429 by ratelimit", res.Status, res.DeniedBy)
	}
	if len(*calls) != 2 || (*calls)[0].Cluster != "rls" || (*calls)[0].Method() != "POST" {
		t.Errorf("callouts %+v, want two POSTs to rls", *calls)
	}
	if n := p.Counter("policy_ratelimit_global_checks_total", "filter", "ratelimit", "result", "over_limit"); n != 1 {
		t.Errorf("%d over-limit checks, want 1", n)
	}
}

const globalChain = `{"filters":[{"name":"ratelimit","config":{"global":{"cluster":"rls","domain":"api",
	"descriptors":[{"entries":[{"request_header":{"name":"x-client","key":"client"}}]}]}}}]}`

// TestNativeAndCompiledCallouts runs checkCallouts on
// build/globalratelimit.wasm (examples/globalratelimit) and on the
// ratelimit filter natively.
func TestNativeAndCompiledCallouts(t *testing.T) {
	answer := func(calls *[]policytest.Callout) policytest.Option {
		return policytest.Callouts(func(c policytest.Callout) *policytest.Response {
			*calls = append(*calls, c)
			if strings.Contains(c.Body, "mallory") {
				return &policytest.Response{Status: 429, Body: `{"overallCode":"OVER_LIMIT","statuses":[{"code":"OVER_LIMIT",` +
					`"currentLimit":{"requestsPerUnit":5,"unit":"SECOND"},"durationUntilReset":"0.500s"}]}`}
			}
			return &policytest.Response{Body: `{"overallCode":"OK"}`}
		})
	}
	t.Run("wasm", func(t *testing.T) {
		dir := "build"
		if d := os.Getenv("POLICY_BUILD_DIR"); d != "" {
			dir = d
		}
		var calls []policytest.Callout
		checkCallouts(t, policytest.Start(t, policytest.Load(t, "../"+dir+"/globalratelimit.wasm"), globalChain, answer(&calls)), &calls)
	})
	t.Run("go", func(t *testing.T) {
		var calls []policytest.Callout
		checkCallouts(t, policytest.Native(t, policy.Configured(ratelimit.Kind), globalChain, answer(&calls)), &calls)
	})
}
