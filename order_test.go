package policy_test

import (
	"slices"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testfilters"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The chain nests like Envoy's filters: a chain a, b, c behaves as
// a(b(c(h))), so the request phases run a, b, c and the response phases
// c, b, a. These tests pin that order.

// recorder is an inline filter that logs every phase it runs in.
type recorder struct {
	name string
	log  *[]string
	// pause makes OnResponseHeaders pause, keeping the Exchange in *paused
	// for the test to resume.
	pause  bool
	paused **policy.Exchange
	// deny makes OnRequestHeaders deny.
	deny bool
}

func (f *recorder) OnRequestHeaders(x *policy.Exchange) policy.Result {
	*f.log = append(*f.log, "request headers "+f.name)
	if f.deny {
		return policy.Deny(policy.Response{Status: 403, Body: "denied by " + f.name})
	}
	return policy.Continue()
}

func (f *recorder) OnResponseHeaders(x *policy.Exchange) policy.Result {
	entry := "response headers " + f.name
	if x.LocalResponse() != nil {
		entry += " (local reply)"
	}
	*f.log = append(*f.log, entry)
	if f.pause {
		*f.paused = x
		return policy.Pause()
	}
	return policy.Continue()
}

func (f *recorder) OnResponseBody(x *policy.Exchange, body []byte) policy.Result {
	*f.log = append(*f.log, "response body "+f.name+": "+string(body))
	return policy.Continue()
}

var orderRequest = [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "example.com"}}

func phaseLog(phase string, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = phase + " " + n
	}
	return out
}

func concat(parts ...[]string) []string { return slices.Concat(parts...) }

func checkLog(t *testing.T, when string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: phases ran\n\t%q\nwant\n\t%q", when, got, want)
	}
}

// orderChain is a plugin running recorders a, b and c, with configure
// adjusting each before the chain is built.
func orderChain(log *[]string, configure func(*recorder)) *policy.Plugin {
	var specs []policy.Spec
	for _, name := range []string{"a", "b", "c"} {
		f := &recorder{name: name, log: log}
		if configure != nil {
			configure(f)
		}
		specs = append(specs, policy.Use(name, f))
	}
	return policy.Static(specs...)
}

func TestOrderResponsePhasesRunInReverse(t *testing.T) {
	var log []string
	host, reset := wasmtest.Start(t, orderChain(&log, nil), "")
	defer reset()
	id := host.InitializeHttpContext()
	if got := host.CallOnRequestHeaders(id, orderRequest, true); got != types.ActionContinue {
		t.Fatalf("request headers: action = %v, want continue", got)
	}
	checkLog(t, "request headers", log, phaseLog("request headers", "a", "b", "c"))
	log = nil
	// The chain reads response bodies, so the headers wait for the body.
	if got := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false); got != types.ActionPause {
		t.Fatalf("response headers: action = %v, want pause (held for the body)", got)
	}
	checkLog(t, "response headers", log, phaseLog("response headers", "c", "b", "a"))
	log = nil
	if got := host.CallOnResponseBody(id, []byte("hello"), true); got != types.ActionContinue {
		t.Fatalf("response body: action = %v, want continue", got)
	}
	checkLog(t, "response body", log, phaseLog("response body", "c: hello", "b: hello", "a: hello"))
	host.CompleteHttpContext(id)
	host.Tick()
	for _, f := range []string{"a", "b", "c"} {
		if got := wasmtest.ReadCounter(t, host, orderDecisions(f, "allowed")); got != 1 {
			t.Errorf("%s allowed = %d, want 1", f, got)
		}
	}
}

func TestOrderResumeInResponsePhaseGoesOnInReverse(t *testing.T) {
	for _, c := range []struct {
		pauser      string
		beforeAfter [2][]string // the response header filters before the resume, and after
	}{
		{"c", [2][]string{{"c"}, {"b", "a"}}},
		{"b", [2][]string{{"c", "b"}, {"a"}}},
		{"a", [2][]string{{"c", "b", "a"}, nil}},
	} {
		t.Run("pause in "+c.pauser, func(t *testing.T) {
			var log []string
			var paused *policy.Exchange
			host, reset := wasmtest.Start(t, orderChain(&log, func(f *recorder) {
				f.pause, f.paused = f.name == c.pauser, &paused
			}), "")
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, orderRequest, true)
			log = nil
			if got := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false); got != types.ActionPause {
				t.Fatalf("response headers: action = %v, want pause", got)
			}
			checkLog(t, "until the pause", log, phaseLog("response headers", c.beforeAfter[0]...))
			// The body completes while the headers phase waits: it is held.
			log = nil
			if got := host.CallOnResponseBody(id, []byte("body"), true); got != types.ActionPause {
				t.Fatalf("response body while paused: action = %v, want pause", got)
			}
			checkLog(t, "body while paused", log, nil)
			if paused == nil {
				t.Fatal("no filter paused")
			}
			paused.Resume(policy.Continue())
			checkLog(t, "after the resume", log, concat(
				phaseLog("response headers", c.beforeAfter[1]...),
				phaseLog("response body", "c: body", "b: body", "a: body")))
			if got := host.GetCurrentHttpStreamAction(id); got != types.ActionContinue {
				t.Errorf("stream action = %v, want continue (resumed)", got)
			}
			host.CompleteHttpContext(id)
			host.Tick()
			for _, f := range []string{"a", "b", "c"} {
				wantPaused := uint64(0)
				if f == c.pauser {
					wantPaused = 1
				}
				for counter, want := range map[string]uint64{
					orderSeen(f):                 1,
					orderDecisions(f, "allowed"): 1,
					orderDecisions(f, "paused"):  wantPaused,
				} {
					if got := wasmtest.ReadCounter(t, host, counter); got != want {
						t.Errorf("%s = %d, want %d", counter, got, want)
					}
				}
			}
		})
	}
}

