package ratelimit_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// image is the compiled example every filter-level test also runs against:
// its chain comes from the plugin configuration, so it runs any case.
const image = "ratelimit"

func native() types.VMContext { return policy.Configured(ratelimit.Kind) }

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// pluginConfig wraps a ratelimit "config" object into a plugin
// configuration, in mode ("" for enforce).
func pluginConfig(config, mode string) string {
	return wasmtest.FilterConfig("ratelimit", mode, config)
}

// request is one request of a case.
type request struct {
	at      time.Duration // after t0: the request's request.time
	method  string        // GET when empty
	path    string        // / when empty
	headers [][2]string   // an ":authority" among them replaces example.com
	source  string        // source.address, if set
	route   string        // route_name, if set
	body    string        // the body, sent after the headers, if set
}

// result is what became of a request: the local reply, or the response
// the client got from upstream through the plugin's response phase.
type result struct {
	status  uint32 // 200 when the request went upstream
	headers [][2]string
	body    string
}

// send runs req through host, as Envoy would: request headers, then the
// response headers (of the upstream's 200, or of the local reply, which
// Envoy passes through the plugin's response phase), then the stream's end.
func send(t *testing.T, host proxytest.HostEmulator, wasm *wasmtest.VM, req request) result {
	t.Helper()
	id, _ := begin(t, host, req)
	return end(t, host, wasm, id)
}

// begin sends req's headers on a new stream and returns its id and the
// check requests the plugin sent.
func begin(t *testing.T, host proxytest.HostEmulator, req request) (uint32, []proxytest.HttpCalloutAttribute) {
	t.Helper()
	must(t, host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0.Add(req.at))))
	if req.source != "" {
		must(t, host.SetProperty([]string{"source", "address"}, []byte(req.source)))
	}
	if req.route != "" {
		must(t, host.SetProperty([]string{"route_name"}, []byte(req.route)))
	}
	method, path := req.method, req.path
	if method == "" {
		method = "GET"
	}
	if path == "" {
		path = "/"
	}
	authority := "example.com"
	var headers [][2]string
	for _, h := range req.headers {
		if h[0] == ":authority" {
			authority = h[1]
		} else {
			headers = append(headers, h)
		}
	}
	id := host.InitializeHttpContext()
	all := append([][2]string{{":method", method}, {":path", path}, {":authority", authority}}, headers...)
	action := host.CallOnRequestHeaders(id, all, req.body == "")
	if req.body != "" {
		action = host.CallOnRequestBody(id, []byte(req.body), true)
	}
	calls := host.GetCalloutAttributesFromContext(id)
	if len(calls) > 0 && action != types.ActionPause {
		t.Fatalf("a check was sent, but the request was not paused (action %v)", action)
	}
	return id, calls
}

// end finishes a request: it must have been resumed or answered. It runs
// the response phase as Envoy does, for the upstream's 200 or the local
// reply, and returns what the client got.
func end(t *testing.T, host proxytest.HostEmulator, wasm *wasmtest.VM, id uint32) result {
	t.Helper()
	var res result
	if local := host.GetSentLocalResponse(id); local != nil {
		res = result{status: local.StatusCode, body: string(local.Data)}
		host.CallOnResponseHeaders(id, append([][2]string{{":status", itoa(local.StatusCode)}}, local.Headers...), false)
	} else {
		if host.GetCurrentHttpStreamAction(id) != types.ActionContinue {
			t.Fatalf("the request was left paused: neither resumed nor answered")
		}
		res.status = 200
		host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"content-type", "text/plain"}}, false)
	}
	res.headers = host.GetCurrentResponseHeaders(id)
	host.CompleteHttpContext(id)
	if wasm != nil {
		wasm.Delete(id)
	}
	return res
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func decisions(decision string) string {
	return "filter=.=ratelimit;.;decision=.=" + decision + ";.;policy_filter_decisions_total"
}

func ratelimitCounter(name string) string { return "filter=.=ratelimit;.;policy_ratelimit_" + name }
