package policytest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// Native starts the plugin vm natively, compiled for the test's machine,
// in the SDK's host emulator (proxytest), with the plugin configuration
// config, and returns it as a Plugin: the same test function can take a
// Plugin from Start and one from Native, and so check the compiled plugin
// and the Go code it is compiled from alike, with the native run in the
// debugger and the race detector.
//
//	package main_test
//
//	import (
//		"testing"
//
//		"github.com/wasmpolicy/policy"
//		"github.com/wasmpolicy/policy/headerauth"
//		"github.com/wasmpolicy/policy/policytest"
//	)
//
//	func check(t *testing.T, p *policytest.Plugin) {
//		if res := p.Do(policytest.Request{Path: "/"}); res.Status != 403 || res.DeniedBy != "headerauth" {
//			t.Errorf("%d by %q, want 403 by headerauth", res.Status, res.DeniedBy)
//		}
//	}
//
//	func TestPlugin(t *testing.T) {
//		const config = `{"filters": [{"name": "headerauth", "config": {"header": "allow", "values": ["true"]}}]}`
//		t.Run("wasm", func(t *testing.T) { check(t, policytest.Start(t, policytest.Build(t, "."), config)) })
//		t.Run("go", func(t *testing.T) { check(t, policytest.Native(t, policy.Configured(headerauth.Kind), config)) })
//	}
//
// vm is what the plugin's main package gives proxywasm.SetVMContext (for
// a plugin of this module's dispatcher, the policy.Plugin it serves).
//
// The emulator is not Envoy, and a Native plugin is what it can do:
//   - Do runs the request phases, answers the plugin's callouts with the
//     Callouts function (every callout is sent: without Callouts they all
//     fail, as a reset would, rather than being refused), and runs the
//     response phases on the upstream's answer, or on a local reply as
//     Envoy does. The emulator itself concatenates a value added to a
//     header present with a comma, and removes only the first copy of a
//     header: a test of repeated headers holds in the kit's host only.
//   - Logs keep their order within a level only: the emulator keeps one
//     list per level. Result.Logs, DeniedBy and Reason work as with Start.
//   - Counter, Gauge and Histogram work (after a tick, as with Start); a
//     histogram reads as one value, the last recorded into it: the
//     emulator keeps no more. Metrics, Prometheus and HostCalls fail the test: the
//     emulator lists no metrics and counts no calls.
//   - There is one VM: Workers(n) with n > 1 fails the test.
//   - The plugin's clock is the machine's, unless the plugin reads time
//     through a function the test sets to Plugin.Now (policy.Plugin.Clock
//     for this module's dispatcher). Advance moves Now and calls
//     proxy_on_tick for each tick period elapsed on the way.
//   - SharedData and SetSharedData use the emulator's shared data;
//     Property and PluginName set properties; Request.Properties,
//     Source and Route are set before the request's headers are given.
//
// Only one emulator runs at a time in a test binary: tests running Native
// must not run in parallel with each other.
func Native(tb testing.TB, vm types.VMContext, config string, opts ...Option) *Plugin {
	tb.Helper()
	s := settings{workers: 1, start: defaultStart, properties: map[string][]byte{}}
	for _, o := range opts {
		o(&s)
	}
	if s.workers != 1 {
		tb.Fatalf("policytest.Native: the SDK's emulator runs one VM, not Workers(%d)", s.workers)
	}
	opt := proxytest.NewEmulatorOption().WithVMContext(vm)
	if config != "" {
		opt = opt.WithPluginConfiguration([]byte(config))
	}
	if s.vmConfig != nil {
		opt = opt.WithVMConfiguration(s.vmConfig)
	}
	name := s.name
	if name == "" {
		name = "plugin"
	}
	opt = opt.WithProperty([]string{"plugin_name"}, []byte(name))
	for path, value := range s.properties {
		opt = opt.WithProperty(strings.Split(path, "."), value)
	}
	host, reset := proxytest.NewHostEmulator(opt)
	p := &Plugin{tb: tb, clock: &clock{t: s.start}, native: &native{host: host, reset: reset, callouts: s.callouts}}
	p.vms = []*VM{{p: p}}
	tb.Cleanup(p.Close)
	tb.Cleanup(func() {
		if tb.Failed() {
			p.dumpLogs()
		}
	})
	for _, kv := range s.shared {
		if err := proxywasm.SetSharedData(kv[0], []byte(kv[1]), 0); err != nil {
			tb.Fatalf("policytest.SharedData(%q): %v", kv[0], err)
		}
	}
	if st := host.StartVM(); st != types.OnVMStartStatusOK {
		tb.Fatalf("the plugin did not start: proxy_on_vm_start returned %v", st)
	}
	if st := host.StartPlugin(); st != types.OnPluginStartStatusOK {
		tb.Fatalf("the plugin did not start: proxy_on_configure returned %v; it logged %q", st, host.GetErrorLogs())
	}
	if period := host.GetTickPeriod(); period > 0 {
		p.vms[0].nextTick = s.start.Add(time.Duration(period) * time.Millisecond)
	}
	return p
}

