package main

import (
	"fmt"
	"io"
	"log"
	"strconv"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/authz/jwt"
	"github.com/wasmpolicy/policy/bodymutate"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/testdata/tutorial/tutorial"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/ratelimit"
)

// native is one plugin's cost per request run natively through proxytest:
// the SDK's emulator plays the proxy, so the figures include its own work
// (the no-op plugin's row is that floor).
type native struct {
	nsPerOp, allocsPerOp, bytesPerOp int64
}

// nativePlugin is the plugin an image runs, as a Go value: every example is
// the dispatcher with filter kinds linked in, and which of them run is its
// configuration's choice, so the five kinds serve every example; the jwt
// example also links the verifier, and the jsonbody example the body
// rewrite, as their images do. The tutorial's plugin
// gets the clock its wasm rows get (steppingClock).
func nativePlugin(p plugin) types.VMContext {
	switch p.name {
	case noopName:
		return &noopVM{}
	case jwtName:
		return policy.Configured(jwt.Kind, ratelimit.Kind, headerauth.Kind, headermutate.Kind, authz.Kind, metrics.Kind)
	case tutorialName:
		return &tutorial.VM{Now: steppingClock()}
	case tutorialLibName:
		return policy.Configured(ratelimit.Kind, headermutate.Kind)
	case "jsonbody":
		return policy.Configured(ratelimit.Kind, headerauth.Kind, headermutate.Kind, authz.Kind, metrics.Kind, bodymutate.Kind)
	}
	return policy.Configured(ratelimit.Kind, headerauth.Kind, headermutate.Kind, authz.Kind, metrics.Kind)
}

// noopVM is internal/testdata/noop: default contexts that do nothing.
type noopVM struct{ types.DefaultVMContext }

func (*noopVM) NewPluginContext(uint32) types.PluginContext { return &noopPlugin{} }

type noopPlugin struct{ types.DefaultPluginContext }

func (*noopPlugin) NewHttpContext(uint32) types.HttpContext { return &types.DefaultHttpContext{} }

// measureNative runs testing.Benchmark for each plugin. The emulator logs
// through the standard logger, which is silenced meanwhile.
func measureNative(ps []plugin) (map[string]native, error) {
	testing.Init()
	prev := log.Writer()
	log.SetOutput(io.Discard)
	defer log.SetOutput(prev)
	out := map[string]native{}
	for _, p := range ps {
		if err := checkNative(p); err != nil {
			return nil, err
		}
		res := testing.Benchmark(func(b *testing.B) { benchNative(b, p) })
		out[p.String()] = native{nsPerOp: res.NsPerOp(), allocsPerOp: res.AllocsPerOp(), bytesPerOp: res.AllocedBytesPerOp()}
	}
	return out, nil
}

// emulate starts p in a fresh emulator; the caller must call reset.
func emulate(p plugin) (proxytest.HostEmulator, func(), error) {
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().
		WithVMContext(nativePlugin(p)).WithPluginConfiguration(p.config).
		WithProperty([]string{"route_name"}, []byte(benchRoute)))
	if s := host.StartPlugin(); s != types.OnPluginStartStatusOK {
		reset()
		return nil, nil, fmt.Errorf("%s does not start natively: %v", p, host.GetCriticalLogs())
	}
	return host, reset, nil
}

// nativeRequest runs the benchmark request through the emulator, as the
// proxy would: request headers, response headers and body, end of stream.
func nativeRequest(host proxytest.HostEmulator, headers [][2]string, at int64) uint32 {
	host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0.Add(requestGap*time.Duration(at))))
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, headers, true)
	for _, c := range host.GetCalloutAttributesFromContext(id) {
		host.CallOnHttpCallResponse(c.CalloutID, rateLimitHeaders, nil, rateLimitAnswer)
	}
	host.CallOnResponseHeaders(id, nativeResponseHeaders, false)
	host.CallOnResponseBody(id, upstreamResponse.Body, true)
	host.CompleteHttpContext(id)
	return id
}

// nativeResponseHeaders is the upstream's answer with its :status.
var nativeResponseHeaders = append([][2]string{{":status", strconv.Itoa(upstreamResponse.Status)}}, upstreamResponse.Headers...)

// checkNative checks that p lets the benchmark request through natively.
func checkNative(p plugin) error {
	host, reset, err := emulate(p)
	if err != nil {
		return err
	}
	defer reset()
	id := nativeRequest(host, p.request(), 1)
	if r := host.GetSentLocalResponse(id); r != nil {
		return fmt.Errorf("%s answered the benchmark request natively with %d", p, r.StatusCode)
	}
	return nil
}

// emulatorRequests is how many requests one emulator serves in a
// benchmark: it keeps every stream it has seen, so that a long run would
// measure its growing heap rather than the plugin.
const emulatorRequests = 1000

func benchNative(b *testing.B, p plugin) {
	headers := p.request()
	b.ReportAllocs()
	for i := 0; i < b.N; {
		b.StopTimer()
		host, reset, err := emulate(p)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for end := min(b.N, i+emulatorRequests); i < end; i++ {
			nativeRequest(host, headers, int64(i+1))
		}
		b.StopTimer()
		reset()
	}
}
