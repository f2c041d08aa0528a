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

	"github.com/wasmpolicy/policy"
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
//     Envoy does.
//   - The header maps are the emulator's, and it edits them unlike Envoy,
//     whose way Start's host follows. Adding a value to a header that is
//     present joins it to the header's first entry with nothing in
//     between ("a" and "b" make "ab"), whatever the header; Envoy appends
//     it after a comma to an inline header (x-forwarded-for, user-agent,
//     via, ...: "a,b") and gives any other header a second entry.
//     Replacing a header sets its first entry and leaves the others, where
//     Envoy leaves one entry; removing a header removes its first entry
//     only, where Envoy removes them all. Reading one header
//     (proxy_get_header_map_value) trims the spaces around its value and
//     finds none whose value is empty, where Envoy returns the first value
//     as it is. "host" is a header of its own, where Envoy's request
//     headers read and edit :authority for it. A pseudo-header added goes
//     last, not after the other pseudo-headers. Setting the whole map
//     (proxy_set_header_map_pairs) keeps the pairs as given, the case of
//     their names and an inline header named twice included, where Envoy
//     lower-cases the names and joins the values of an inline header. A
//     test of repeated headers, or of a value added to a header present,
//     holds with Start only.
//   - Logs keep their order within a level only: the emulator keeps one
//     list per level. Result.Logs, DeniedBy and Reason work as with Start.
//   - Counter, Gauge and Histogram work (after a tick, as with Start); a
//     histogram reads as one value, the last recorded into it: the
//     emulator keeps no more. Metrics, Prometheus and HostCalls fail the test: the
//     emulator lists no metrics and counts no calls.
//   - There is one VM: Workers(n) with n > 1 fails the test.
//   - The clock is the test's, as with Start, for a plugin of this
//     module's dispatcher: when vm is a *policy.Plugin whose Clock is nil,
//     Native sets its Clock to the test's clock before the plugin starts,
//     so that every filter reads it (Env.Now, and Exchange.StartTime: the
//     emulator has no request.time property), from the time it is built.
//     Advance and SetTime move it, and Advance calls proxy_on_tick for
//     each tick period elapsed on the way. When the plugin is closed (at
//     the end of the test) Native sets Clock back to nil, so that a later
//     Native of the same Plugin gives it that test's clock. A Clock the
//     test set itself is left as it is, and read instead. Any other
//     plugin reads time however it does (time.Now reads the machine's
//     clock): to drive it from the test, give it Plugin.Now as its clock
//     if it takes one.
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
	p := &Plugin{tb: tb, clock: &clock{t: s.start}}
	n := &native{callouts: s.callouts}
	if pl, ok := vm.(*policy.Plugin); ok && pl.Clock == nil {
		// Before the plugin starts: filters may read the time as they are
		// built. Close sets it back, so that the Plugin is as the test
		// made it for whatever uses it next.
		pl.Clock = p.clock.now
		n.restore = func() { pl.Clock = nil }
	}
	n.host, n.reset = proxytest.NewHostEmulator(opt)
	p.native = n
	host := n.host
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
	// restore takes the test's clock out of the policy.Plugin Native gave
	// it to; nil if it gave it to none.
	restore func()
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