// native is a Plugin run in the SDK's emulator.
type native struct {
	host     proxytest.HostEmulator
	reset    func()
	callouts func(Callout) *Response
	closed   bool
	// answered counts the callouts answered, by stream.
	answered map[uint32]int
}

// failNative fails the test for a method the emulator cannot support.
func (p *Plugin) failNative(what string) {
	p.tb.Helper()
	p.tb.Fatalf("policytest: %s is not available natively (the SDK's emulator cannot do it); run the plugin with Start", what)
}

var nativeLevels = []struct {
	name string
	get  func(proxytest.HostEmulator) []string
}{
	{"trace", proxytest.HostEmulator.GetTraceLogs},
	{"debug", proxytest.HostEmulator.GetDebugLogs},
	{"info", proxytest.HostEmulator.GetInfoLogs},
	{"warn", proxytest.HostEmulator.GetWarnLogs},
	{"error", proxytest.HostEmulator.GetErrorLogs},
	{"critical", proxytest.HostEmulator.GetCriticalLogs},
}

// logs are the emulator's logs, level by level, with the number of lines
// of each level.
func (n *native) logs() ([]Log, []int) {
	var out []Log
	counts := make([]int, len(nativeLevels))
	for i, l := range nativeLevels {
		lines := l.get(n.host)
		counts[i] = len(lines)
		for _, m := range lines {
			out = append(out, Log{Level: l.name, Message: m})
		}
	}
	return out, counts
}

// since are the lines logged after counts were taken.
func (n *native) since(counts []int) []Log {
	var out []Log
	for i, l := range nativeLevels {
		lines := l.get(n.host)
		for _, m := range lines[min(counts[i], len(lines)):] {
			out = append(out, Log{Level: l.name, Message: m})
		}
	}
	return out
}

// do runs r through the emulator.
func (n *native) do(p *Plugin, r Request) *Result {
	h := n.host
	_, before := n.logs()
	begin := time.Now()
	res := &Result{}
	props := map[string][]byte{"source.address": []byte(r.source()), "route_name": []byte(r.Route)}
	for k, v := range r.Properties {
		props[k] = []byte(v)
	}
	for k, v := range props {
		if len(v) == 0 { // the emulator stores no empty value
			continue
		}
		if err := h.SetProperty(strings.Split(k, "."), v); err != nil {
			res.Err = fmt.Errorf("property %s: %v", k, err)
			return res
		}
	}
	headers := requestHeaders(r)
	id := h.InitializeHttpContext()
	defer h.CompleteHttpContext(id)
	action := h.CallOnRequestHeaders(id, headers, r.Body == "")
	n.answerCallouts(id)
	if r.Body != "" && h.GetSentLocalResponse(id) == nil {
		action = h.CallOnRequestBody(id, []byte(r.Body), true)
		n.answerCallouts(id)
	}
	_ = action
	var status int
	var respHeaders [][2]string
	var respBody []byte
	if local := h.GetSentLocalResponse(id); local != nil {
		res.LocalReply = true
		res.Details = local.StatusCodeDetail
		status, respHeaders, respBody = int(local.StatusCode), local.Headers, local.Data
	} else if h.GetCurrentHttpStreamAction(id) != types.ActionContinue {
		res.Status, res.Err = 504, fmt.Errorf("the plugin left the request paused")
		res.Logs = n.since(before)
		return res
	} else {
		f := &Forwarded{Headers: h.GetCurrentRequestHeaders(id), Body: string(h.GetCurrentRequestBody(id))}
		res.Forwarded = f
		answer := r.Upstream
		if r.Answer != nil {
			answer = r.Answer(f)
		}
		if answer == nil {
			answer = &Response{Status: 200}
		}
		res.Details = "via_upstream"
		status, respHeaders, respBody = answer.Status, lower(answer.Headers), []byte(answer.Body)
	}
	if status == 0 {
		status = 200
	}
	h.CallOnResponseHeaders(id, append([][2]string{{":status", strconv.Itoa(status)}}, respHeaders...), len(respBody) == 0)
	out := h.GetCurrentResponseHeaders(id)
	if len(respBody) > 0 {
		h.CallOnResponseBody(id, respBody, true)
		respBody = h.GetCurrentResponseBody(id)
	}
	if local := h.GetSentLocalResponse(id); local != nil && !res.LocalReply {
		// A local reply from a response phase replaces the upstream's.
		res.LocalReply, res.Details = true, local.StatusCodeDetail
		status, out, respBody = int(local.StatusCode), local.Headers, local.Data
	}
	res.Status, res.Body = status, string(respBody)
	for _, hv := range out {
		if hv[0] == ":status" {
			if s, err := strconv.Atoi(hv[1]); err == nil {
				res.Status = s
			}
			continue
		}
		res.Headers = append(res.Headers, hv)
	}
	res.Duration = time.Since(begin)
	res.Logs = n.since(before)
	res.findDenial()
	return res
}

