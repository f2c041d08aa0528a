package headerauth_test

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// image is the compiled example every test also runs against.
const image = "headerauth"

func native() types.VMContext { return policy.Configured(headerauth.Kind) }

// pluginConfig wraps a headerauth "config" object into a plugin
// configuration, in mode ("" for enforce).
func pluginConfig(config, mode string) string {
	return wasmtest.FilterConfig("headerauth", mode, config)
}

// exchange is what became of one request.
type exchange struct {
	action   types.Action
	local    *proxytest.LocalHttpResponse // nil if the request went upstream
	upstream [][2]string                  // request headers after the chain
}

// send runs one request through host and completes its stream.
func send(host proxytest.HostEmulator, method, path string, headers [][2]string) exchange {
	id := host.InitializeHttpContext()
	all := append([][2]string{{":method", method}, {":path", path}, {":authority", "example.com"}}, headers...)
	var e exchange
	e.action = host.CallOnRequestHeaders(id, all, true)
	e.local = host.GetSentLocalResponse(id)
	e.upstream = host.GetCurrentRequestHeaders(id)
	host.CompleteHttpContext(id)
	return e
}

func decisions(decision string) string {
	return "filter=.=headerauth;.;decision=.=" + decision + ";.;policy_filter_decisions_total"
}

const bypassedTotal = "filter=.=headerauth;.;policy_headerauth_bypassed_total"