func TestOrderLocalReplyPassesResponseFiltersInReverse(t *testing.T) {
	var log []string
	host, reset := wasmtest.Start(t, orderChain(&log, func(f *recorder) { f.deny = f.name == "b" }), "")
	defer reset()
	id := host.InitializeHttpContext()
	if got := host.CallOnRequestHeaders(id, orderRequest, true); got != types.ActionPause {
		t.Fatalf("request headers: action = %v, want pause after a local reply", got)
	}
	checkLog(t, "request headers", log, phaseLog("request headers", "a", "b"))
	resp := host.GetSentLocalResponse(id)
	if resp == nil || resp.StatusCode != 403 {
		t.Fatalf("local response = %+v, want 403", resp)
	}
	// Envoy passes the local reply back through the response filters.
	log = nil
	host.CallOnResponseHeaders(id, append([][2]string{{":status", "403"}}, resp.Headers...), false)
	host.CallOnResponseBody(id, resp.Data, true)
	checkLog(t, "local reply", log, concat(
		phaseLog("response headers", "c (local reply)", "b (local reply)", "a (local reply)"),
		phaseLog("response body", "c: denied by b", "b: denied by b", "a: denied by b")))
	host.CompleteHttpContext(id)
	host.Tick()
	// c never saw the request; a and b did, and b denied it.
	for counter, want := range map[string]uint64{
		orderSeen("a"): 1, orderDecisions("a", "allowed"): 1,
		orderSeen("b"): 1, orderDecisions("b", "denied"): 1,
		orderSeen("c"): 0,
	} {
		if got := wasmtest.ReadCounter(t, host, counter); got != want {
			t.Errorf("%s = %d, want %d", counter, got, want)
		}
	}
}

// TestOrderCompiled runs the order cases through the step filter, natively
// and in build/testchain.wasm. A step records its id in x-trace, which the
// emulator joins without a separator: the response trace "cba" is c, then
// b, then a. Steps record nothing in the response body phase, so the body's
// order is pinned by the native tests above only.
func TestOrderCompiled(t *testing.T) {
	native := func() types.VMContext { return policy.Configured(testfilters.Kind) }
	wasmtest.Both(t, "testchain", native, func(t *testing.T, r wasmtest.Runner) {
		t.Run("request in order, response in reverse", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(orderStep("a", "headers"), orderStep("b", "headers"), orderStep("c", "headers")))
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, orderRequest, true)
			if got := orderHeader(host.GetCurrentRequestHeaders(id), "x-trace"); got != "abc" {
				t.Errorf("request x-trace = %q, want abc", got)
			}
			host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, true)
			if got := orderHeader(host.GetCurrentResponseHeaders(id), "x-trace"); got != "cba" {
				t.Errorf("response x-trace = %q, want cba", got)
			}
		})
		t.Run("a resume in the response phase goes on in reverse", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(orderStep("a", "headers"),
				`{"name":"step","id":"b","config":{"phase":"response_headers","action":"pause"}}`, orderStep("c", "headers")))
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, orderRequest, true)
			if got := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false); got != types.ActionPause {
				t.Fatalf("response headers: action = %v, want pause", got)
			}
			if got := orderHeader(host.GetCurrentResponseHeaders(id), "x-trace"); got != "cb" {
				t.Errorf("response x-trace while paused = %q, want cb", got)
			}
			if got := host.CallOnResponseBody(id, []byte("body"), true); got != types.ActionPause {
				t.Fatalf("response body while paused: action = %v, want pause", got)
			}
			callouts := host.GetCalloutAttributesFromContext(id)
			if len(callouts) != 1 {
				t.Fatalf("callouts = %+v", callouts)
			}
			host.CallOnHttpCallResponse(callouts[0].CalloutID, [][2]string{{":status", "200"}}, nil, nil)
			if got := orderHeader(host.GetCurrentResponseHeaders(id), "x-trace"); got != "cba" {
				t.Errorf("response x-trace = %q, want cba", got)
			}
			if got := host.GetCurrentHttpStreamAction(id); got != types.ActionContinue {
				t.Errorf("stream action = %v, want continue (resumed)", got)
			}
			host.CompleteHttpContext(id)
			host.Tick()
			if got := wasmtest.ReadCounter(t, host, orderDecisions("b", "paused")); got != 1 {
				t.Errorf("b paused = %d, want 1", got)
			}
		})
		t.Run("a local reply passes the response filters in reverse", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(orderStep("a", "response_headers"),
				`{"name":"step","id":"gate","config":{"action":"deny"}}`, orderStep("c", "response_headers")))
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, orderRequest, true)
			resp := host.GetSentLocalResponse(id)
			if resp == nil || resp.StatusCode != 403 {
				t.Fatalf("local response = %+v, want 403", resp)
			}
			host.CallOnResponseHeaders(id, append([][2]string{{":status", "403"}}, resp.Headers...), true)
			if got := orderHeader(host.GetCurrentResponseHeaders(id), "x-trace"); got != "ca" {
				t.Errorf("response x-trace = %q, want ca", got)
			}
		})
	})
}

func orderStep(id, phase string) string {
	return `{"name":"step","id":"` + id + `","config":{"phase":"` + phase + `"}}`
}

func orderHeader(headers [][2]string, name string) string {
	for _, h := range headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

func orderDecisions(filter, decision string) string {
	return "filter=.=" + filter + ";.;decision=.=" + decision + ";.;policy_filter_decisions_total"
}

func orderSeen(filter string) string { return "filter=.=" + filter + ";.;policy_filter_requests_total" }
