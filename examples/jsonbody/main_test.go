package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/bodymutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// exchange is one request of the README, with the response the upstream
// gives it, and what the client and the upstream get.
type exchange struct {
	method, path string
	body         string // the request's body
	response     string // the upstream's response body, if it is reached

	status   uint32 // the plugin's reply; 0 when the request goes upstream
	forward  string // the body the upstream gets
	delivers string // the body the client gets from the upstream's response
}

var exchanges = []exchange{
	{method: "POST", path: "/users", body: `{"name": "ann", "role": "admin"}`, status: 403},
	{method: "POST", path: "/users", body: `{"name": "ann", "Role": "owner"}`, status: 403},
	{method: "PATCH", path: "/users/7", body: `{"role": "viewer", "role": "admin"}`, status: 403},
	{method: "POST", path: "/users", body: `{"name": "ann", "role": "viewer", "debug": true}`,
		forward: `{"name": "ann", "role": "viewer", "audit":{"request_id":"req-1","via":"gateway"}}`},
	{method: "POST", path: "/orders", body: `{"item": "book", "audit": {"via": "me", "request_id": "forged"}}`,
		forward: `{"item": "book", "audit": {"request_id":"req-1","via":"gateway"}}`},
	{method: "POST", path: "/orders", body: `{"item": "book"`, status: 400},
	{method: "GET", path: "/users/7", response: `{"id": 7, "name": "ann", "password_hash": "$2y$10$...", "internal": {"shard": 3}}`,
		delivers: `{"id": 7, "name": "ann"}`},
}

// TestReadmeExchanges runs the README's requests with config.json,
// natively and as build/jsonbody.wasm, checks each outcome, and checks that
// the README shows each request body and each result.
func TestReadmeExchanges(t *testing.T) {
	readme := wasmtest.ReadFile(t, "README.md")
	config := wasmtest.ReadFile(t, "config.json")
	native := func() types.VMContext { return policy.Configured(authz.Kind, bodymutate.Kind) }
	wasmtest.Both(t, "jsonbody", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for _, c := range exchanges {
			for _, shown := range []string{c.body, c.forward, c.response, c.delivers} {
				if !strings.Contains(readme, shown) {
					t.Errorf("README does not show %s", shown)
				}
			}
			id := host.InitializeHttpContext()
			headers := [][2]string{{":method", c.method}, {":path", c.path}, {":authority", "api.example.com"},
				{"x-request-id", "req-1"}}
			if c.body != "" {
				headers = append(headers, [2]string{"content-type", "application/json"}, [2]string{"content-length", strconv.Itoa(len(c.body))})
			}
			wasmtest.Send(host, id, headers, c.body)
			what := c.method + " " + c.path + " " + c.body
			if reply := host.GetSentLocalResponse(id); c.status != 0 {
				if reply == nil || reply.StatusCode != c.status {
					t.Errorf("%s: reply %+v, want %d", what, reply, c.status)
				} else if shown := "HTTP/1.1 " + strconv.Itoa(int(c.status)); !strings.Contains(readme, shown) || !strings.Contains(readme, strings.TrimSpace(string(reply.Data))) {
					t.Errorf("README does not show the reply %d %q", c.status, reply.Data)
				}
				host.CompleteHttpContext(id)
				continue
			} else if reply != nil {
				t.Errorf("%s: reply %d %q, want it forwarded", what, reply.StatusCode, reply.Data)
			}
			if got := string(host.GetCurrentRequestBody(id)); c.body != "" && got != c.forward {
				t.Errorf("%s: forwarded\n got  %s\n want %s", what, got, c.forward)
			}
			if c.response != "" {
				resp := [][2]string{{":status", "200"}, {"content-type", "application/json"}, {"content-length", strconv.Itoa(len(c.response))}}
				host.CallOnResponseHeaders(id, resp, false)
				if action := host.CallOnResponseBody(id, []byte(c.response), true); action != types.ActionContinue {
					t.Errorf("%s: response body %v, want continue", what, action)
				}
				if got := string(host.GetCurrentResponseBody(id)); got != c.delivers {
					t.Errorf("%s: delivered\n got  %s\n want %s", what, got, c.delivers)
				}
			}
			host.CompleteHttpContext(id)
		}
	})
}
