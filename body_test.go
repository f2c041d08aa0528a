package policy_test

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// Bodies (body.go): a chain with a body filter holds the headers until the
// body is complete, lets a body filter replace the body with the
// content-length set to match, and does not read a body over body_limit.

var bodyRequest = [][2]string{{":method", "POST"}, {":path", "/items"}, {":authority", "example.com"}, {"content-length", "5"}}

// bodyChain is a plugin configuration of the step filters, with extra
// top-level fields (`"body_limit": 8`) when given.
func bodyChain(top string, steps ...string) string {
	c := wasmtest.Chain(steps...)
	if top != "" {
		c = strings.Replace(c, "{", "{"+top+",", 1)
	}
	return c
}

func TestRequestBodyHeldAndReplaced(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, bodyChain("", step("a", `{"phase":"request_body","set_body":"replaced!"}`), step("b", `{"phase":"request_body"}`)))
		defer reset()
		id := host.InitializeHttpContext()
		if got := host.CallOnRequestHeaders(id, bodyRequest, false); got != types.ActionPause {
			t.Fatalf("request headers with a body to come: %v, want pause (held until the body is complete)", got)
		}
		if got := host.CallOnRequestBody(id, []byte("he"), false); got != types.ActionPause {
			t.Fatalf("part of the body: %v, want pause (buffered)", got)
		}
		if got := host.CallOnRequestBody(id, []byte("llo"), true); got != types.ActionContinue {
			t.Fatalf("the rest of the body: %v, want continue", got)
		}
		if got := string(host.GetCurrentRequestBody(id)); got != "replaced!" {
			t.Errorf("request body %q, want replaced!", got)
		}
		headers := host.GetCurrentRequestHeaders(id)
		if got := header(headers, "content-length"); got != "9" {
			t.Errorf("content-length %q, want 9, the replaced body's", got)
		}
		// a read the whole body, b the body a left (the emulator joins
		// added values).
		if got := header(headers, "x-body"); got != "a:hellob:replaced!" {
			t.Errorf("x-body %q, want a:hello then b:replaced!", got)
		}
	})
}

func TestResponseBodyHeldReplacedAndDenied(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		respHeaders := [][2]string{{":status", "200"}, {"content-length", "5"}}
		for _, c := range []struct {
			name, step string
			check      func(t *testing.T, host proxytest.HostEmulator, id uint32)
		}{
			{"replaced", `{"phase":"response_body","set_body":"{}"}`, func(t *testing.T, host proxytest.HostEmulator, id uint32) {
				if got := string(host.GetCurrentResponseBody(id)); got != "{}" {
					t.Errorf("response body %q, want {}", got)
				}
				if got := header(host.GetCurrentResponseHeaders(id), "content-length"); got != "2" {
					t.Errorf("content-length %q, want 2", got)
				}
			}},
			{"denied", `{"phase":"response_body","action":"deny","status":502}`, func(t *testing.T, host proxytest.HostEmulator, id uint32) {
				reply := host.GetSentLocalResponse(id)
				if reply == nil || reply.StatusCode != 502 || string(reply.Data) != "denied by a" {
					t.Errorf("local reply %+v, want 502 from step a in place of the response", reply)
				}
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, bodyChain("", step("a", c.step)))
				defer reset()
				id := host.InitializeHttpContext()
				host.CallOnRequestHeaders(id, bodyRequest[:3], true)
				if got := host.CallOnResponseHeaders(id, respHeaders, false); got != types.ActionPause {
					t.Fatalf("response headers with a body to come: %v, want pause (held)", got)
				}
				action := host.CallOnResponseBody(id, []byte("hello"), true)
				if c.name == "replaced" && action != types.ActionContinue {
					t.Errorf("response body: %v, want continue", action)
				}
				c.check(t, host, id)
			})
		}
	})
}

// A chain without body filters holds nothing and reads no body.
func TestNoBodyFilterHoldsNothing(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		// A request step has request phases only: the response side of
		// the chain reads no body.
		host, reset := wasmtest.Start(t, r.VM, bodyChain("", step("a", "")))
		defer reset()
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, bodyRequest[:3], true)
		if got := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false); got != types.ActionContinue {
			t.Fatalf("response headers: %v, want continue (nothing reads the body)", got)
		}
		if got := host.CallOnResponseBody(id, []byte("hello"), false); got != types.ActionContinue {
			t.Errorf("a response body chunk: %v, want continue (not buffered)", got)
		}
		// The step has an OnRequestBody, but says (BodyPhases) that it
		// reads no body in the request_headers phase: the request is not
		// held either.
		id = host.InitializeHttpContext()
		if got := host.CallOnRequestHeaders(id, bodyRequest, false); got != types.ActionContinue {
			t.Fatalf("request headers with a body to come: %v, want continue (BodyPhases says no request body)", got)
		}
		if got := host.CallOnRequestBody(id, []byte("he"), false); got != types.ActionContinue {
			t.Errorf("a request body chunk: %v, want continue (not buffered)", got)
		}
	})
}

