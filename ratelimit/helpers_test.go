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
	headers [][2]string
	source  string // source.address, if set
	route   string // route_name, if set
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
	id := host.InitializeHttpContext()
	all := append([][2]string{{":method", method}, {":path", path}, {":authority", "example.com"}}, req.headers...)
	host.CallOnRequestHeaders(id, all, true)
	var res result
	if local := host.GetSentLocalResponse(id); local != nil {
		res = result{status: local.StatusCode, body: string(local.Data)}
		host.CallOnResponseHeaders(id, append([][2]string{{":status", strconv.FormatUint(uint64(local.StatusCode), 10)}}, local.Headers...), false)
	} else {
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
