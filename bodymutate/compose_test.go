package bodymutate_test

import (
	"strconv"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/bodymutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// goConfig and jsonConfig are the same filter, written in Go and in JSON.
var (
	goConfig = bodymutate.Config{
		Request: bodymutate.Ops{
			Copy: []bodymutate.Copy{{From: "user.name", To: "caller.name"}},
			Set: []bodymutate.Field{
				{Path: "caller.host", Value: "%REQ(:authority)%"},
				{Path: "gateway", JSON: `{"checked": true}`},
				{Path: "note", Value: "100%% checked"},
			},
			Remove: []string{"debug"},
		},
		Response: bodymutate.Ops{
			Copy:   []bodymutate.Copy{{From: "data.internal_id", To: "data.ref"}},
			Set:    []bodymutate.Field{{Path: "served_by", Value: "%REQ(:authority)%"}},
			Remove: []string{"data.internal_id", "trace"},
		},
		InvalidBody: bodymutate.DenyInvalid,
		Deny:        policy.DenyResponse{Status: 422, Body: "send JSON\n"},
	}
	jsonConfig = `{
		"request":  {"copy": [{"from": "user.name", "to": "caller.name"}],
		             "set": {"caller.host": "%REQ(:authority)%", "gateway": {"checked": true}, "note": "100%% checked"},
		             "remove": ["debug"]},
		"response": {"copy": [{"from": "data.internal_id", "to": "data.ref"}],
		             "set": {"served_by": "%REQ(:authority)%"},
		             "remove": ["data.internal_id", "trace"]},
		"invalid_body": "deny", "deny": {"status": 422, "body": "send JSON\n"}}`
)

// A chain built in Go with Filter behaves as the same filter configured in
// JSON: natively the plugin is policy.Static(bodymutate.Filter(goConfig)),
// compiled it is the test plugin configured with jsonConfig. Both rewrite a
// request body and a response body alike, and both answer an unreadable
// body with the configured reply, on either side.
func TestGoAndJSONCompositionAgree(t *testing.T) {
	native := func() types.VMContext { return policy.Static(bodymutate.Filter(goConfig)) }
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		config := ""
		if r.Wasm != nil {
			config = wasmtest.Chain(mutate(jsonConfig))
		}
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()

		// A request, then its response, both rewritten.
		id := host.InitializeHttpContext()
		body := `{"user": {"name": "ann"}, "caller": {"host": "evil"}, "debug": true}`
		if got := wasmtest.Send(host, id, post("application/json", [2]string{"content-length", strconv.Itoa(len(body))}), body); got != types.ActionContinue {
			t.Fatalf("request: %v, want continue", got)
		}
		got := string(host.GetCurrentRequestBody(id))
		if want := `{"user": {"name": "ann"}, "caller": {"name":"ann","host":"example.com"}, "gateway":{"checked": true},"note":"100% checked"}`; got != want {
			t.Errorf("request body\n got  %s\n want %s", got, want)
		}
		if cl := header(host.GetCurrentRequestHeaders(id), "content-length"); cl != strconv.Itoa(len(got)) {
			t.Errorf("request content-length %s, body of %d bytes", cl, len(got))
		}
		body = `{"data": {"internal_id": 7, "name": "x"}, "trace": ["a"]}`
		if got := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"content-type", "application/json"},
			{"content-length", strconv.Itoa(len(body))}}, false); got != types.ActionPause {
			t.Fatalf("response headers: %v, want pause (held for the body)", got)
		}
		if got := host.CallOnResponseBody(id, []byte(body), true); got != types.ActionContinue {
			t.Fatalf("response body: %v, want continue", got)
		}
		got = string(host.GetCurrentResponseBody(id))
		if want := `{"data": {"name": "x","ref":7}, "served_by":"example.com"}`; got != want {
			t.Errorf("response body\n got  %s\n want %s", got, want)
		}
		if cl := header(host.GetCurrentResponseHeaders(id), "content-length"); cl != strconv.Itoa(len(got)) {
			t.Errorf("response content-length %s, body of %d bytes", cl, len(got))
		}
		host.CompleteHttpContext(id)

		// An unreadable request body, then an unreadable response body:
		// both answered with the configured reply.
		id = host.InitializeHttpContext()
		wasmtest.Send(host, id, post("application/json"), `{"user": `)
		checkReply(t, "request", host.GetSentLocalResponse(id))
		host.CompleteHttpContext(id)

		id = host.InitializeHttpContext()
		wasmtest.Send(host, id, post("application/json"), `{}`)
		host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"content-type", "application/json"}}, false)
		host.CallOnResponseBody(id, []byte(`<html>`), true)
		checkReply(t, "response", host.GetSentLocalResponse(id))
		host.CompleteHttpContext(id)
	})
}

// checkReply checks that reply is goConfig's Deny.
func checkReply(t *testing.T, side string, reply *proxytest.LocalHttpResponse) {
	t.Helper()
	if reply == nil || reply.StatusCode != 422 || string(reply.Data) != "send JSON\n" {
		t.Errorf("%s: local reply %+v, want 422 \"send JSON\\n\"", side, reply)
	}
}