func TestBodyOverTheLimit(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		counter := func(host proxytest.HostEmulator, side string) uint64 {
			return wasmtest.ReadCounter(t, host, "side=.="+side+";.;policy_body_too_large_total")
		}
		t.Run("request, failing closed: 413", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, bodyChain(`"body_limit": 8`, step("a", `{"phase":"request_body"}`)))
			defer reset()
			for n := 1; n <= 2; n++ {
				id := host.InitializeHttpContext()
				host.CallOnRequestHeaders(id, bodyRequest, false)
				if got := host.CallOnRequestBody(id, []byte("12345"), false); got != types.ActionPause {
					t.Fatalf("5 bytes of a limit of 8: %v, want pause", got)
				}
				host.CallOnRequestBody(id, []byte("6789"), false)
				reply := host.GetSentLocalResponse(id)
				if reply == nil || reply.StatusCode != 413 {
					t.Fatalf("9 bytes of a limit of 8: reply %+v, want 413", reply)
				}
				if got := header(host.GetCurrentRequestHeaders(id), "x-body"); got != "" {
					t.Errorf("the body filter ran on a body over the limit: x-body %q", got)
				}
				host.CompleteHttpContext(id)
			}
			host.Tick()
			if got := counter(host, "request"); got != 2 {
				t.Errorf("body_too_large_total{side=request} = %d, want 2", got)
			}
			if warns := host.GetWarnLogs(); len(warns) != 1 || !strings.Contains(warns[0], "more than 8 bytes (body_limit)") {
				t.Errorf("warnings %q, want one line for the first body over the limit", warns)
			}
		})
		t.Run("request, failing open: body filters without the body", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, bodyChain(`"body_limit": 8, "failure_mode": "open"`, step("a", `{"phase":"request_body","set_body":"x"}`)))
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, bodyRequest, false)
			if got := host.CallOnRequestBody(id, []byte("123456789"), false); got != types.ActionContinue {
				t.Errorf("a body over the limit, failing open: %v, want continue", got)
			}
			// The step ran with no body, and could not replace it.
			if got := header(host.GetCurrentRequestHeaders(id), "x-body"); got != "a:" {
				t.Errorf("x-body %q, want a: (the step ran, without the body)", got)
			}
			if got := string(host.GetCurrentRequestBody(id)); got != "123456789" {
				t.Errorf("request body %q, want it as sent", got)
			}
			if got := host.CallOnRequestBody(id, []byte("0"), true); got != types.ActionContinue {
				t.Errorf("the rest of it: %v, want continue", got)
			}
			if !wasmtest.AnyContains(host.GetErrorLogs(), "filter a set the request body, which was over body_limit and not read; ignored") {
				t.Errorf("error logs %q", host.GetErrorLogs())
			}
		})
		t.Run("response: unchanged", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, bodyChain(`"body_limit": 8`, step("a", `{"phase":"response_body","set_body":"x"}`)))
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, bodyRequest[:3], true)
			host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false)
			if got := host.CallOnResponseBody(id, []byte("123456789"), true); got != types.ActionContinue {
				t.Errorf("a response body over the limit: %v, want continue", got)
			}
			if got := string(host.GetCurrentResponseBody(id)); got != "123456789" {
				t.Errorf("response body %q, want it unchanged", got)
			}
			host.CompleteHttpContext(id)
			host.Tick()
			if got := counter(host, "response"); got != 1 {
				t.Errorf("body_too_large_total{side=response} = %d, want 1", got)
			}
		})
	})
}

// A body set outside a body phase is ignored, with an error naming the
// filter.
func TestSetBodyOutsideItsPhase(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, bodyChain("", step("a", `{"set_body":"x"}`)))
		defer reset()
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, bodyRequest, false)
		host.CallOnRequestBody(id, []byte("hello"), true)
		if got := string(host.GetCurrentRequestBody(id)); got != "hello" {
			t.Errorf("request body %q, want it unchanged", got)
		}
		if !wasmtest.AnyContains(host.GetErrorLogs(), "filter a set the request body outside its body phase; ignored") {
			t.Errorf("error logs %q", host.GetErrorLogs())
		}
	})
}

func TestBodyLimitConfig(t *testing.T) {
	for _, c := range []struct{ limit, want string }{
		{`0`, "body_limit: must be from 1 to 67108864 bytes (64 MiB), not 0"},
		{`67108865`, "body_limit: must be from 1 to 67108864 bytes (64 MiB), not 67108865"},
		{`"1MiB"`, "body_limit: must be a number"},
	} {
		started, critical := wasmtest.TryStart(nativeChain(), bodyChain(`"body_limit": `+c.limit, step("a", "")))
		if started || len(critical) != 1 || !strings.Contains(critical[0], c.want) {
			t.Errorf("body_limit %s: started %v, critical %q, want %q", c.limit, started, critical, c.want)
		}
	}
}

// While a headers phase waits for a callout, the body waits with it, in a
// chain that reads no body too: a Continue from the body phase would make
// Envoy pass the held headers on before the chain decided.
func TestBodyWaitsForAPausedHeadersPhase(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		// A "headers" step has header phases only: the chain reads no body.
		host, reset := wasmtest.Start(t, r.VM, bodyChain("", step("a", `{"phase":"headers","action":"pause","resume":"deny"}`)))
		defer reset()
		id := host.InitializeHttpContext()
		if got := host.CallOnRequestHeaders(id, bodyRequest, false); got != types.ActionPause {
			t.Fatalf("request headers: %v, want pause for the callout", got)
		}
		if got := host.CallOnRequestBody(id, []byte("hello"), true); got != types.ActionPause {
			t.Fatalf("the body while the callout is out: %v, want pause (continue would forward the request undecided)", got)
		}
		callouts := host.GetCalloutAttributesFromContext(id)
		if len(callouts) != 1 {
			t.Fatalf("callouts %+v, want one", callouts)
		}
		host.CallOnHttpCallResponse(callouts[0].CalloutID, [][2]string{{":status", "200"}}, nil, nil)
		if reply := host.GetSentLocalResponse(id); reply == nil || reply.StatusCode != 403 {
			t.Errorf("reply %+v, want the 403 the step resumes with", reply)
		}
	})
}
