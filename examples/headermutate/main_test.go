package main

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The exchange the README shows, with config.json as the plugin
// configuration, natively and against build/headermutate.wasm.
func TestReadmeExchange(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	native := func() types.VMContext { return policy.Configured(headermutate.Kind) }
	wasmtest.Both(t, "headermutate", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		id := host.InitializeHttpContext()
		request := [][2]string{{":authority", "bookinfo.example.com"}, {":method", "GET"}, {":path", "/productpage"}}
		if got := host.CallOnRequestHeaders(id, request, true); got != types.ActionContinue {
			t.Fatalf("request action = %v", got)
		}
		expect(t, "request", host.GetCurrentRequestHeaders(id), "x-hello", "Hello world from bookinfo.example.com")

		response := [][2]string{{":status", "200"}, {"content-type", "text/html"}}
		if got := host.CallOnResponseHeaders(id, response, false); got != types.ActionContinue {
			t.Fatalf("response action = %v", got)
		}
		headers := host.GetCurrentResponseHeaders(id)
		expect(t, "response", headers, "who-am-i", "wasm-extension")
		expect(t, "response", headers, "injected-by", "istio-api!")
		host.CompleteHttpContext(id)
	})
}

func expect(t *testing.T, side string, headers [][2]string, name, want string) {
	t.Helper()
	for _, h := range headers {
		if h[0] == name {
			if h[1] != want {
				t.Errorf("%s header %s = %q, want %q", side, name, h[1], want)
			}
			return
		}
	}
	t.Errorf("%s header %s missing, want %q (headers: %q)", side, name, want, headers)
}

// The header-injection tutorials configure the filter with its own
// configuration as the whole plugin configuration, no "filters" list: the
// image takes it as headermutate's shorthand, a response header set. The
// {"filters": [...]} form means the same.
func TestTutorialShorthand(t *testing.T) {
	native := func() types.VMContext { return policy.Configured(headermutate.Kind) }
	cases := []struct{ config, name, value string }{
		{`{"name": "hello", "value": "world"}`, "hello", "world"},
		{`{"name": "你好", "value": "六翁"}`, "你好", "六翁"},
		{`{"filters": [{"name": "headermutate", "config": {"name": "hello", "value": "world"}}]}`, "hello", "world"},
	}
	wasmtest.Both(t, "headermutate", native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			host, reset := wasmtest.Start(t, r.VM, c.config)
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, [][2]string{{":authority", "example.com"}, {":method", "GET"}, {":path", "/"}}, true)
			if got := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false); got != types.ActionContinue {
				t.Fatalf("%s: response action = %v", c.config, got)
			}
			expect(t, "response", host.GetCurrentResponseHeaders(id), c.name, c.value)
			host.CompleteHttpContext(id)
			reset()
		}
		// A mistake in the shorthand names its field.
		started, logs := wasmtest.TryStart(r.VM, `{"name": "hello"}`)
		want := `policy: invalid plugin configuration: headermutate (the whole configuration, which has no "filters"): value: is required`
		if started || len(logs) != 1 || logs[0] != want {
			t.Errorf("started = %v, logs = %q; want %q", started, logs, want)
		}
	})
}

// The README's "Values copied from the request": a request whose x-foo
// would inject a header gets the README's deny reply, and without
// "invalid_value": "deny" it goes on without x-user while the plugin logs
// the README's line, which does not hold the value.
func TestReadmeInvalidValue(t *testing.T) {
	md := wasmtest.ReadFile(t, "README.md")
	var deny, logLine string
	for _, b := range wasmtest.FencedBlocks(md, "json") {
		if strings.Contains(b, `"invalid_value"`) {
			deny = b
		}
	}
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "policy: filter headermutate: ") {
			logLine = l
		}
	}
	if deny == "" || logLine == "" {
		t.Fatalf("README shows no invalid_value configuration (%q) or no log line (%q)", deny, logLine)
	}
	drop := `{"filters": [{"name": "headermutate", "config": {"request": {"set": {"x-user": "%REQ(x-foo)%"}}}}]}`
	request := [][2]string{{":authority", "bookinfo.example.com"}, {":method", "GET"}, {":path", "/productpage"},
		{"x-foo", "a\r\nx-injected: 1"}}
	native := func() types.VMContext { return policy.Configured(headermutate.Kind) }
	wasmtest.Both(t, "headermutate", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, deny)
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, request, true)
		if reply := host.GetSentLocalResponse(id); reply == nil || reply.StatusCode != 400 || string(reply.Data) != "bad x-foo header\n" {
			t.Errorf("with invalid_value deny: reply %+v, want 400 \"bad x-foo header\\n\"", reply)
		}
		host.CompleteHttpContext(id)
		reset()

		host, reset = wasmtest.Start(t, r.VM, drop)
		defer reset()
		id = host.InitializeHttpContext()
		if got := host.CallOnRequestHeaders(id, request, true); got != types.ActionContinue {
			t.Fatalf("with invalid_value drop: request action = %v, want continue", got)
		}
		for _, h := range host.GetCurrentRequestHeaders(id) {
			if h[0] == "x-user" {
				t.Errorf("with invalid_value drop: the request carries x-user %q", h[1])
			}
		}
		if w := host.GetWarnLogs(); len(w) != 1 || w[0] != logLine {
			t.Errorf("warnings %q, want the README's %q", w, logLine)
		}
		host.CompleteHttpContext(id)
	})
}
