package bridge_test

import (
	"fmt"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// Callbacks: each subtest checks that the export runs the probe's callback
// with its arguments intact and that its result reaches the host.

// streamPhases are the HTTP callbacks; want is the probe's report for a
// request driven by fullRequest.
var streamPhases = []struct {
	export, report string
	want           func(id uint32, end bool) string
}{
	{"proxy_on_request_headers", "on_request_headers", func(id uint32, end bool) string { return fmt.Sprintf("id=%d num=3 end=%t", id, end) }},
	{"proxy_on_request_body", "on_request_body", func(id uint32, end bool) string { return fmt.Sprintf("id=%d size=5 end=%t", id, end) }},
	{"proxy_on_request_trailers", "on_request_trailers", func(id uint32, _ bool) string { return fmt.Sprintf("id=%d num=2", id) }},
	{"proxy_on_response_headers", "on_response_headers", func(id uint32, end bool) string { return fmt.Sprintf("id=%d num=2 end=%t", id, end) }},
	{"proxy_on_response_body", "on_response_body", func(id uint32, end bool) string { return fmt.Sprintf("id=%d size=6 end=%t", id, end) }},
	{"proxy_on_response_trailers", "on_response_trailers", func(id uint32, _ bool) string { return fmt.Sprintf("id=%d num=1", id) }},
}

// fullRequest runs every phase of one stream with op, passing end as the
// end-of-stream flag, and returns the stream's id and each phase's action.
func (e *probeEnv) fullRequest(op string, end bool) (uint32, map[string]types.Action) {
	id := e.host.InitializeHttpContext()
	h := e.host
	a := map[string]types.Action{
		"on_request_headers":   h.CallOnRequestHeaders(id, [][2]string{{"x-probe", op}, {"a", "1"}, {"b", "2"}}, end),
		"on_request_body":      h.CallOnRequestBody(id, []byte("hello"), end),
		"on_request_trailers":  h.CallOnRequestTrailers(id, [][2]string{{"t", "1"}, {"u", "2"}}),
		"on_response_headers":  h.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"c", "3"}}, end),
		"on_response_body":     h.CallOnResponseBody(id, []byte("world!"), end),
		"on_response_trailers": h.CallOnResponseTrailers(id, [][2]string{{"v", "1"}}),
	}
	h.CompleteHttpContext(id)
	return id, a
}

func callbackCases() []caseFunc {
	cases := []caseFunc{
		{"proxy_on_vm_start", func(t *testing.T, r wasmtest.Runner) {
			e := newEnv(t, r, pluginConfig)
			if !e.host.StartVM() {
				t.Error("OnVMStart = false, want true")
			}
			e.expectf("vm_start", "size=%d config=%s", len(vmConfig), vmConfig)
		}},
		{"proxy_on_configure", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.expectf("plugin_start", "size=%d config=%s", len(pluginConfig), pluginConfig)
		}},
		{"proxy_on_configure/failure", func(t *testing.T, r wasmtest.Runner) {
			e := newEnv(t, r, "fail")
			e.host.StartVM()
			if e.host.StartPlugin() {
				t.Error("OnPluginStart with config fail = true, want false")
			}
			e.expect("plugin_start", "size=4 config=fail")
		}},
		{"proxy_on_context_create", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.expect("plugin_context", "id=1")
			id, _ := e.request("")
			e.expectf("http_context", "id=%d plugin=1", id)
		}},
		{"proxy_on_log", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			id, _ := e.fullRequest("", false)
			if n := e.count(fmt.Sprintf("probe: on_log: http=%d", id)); n != 1 {
				t.Errorf("stream done reported %d times, want 1", n)
			}
		}},
		{"proxy_on_delete", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			id, _ := e.fullRequest("", false)
			if r.Wasm == nil {
				// Natively the emulator deletes the context itself.
				defer func() {
					if recover() == nil {
						t.Error("a deleted stream still took request headers")
					}
				}()
				e.host.CallOnRequestHeaders(id, nil, false)
				return
			}
			// proxytest never deletes a compiled plugin's contexts: call the
			// export as Envoy does. proxy_on_log reaches the stream until
			// it is deleted, and is a no-op for unknown contexts after.
			done := fmt.Sprintf("probe: on_log: http=%d", id)
			call(t, r.Wasm, "proxy_on_log", uint64(id))
			if n := e.count(done); n != 2 {
				t.Fatalf("stream done reported %d times before delete, want 2", n)
			}
			r.Wasm.Delete(id)
			call(t, r.Wasm, "proxy_on_log", uint64(id))
			if n := e.count(done); n != 2 {
				t.Errorf("stream done reported %d times after delete, want still 2", n)
			}
		}},
		{"proxy_on_done", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			if e.host.FinishVM() {
				t.Error("OnPluginDone = true, want the probe's false")
			}
			e.expect("plugin_done", "id=1")
		}},
		{"proxy_on_tick", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.host.Tick()
			e.expect("tick", "plugin=1 target=0")
		}},
		{"proxy_on_queue_ready", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.request("queue_enqueue")
			e.expect("queue_ready", "id=1")
		}},
		{"proxy_on_http_call_response", func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			id := e.answeredCallout()
			e.expectf("http_call_response", "id=%d num=1 size=9 trailers=1", id)
		}},
	}
	for _, p := range streamPhases {
		cases = append(cases, caseFunc{p.export, func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			for _, end := range []bool{false, true} {
				for _, c := range []struct {
					op   string
					want types.Action
				}{{"", types.ActionContinue}, {"pause", types.ActionPause}} {
					id, actions := e.fullRequest(c.op, end)
					e.expect(p.report, p.want(id, end))
					if actions[p.report] != c.want {
						t.Errorf("op %q end=%t: action %v, want %v", c.op, end, actions[p.report], c.want)
					}
				}
			}
		}})
	}
	return cases
}