// answerCallouts answers every callout the stream id has pending with the
// test's Callouts function; without one, or when it returns nil, the call
// ends without a response.
func (n *native) answerCallouts(id uint32) {
	if n.answered == nil {
		n.answered = map[uint32]int{}
	}
	for {
		// The emulator lists a stream's callouts in the order they were
		// made, answered or not, and reuses the IDs of answered ones.
		calls := n.host.GetCalloutAttributesFromContext(id)
		if n.answered[id] >= len(calls) {
			return
		}
		c := calls[n.answered[id]]
		n.answered[id]++
		var resp *Response
		if n.callouts != nil {
			resp = n.callouts(Callout{Cluster: c.Upstream, Headers: c.Headers, Body: string(c.Body)})
		}
		if resp == nil {
			n.host.CallOnHttpCallResponse(c.CalloutID, nil, nil, nil)
			continue
		}
		status := resp.Status
		if status == 0 {
			status = 200
		}
		n.host.CallOnHttpCallResponse(c.CalloutID, append([][2]string{{":status", strconv.Itoa(status)}}, lower(resp.Headers)...), nil, []byte(resp.Body))
	}
}

// nativeMetric reads the metric name with the tags pairs from the
// emulator, which finds a metric by its full name only: the tags are tried
// in every order.
func (p *Plugin) nativeMetric(kind, name string, pairs []string) uint64 {
	p.tb.Helper()
	if len(pairs)%2 != 0 {
		p.tb.Fatalf("policytest: the tags of %s are not key, value pairs: %q", name, pairs)
	}
	get := map[string]func(string) (uint64, error){
		"counter": p.native.host.GetCounterMetric, "gauge": p.native.host.GetGaugeMetric, "histogram": p.native.host.GetHistogramMetric,
	}[kind]
	tags := make([][2]string, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		tags = append(tags, [2]string{pairs[i], pairs[i+1]})
	}
	var found bool
	var value uint64
	permute(tags, 0, func(order [][2]string) bool {
		var b strings.Builder
		for _, t := range order {
			b.WriteString(t[0] + "=.=" + t[1] + ";.;")
		}
		b.WriteString(name)
		if v, err := get(b.String()); err == nil {
			found, value = true, v
			return true
		}
		return false
	})
	if !found {
		p.tb.Fatalf("the plugin defined no %s %s with the tags %q", kind, name, pairs)
	}
	return value
}

// permute calls f with every order of tags[k:] after tags[:k] until f
// returns true.
func permute(tags [][2]string, k int, f func([][2]string) bool) bool {
	if k == len(tags) {
		return f(tags)
	}
	for i := k; i < len(tags); i++ {
		tags[k], tags[i] = tags[i], tags[k]
		done := permute(tags, k+1, f)
		tags[k], tags[i] = tags[i], tags[k]
		if done {
			return true
		}
	}
	return false
}
