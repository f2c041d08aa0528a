// Package tutorial is the rate-limiting plugin of Istio's Wasm tutorial,
// written directly against the SDK in the plain style the tutorial uses:
// a token bucket of 2 requests per second in a variable of the plugin
// context, refilled from the clock, a 403 when it is empty, two headers on
// every response and a log line per admitted request. It is the benchmark's
// hand-written peer (internal/cmd/bench), which measures the library doing
// the same two things against it.
//
// The plugin configuration "quiet" (exactly those bytes) drops the log
// line; any other configuration, or none, runs it as written.
package tutorial

import (
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

const (
	tokensPerSecond = 2
	forbiddenBody   = "Access forbidden - token bucket empty"
)

// VM is the plugin's VM context. Now is the clock the bucket refills from:
// time.Now when nil. The native benchmark sets a clock of its own, which
// moves as the benchmark's requests do.
type VM struct {
	types.DefaultVMContext
	Now func() time.Time
}

// NewPluginContext implements types.VMContext.
func (vm *VM) NewPluginContext(uint32) types.PluginContext {
	now := vm.Now
	if now == nil {
		now = time.Now
	}
	return &pluginContext{now: now}
}

// pluginContext holds the bucket: every HTTP context of the plugin draws
// from it.
type pluginContext struct {
	types.DefaultPluginContext
	now        func() time.Time
	quiet      bool
	tokens     int
	lastRefill time.Time
	admitted   int
}

func (p *pluginContext) OnPluginStart(configSize int) types.OnPluginStartStatus {
	if configSize > 0 {
		config, err := proxywasm.GetPluginConfiguration()
		if err != nil {
			proxywasm.LogCriticalf("reading the plugin configuration: %v", err)
			return types.OnPluginStartStatusFailed
		}
		p.quiet = string(config) == "quiet"
	}
	p.tokens = tokensPerSecond
	p.lastRefill = p.now()
	return types.OnPluginStartStatusOK
}

func (p *pluginContext) NewHttpContext(uint32) types.HttpContext {
	return &httpContext{plugin: p}
}

// take refills the bucket once a second has passed since the last refill,
// then takes a token if one is left.
func (p *pluginContext) take() bool {
	now := p.now()
	if now.Sub(p.lastRefill) >= time.Second {
		p.tokens = tokensPerSecond
		p.lastRefill = now
	}
	if p.tokens == 0 {
		return false
	}
	p.tokens--
	return true
}

type httpContext struct {
	types.DefaultHttpContext
	plugin *pluginContext
}

func (c *httpContext) OnHttpRequestHeaders(int, bool) types.Action {
	if !c.plugin.take() {
		if err := proxywasm.SendHttpResponse(403, nil, []byte(forbiddenBody), -1); err != nil {
			proxywasm.LogErrorf("sending the denial: %v", err)
		}
		return types.ActionPause
	}
	c.plugin.admitted++
	if !c.plugin.quiet {
		proxywasm.LogInfof("request %d admitted", c.plugin.admitted)
	}
	return types.ActionContinue
}

// OnHttpResponseHeaders sets the tutorial's two headers. Replacing rather
// than adding is what the library's headermutate "set" does, so that both
// plugins leave the same response behind.
func (c *httpContext) OnHttpResponseHeaders(int, bool) types.Action {
	if err := proxywasm.ReplaceHttpResponseHeader("who-am-i", "wasm-extension"); err != nil {
		proxywasm.LogErrorf("setting who-am-i: %v", err)
	}
	if err := proxywasm.ReplaceHttpResponseHeader("injected-by", "istio-api!"); err != nil {
		proxywasm.LogErrorf("setting injected-by: %v", err)
	}
	return types.ActionContinue
}
