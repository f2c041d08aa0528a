package bodymutate_test

import (
	"strconv"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// strip removes internal fields from responses, as an API that must not
// show them to clients would.
const strip = `{"response": {"copy": [{"from": "data.internal_id", "to": "data.ref"}],
	"set": {"served_by": "%REQ(:authority)%"}, "remove": ["data.internal_id", "trace"]}}`

func TestResponseBodies(t *testing.T) {
	cases := []struct {
		name, config, contentType, body string
		want                            string // "" for unchanged
		denied                          uint32
		invalid                         uint64
	}{
		{"stripped", strip, "application/json",
			`{"data": {"internal_id": 7, "name": "x"}, "trace": ["a"], "trace": "b"}`,
			`{"data": {"name": "x","ref":7}, "served_by":"example.com"}`, 0, 0},
		{"a source the readings disagree on is not copied, and still removed", strip, "application/json",
			`{"data": {"internal_id": 7, "name": "x", "Internal_ID": 8}}`,
			`{"data": {"name": "x"},"served_by":"example.com"}`, 0, 0},
		{"any case and parameters", strip, "Application/Problem+JSON; charset=utf-8", `{"trace": 1}`,
			`{"served_by":"example.com"}`, 0, 0},
		{"not JSON by its content-type: left alone", strip, "text/html", `{"trace": 1}`, "", 0, 0},
		{"no content-type: left alone", strip, "", `{"trace": 1}`, "", 0, 0},
		{"invalid JSON passes, counted", strip, "application/json", `{"trace": 1`, "", 0, 1},
		{"invalid JSON denied with 502", `{"response": {"remove": ["trace"]}, "invalid_body": "deny"}`, "application/json",
			`{"trace": 1`, "", 502, 1},
		{"a configured deny reply", `{"response": {"remove": ["trace"]}, "invalid_body": "deny", "deny": {"status": 503, "body": "bad upstream"}}`,
			"application/json", `nope`, "", 503, 1},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(mutate(c.config)))
				defer reset()
				id := host.InitializeHttpContext()
				if got := host.CallOnRequestHeaders(id, post("application/json"), true); got != types.ActionContinue {
					t.Fatalf("request: %v, want continue", got)
				}
				headers := [][2]string{{":status", "200"}, {"content-length", strconv.Itoa(len(c.body))}}
				if c.contentType != "" {
					headers = append(headers, [2]string{"content-type", c.contentType})
				}
				if got := host.CallOnResponseHeaders(id, headers, false); got != types.ActionPause {
					t.Fatalf("response headers: %v, want pause (held for the body)", got)
				}
				action := host.CallOnResponseBody(id, []byte(c.body), true)
				if c.denied != 0 {
					if reply := host.GetSentLocalResponse(id); reply == nil || reply.StatusCode != c.denied {
						t.Fatalf("local reply %+v, want %d", reply, c.denied)
					}
				} else {
					if action != types.ActionContinue {
						t.Fatalf("response body: %v, want continue", action)
					}
					want := c.want
					if want == "" {
						want = c.body
					}
					got := string(host.GetCurrentResponseBody(id))
					if got != want {
						t.Errorf("body\n got  %s\n want %s", got, want)
					}
					if cl := header(host.GetCurrentResponseHeaders(id), "content-length"); cl != strconv.Itoa(len(got)) {
						t.Errorf("content-length %s, body of %d bytes", cl, len(got))
					}
				}
				if got := wasmtest.Counter(t, host, invalidBodies("response")); got != c.invalid {
					t.Errorf("invalid response bodies counted: %d, want %d", got, c.invalid)
				}
			})
		}
	})
}

// A side without operations is neither read nor held (policy.BodyPhases):
// a filter of request operations lets responses stream, and one of
// response operations lets requests stream.
func TestSidesWithoutOperationsAreNotHeld(t *testing.T) {
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(mutate(`{"request": {"remove": ["a"]}}`)))
		id := host.InitializeHttpContext()
		wasmtest.Send(host, id, post("application/json"), `{"a": 1}`)
		if got := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"content-type", "application/json"}}, false); got != types.ActionContinue {
			t.Errorf("response headers: %v, want continue", got)
		}
		if got := host.CallOnResponseBody(id, []byte(`{"a"`), false); got != types.ActionContinue {
			t.Errorf("response body chunk: %v, want continue", got)
		}
		reset() // one emulator at a time

		host, reset = wasmtest.Start(t, r.VM, wasmtest.Chain(mutate(`{"response": {"remove": ["a"]}}`)))
		defer reset()
		id = host.InitializeHttpContext()
		if got := host.CallOnRequestHeaders(id, post("application/json"), false); got != types.ActionContinue {
			t.Errorf("request headers with a body to come: %v, want continue", got)
		}
		if got := host.CallOnRequestBody(id, []byte(`{"a"`), false); got != types.ActionContinue {
			t.Errorf("request body chunk: %v, want continue", got)
		}
	})
}

// A response the filter refuses is counted as its decision even when the
// request had no body for it to read.
func TestResponseDenialCountedWithoutARequestBody(t *testing.T) {
	config := `{"request": {"remove": ["a"]}, "response": {"remove": ["a"]}, "invalid_body": "deny"}`
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(mutate(config)))
		defer reset()
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, post("application/json")[:3], true)
		host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"content-type", "application/json"}}, false)
		host.CallOnResponseBody(id, []byte(`{"a"`), true)
		if reply := host.GetSentLocalResponse(id); reply == nil || reply.StatusCode != 502 {
			t.Fatalf("reply %+v, want 502", reply)
		}
		host.CompleteHttpContext(id)
		if got := wasmtest.Counter(t, host, "filter=.=body;.;decision=.=denied;.;policy_filter_decisions_total"); got != 1 {
			t.Errorf("denials counted: %d, want 1", got)
		}
	})
}