// connectionCases check the L4 callbacks, with the probe serving TCP.
// Natively the emulator drives the connection; proxytest drives only HTTP
// streams of a compiled plugin, so the wasm run calls the exports as Envoy
// does, with end of stream set on upstream data to see the flag cross.
func connectionCases() []caseFunc {
	checks := []struct {
		export string
		check  func(e *probeEnv, c conn)
	}{
		{"proxy_on_context_create/tcp", func(e *probeEnv, c conn) { e.expectf("tcp_context", "id=%d plugin=1", c.id) }},
		{"proxy_on_new_connection", func(e *probeEnv, c conn) {
			e.expectf("on_new_connection", "id=%d", c.id)
			if c.actions[0] != types.ActionContinue {
				e.t.Errorf("action %v, want Continue", c.actions[0])
			}
		}},
		{"proxy_on_downstream_data", func(e *probeEnv, c conn) {
			e.expectf("on_downstream_data", "id=%d size=5 end=false", c.id)
			if c.actions[1] != types.ActionPause {
				e.t.Errorf("action %v, want Pause", c.actions[1])
			}
		}},
		{"proxy_on_upstream_data", func(e *probeEnv, c conn) {
			e.expectf("on_upstream_data", "id=%d size=7 end=%t", c.id, e.r.Wasm != nil)
			if c.actions[2] != types.ActionPause {
				e.t.Errorf("action %v, want Pause", c.actions[2])
			}
		}},
		{"proxy_on_downstream_connection_close", func(e *probeEnv, c conn) {
			e.expectf("on_downstream_connection_close", "id=%d peer=%d", c.id, types.PeerTypeLocal)
		}},
		{"proxy_on_upstream_connection_close", func(e *probeEnv, c conn) {
			e.expectf("on_upstream_connection_close", "id=%d peer=%d", c.id, types.PeerTypeLocal)
		}},
		{"proxy_on_log/tcp", func(e *probeEnv, c conn) { e.expectf("on_log", "tcp=%d", c.id) }},
	}
	var cases []caseFunc
	for _, ch := range checks {
		cases = append(cases, caseFunc{ch.export, func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, "tcp")
			ch.check(e, e.connection(t))
		}})
	}
	return cases
}

// conn is one TCP connection's id and the actions of new connection,
// downstream data and upstream data.
type conn struct {
	id      uint32
	actions [3]types.Action
}

// nextConnID numbers the connections the wasm run opens itself, far from
// the ids proxytest hands out.
var nextConnID uint32 = 1 << 30

func (e *probeEnv) connection(t *testing.T) conn {
	var c conn
	if e.r.Wasm == nil {
		h := e.host
		c.id, c.actions[0] = h.InitializeConnection()
		c.actions[1] = h.CallOnDownstreamData(c.id, []byte("12345"))
		c.actions[2] = h.CallOnUpstreamData(c.id, []byte("1234567"))
		h.CloseDownstreamConnection(c.id)
		h.CloseUpstreamConnection(c.id)
		h.CompleteConnection(c.id)
		return c
	}
	vm := e.r.Wasm
	nextConnID++
	c.id = nextConnID
	id, local := uint64(c.id), uint64(types.PeerTypeLocal)
	call(t, vm, "proxy_on_context_create", id, 1)
	c.actions[0] = types.Action(call(t, vm, "proxy_on_new_connection", id))
	c.actions[1] = types.Action(call(t, vm, "proxy_on_downstream_data", id, 5, 0))
	c.actions[2] = types.Action(call(t, vm, "proxy_on_upstream_data", id, 7, 1))
	call(t, vm, "proxy_on_downstream_connection_close", id, local)
	call(t, vm, "proxy_on_upstream_connection_close", id, local)
	call(t, vm, "proxy_on_log", id)
	vm.Delete(c.id)
	return c
}
