package policy_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// A filter that decides once the body is there (a BodyReader, such as
// authz with a rule on the body) holds back the filters after it: they run
// their request headers phase in the body phase, after it, in chain order,
// so no filter runs before one that precedes it, and none runs for a
// request an earlier filter denies on its body (a rate limit after a body
// rule spends no token on a request the rule refuses).
func TestFiltersAfterABodyReaderWaitForIt(t *testing.T) {
	chain := wasmtest.Chain(
		step("a", `{"phase": "request_headers"}`),
		step("b", `{"phase": "request_headers", "reads_body": true, "action": "deny", "if_header": "x-deny", "status": 403}`),
		step("c", `{"phase": "request_headers"}`),
		step("d", `{"phase": "request_body"}`),
	)
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, chain)
		defer reset()

		// With a body: a runs with the headers, b, c (and d) once the
		// body is there, in chain order.
		id := host.InitializeHttpContext()
		if got := host.CallOnRequestHeaders(id, bodyRequest, false); got != types.ActionPause {
			t.Fatalf("request headers: %v, want pause", got)
		}
		if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != "a" {
			t.Errorf("x-trace after the headers %q, want a: b decides with the body, and c after it", got)
		}
		if got := host.CallOnRequestBody(id, []byte("hello"), true); got != types.ActionContinue {
			t.Fatalf("request body: %v, want continue", got)
		}
		headers := host.GetCurrentRequestHeaders(id)
		if got := header(headers, "x-trace"); got != "abc" { // the emulator joins added values
			t.Errorf("x-trace %q, want a, b, c in chain order", got)
		}
		if got := header(headers, "x-body"); got != "d:hello" {
			t.Errorf("x-body %q, want d:hello", got)
		}
		host.CompleteHttpContext(id)

		// Denied on its body by b: c never runs.
		id = host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, append(bodyRequest[:len(bodyRequest):len(bodyRequest)], [2]string{"x-deny", "1"}), false)
		host.CallOnRequestBody(id, []byte("hello"), true)
		if reply := host.GetSentLocalResponse(id); reply == nil || reply.StatusCode != 403 {
			t.Fatalf("reply %+v, want 403 from b", reply)
		}
		if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != "ab" {
			t.Errorf("x-trace %q, want a, b: c does not run for a request b denied", got)
		}
		host.CompleteHttpContext(id)
		if got := wasmtest.Counter(t, host, "filter=.=c;.;policy_filter_requests_total"); got != 1 {
			t.Errorf("c saw %d requests, want 1: not the one b denied", got)
		}

		// Without a body, all decide with the headers.
		id = host.InitializeHttpContext()
		if got := host.CallOnRequestHeaders(id, bodyRequest[:3], true); got != types.ActionContinue {
			t.Fatalf("request without a body: %v, want continue", got)
		}
		if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != "abc" {
			t.Errorf("x-trace %q, want a, b, c", got)
		}
		host.CompleteHttpContext(id)
	})
}

// A filter held back by a BodyReader can still pause for a callout; the
// chain resumes after it, in the body phase.
func TestPauseAfterABodyReader(t *testing.T) {
	chain := wasmtest.Chain(
		step("b", `{"phase": "request_headers", "reads_body": true}`),
		step("c", `{"phase": "request_headers", "action": "pause", "resume": "continue"}`),
		step("d", `{"phase": "request_body"}`),
	)
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, chain)
		defer reset()
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, bodyRequest, false)
		if got := host.CallOnRequestBody(id, []byte("hello"), true); got != types.ActionPause {
			t.Fatalf("request body: %v, want pause (c waits for its callout)", got)
		}
		callouts := host.GetCalloutAttributesFromContext(id)
		if len(callouts) != 1 {
			t.Fatalf("callouts %+v, want c's", callouts)
		}
		host.CallOnHttpCallResponse(callouts[0].CalloutID, [][2]string{{":status", "200"}}, nil, nil)
		headers := host.GetCurrentRequestHeaders(id)
		if got := header(headers, "x-trace"); got != "bc" {
			t.Errorf("x-trace %q, want b, c", got)
		}
		if got := header(headers, "x-body"); got != "d:hello" {
			t.Errorf("x-body %q, want d:hello: d runs once c resumes", got)
		}
		if got := host.GetCurrentHttpStreamAction(id); got != types.ActionContinue {
			t.Errorf("stream action %v, want continue", got)
		}
	})
}

// twoPhases has both request phases, pausing in the first: held back by a
// BodyReader, it gets OnRequestHeaders, and, once resumed, OnRequestBody,
// each once.
type twoPhases struct{ calls *[]string }

func (f twoPhases) OnRequestHeaders(x *policy.Exchange) policy.Result {
	*f.calls = append(*f.calls, "headers")
	err := x.HTTPCall("callout", [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "callout"}}, nil, 1e9,
		func(x *policy.Exchange, _ policy.CalloutResponse) policy.Result { return policy.Continue() })
	if err != nil {
		return policy.Deny(policy.Response{Status: 500})
	}
	return policy.Pause()
}

func (f twoPhases) OnRequestBody(x *policy.Exchange, body []byte) policy.Result {
	*f.calls = append(*f.calls, "body:"+string(body))
	return policy.Continue()
}

type readsBody struct{}

func (readsBody) OnRequestHeaders(*policy.Exchange) policy.Result { return policy.Continue() }
func (readsBody) ReadsRequestBody() bool                          { return true }

func TestTwoPhaseFilterAfterABodyReader(t *testing.T) {
	var calls []string
	vm := policy.Static(policy.Use("reader", readsBody{}), policy.Use("two", twoPhases{&calls}))
	host, reset := wasmtest.Start(t, vm, "")
	defer reset()
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, bodyRequest, false)
	host.CallOnRequestBody(id, []byte("hello"), true)
	callouts := host.GetCalloutAttributesFromContext(id)
	if len(callouts) != 1 {
		t.Fatalf("callouts %+v, want one", callouts)
	}
	host.CallOnHttpCallResponse(callouts[0].CalloutID, [][2]string{{":status", "200"}}, nil, nil)
	if got := len(calls); got != 2 || calls[0] != "headers" || calls[1] != "body:hello" {
		t.Errorf("calls %q, want headers, then body:hello", calls)
	}
	if got := host.GetCurrentHttpStreamAction(id); got != types.ActionContinue {
		t.Errorf("stream action %v, want continue", got)
	}
}
