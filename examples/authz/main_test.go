package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// TestReadmeExchange runs the exchange shown in README.md with config.json,
// natively and as build/authz.wasm, and checks that every JSON plugin
// configuration in the README starts the plugin.
func TestReadmeExchange(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	blocks := wasmtest.FencedBlocks(wasmtest.ReadFile(t, "README.md"), "json")
	if len(blocks) != 2 {
		t.Fatalf("README has %d JSON blocks, want 2 (the example's and the remote service's)", len(blocks))
	}
	cases := []struct {
		method, path string
		headers      [][2]string
		status       uint32 // 0: forwarded upstream
	}{
		{"GET", "/status/200", nil, 0},
		{"GET", "/status/418?x=1", nil, 0},
		{"POST", "/status/200", nil, 403},
		{"GET", "/status/200/extra", nil, 403},
		{"GET", "/admin", nil, 403},
		{"GET", "/admin/users", [][2]string{{"x-role", "user"}}, 403},
		{"GET", "/admin", [][2]string{{"x-role", "admin"}}, 0},
		{"DELETE", "/admin/users/7", [][2]string{{"x-role", "admin"}}, 0},
		{"GET", "/administrator", [][2]string{{"x-role", "admin"}}, 403},
		{"GET", "/", nil, 403},
		{"GET", "/status/..;/admin", nil, 403},
		{"get", "/status/200", nil, 0},
		{"GET", "/Admin", [][2]string{{"x-role", "admin"}}, 403},
		{"GET", "/admin", [][2]string{{"x-role", "admin"}, {"x-role", "user"}}, 403},
	}
	native := func() types.VMContext { return policy.Configured(authz.Kind) }
	wasmtest.Both(t, "authz", native, func(t *testing.T, r wasmtest.Runner) {
		// One emulator at a time: the SDK's emulator is process-global.
		for i, b := range blocks {
			if started, logs := wasmtest.TryStart(r.VM, b); !started {
				t.Errorf("README JSON block %d does not start the plugin: %q", i, logs)
			}
		}
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for _, c := range cases {
			id := host.InitializeHttpContext()
			headers := append([][2]string{{":method", c.method}, {":path", c.path}, {":authority", "example.com"}}, c.headers...)
			action := host.CallOnRequestHeaders(id, headers, true)
			local := host.GetSentLocalResponse(id)
			switch {
			case c.status == 0 && (action != types.ActionContinue || local != nil):
				t.Errorf("%s %s %v: action %v, reply %v; want forwarded", c.method, c.path, c.headers, action, local)
			case c.status != 0 && (local == nil || local.StatusCode != c.status || string(local.Data) != "access denied\n"):
				t.Errorf("%s %s %v: reply %v; want %d \"access denied\\n\"", c.method, c.path, c.headers, local, c.status)
			}
			host.CompleteHttpContext(id)
		}
	})
}

// The README's remote service configuration, when Envoy cannot connect to
// the service and answers the call itself with 503: the request is denied
// with status_on_error and the plugin logs the README's line. The call
// takes 1ms: natively on the plugin's clock, compiled on the clock of the
// test kit's Envoy-like host the image runs in.
func TestReadmeRemoteFailure(t *testing.T) {
	md := wasmtest.ReadFile(t, "README.md")
	config := wasmtest.FencedBlocks(md, "json")[1]
	var want string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "policy: filter authz: ") {
			want = l
		}
	}
	if want == "" {
		t.Fatal("the README shows no log line")
	}
	headers := [][2]string{{":status", "503"}, {"content-type", "text/plain"}}
	body := "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
	request := [][2]string{{":method", "GET"}, {":path", "/orders"}, {":authority", "shop.example.com"}}
	now := time.Unix(1_700_000_000, 0)

	t.Run("go", func(t *testing.T) {
		p := policy.Configured(authz.Kind)
		p.Clock = func() time.Time { return now }
		host, reset := wasmtest.Start(t, p, config)
		defer reset()
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, request, true)
		calls := host.GetCalloutAttributesFromContext(id)
		if len(calls) != 1 {
			t.Fatalf("%d check requests, want 1", len(calls))
		}
		now = now.Add(time.Millisecond)
		host.CallOnHttpCallResponse(calls[0].CalloutID, headers, nil, []byte(body))
		if reply := host.GetSentLocalResponse(id); reply == nil || reply.StatusCode != 403 {
			t.Errorf("reply %+v, want 403", reply)
		}
		if w := host.GetWarnLogs(); len(w) != 1 || w[0] != want {
			t.Errorf("warnings:\n got  %q\n want [%q]", w, want)
		}
		host.CompleteHttpContext(id)
	})
	t.Run("wasm", func(t *testing.T) {
		// The check request fails after 1ms on the plugin's clock.
		var p *policytest.Plugin
		p = wasmtest.Plugin(t, "authz", config,
			policytest.StartTime(time.Unix(1_700_000_000, 0)),
			policytest.Callouts(func(policytest.Callout) *policytest.Response {
				p.SetTime(p.Now().Add(time.Millisecond))
				return &policytest.Response{Status: 503, Headers: headers[1:], Body: body}
			}))
		res := p.Do(policytest.Request{Headers: request, Source: "10.1.2.3:51234"})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if res.Forwarded != nil {
			t.Error("the upstream was reached")
		}
		if res.Status != 403 {
			t.Errorf("status %d, want 403", res.Status)
		}
		var warnings []string
		for _, l := range p.Logs() {
			if l.Level == "warn" {
				warnings = append(warnings, strings.TrimSpace(l.Message))
			}
		}
		if len(warnings) != 1 || warnings[0] != want {
			t.Errorf("warnings:\n got  %q\n want [%q]", warnings, want)
		}
	})
}
