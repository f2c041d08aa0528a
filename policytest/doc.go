// Package policytest tests a compiled proxy-wasm plugin from an ordinary
// go test: it builds the plugin to Wasm (or loads a .wasm), starts it with
// a plugin configuration in a proxy-wasm host that runs it the way Envoy
// does, replays requests through it, and reads back what the client and
// the upstream got, what the plugin logged and the metrics it kept. The
// module's own filters are tested this way; so can yours be.
//
// It tests the module you deploy, not the Go code compiled for your
// machine: the same .wasm Envoy loads, run in wazero (a Wasm runtime
// written in Go), with nothing else installed.
//
// # A first test
//
// A plugin is a main package. Say its main.go chains three of the
// module's filters in Go (the module's README, "Your own plugin", has it
// whole):
//
//	policy.Serve(policy.Static(
//		headermutate.Filter(headermutate.Config{Response: headermutate.Ops{Set: [][2]string{{"who-am-i", "wasm-extension"}}}}),
//		headerauth.Filter(headerauth.Config{Rule: headerauth.Rule{Header: "allow", Values: []string{"true"}}}),
//		ratelimit.Filter(ratelimit.Config{Limit: ratelimit.Limit{RequestsPerUnit: 2, Unit: ratelimit.Second}}),
//	))
//
// Its test, main_test.go in the same directory, builds it to Wasm, starts
// it and sends it requests:
//
//	package main_test
//
//	import (
//		"strings"
//		"testing"
//		"time"
//
//		"github.com/wasmpolicy/policy/policytest"
//	)
//
//	func TestPlugin(t *testing.T) {
//		p := policytest.Start(t, policytest.Build(t, "."), "", policytest.Workers(2))
//		allowed := policytest.Request{Path: "/", Headers: [][2]string{{"allow", "true"}}}
//
//		res := p.Do(policytest.Request{Path: "/"})
//		if res.Status != 403 || res.DeniedBy != "headerauth" || res.Header("who-am-i") != "wasm-extension" {
//			t.Errorf("no allow header: %d by %q, who-am-i %q; want 403 by headerauth, with who-am-i", res.Status, res.DeniedBy, res.Header("who-am-i"))
//		}
//		for i, want := range []int{200, 200, 429} { // one limit for both VMs
//			if res := p.Do(allowed); res.Status != want {
//				t.Errorf("allowed request %d: %d, want %d", i+1, res.Status, want)
//			}
//		}
//		p.Advance(time.Second) // the bucket refills
//		if res := p.Do(allowed); res.Status != 200 || res.Forwarded.Header("allow") != "true" {
//			t.Errorf("after a second: %d, want the request passed upstream", res.Status)
//		}
//		if n := p.Counter("policy_filter_decisions_total", "filter", "ratelimit", "decision", "denied"); n != 1 {
//			t.Errorf("ratelimit counted %d denials, want 1", n)
//		}
//	}
//
//	func TestRefusesFastFlush(t *testing.T) {
//		msg := policytest.Refused(t, policytest.Build(t, "."), `{"flush_interval": "1ms"}`)
//		if !strings.Contains(msg, "flush_interval: must be at least 10ms") {
//			t.Errorf("the plugin refused with %q", msg)
//		}
//	}
//
// Build compiles the package with the flags the module's Makefile uses;
// Load reads a .wasm built some other way (with TinyGo, say). Start fails
// the test if the plugin refuses its configuration; Refused expects it to
// and returns the reason the plugin logged, which is what a user would
// read in Envoy's log.
//
// # Requests
//
// Plugin.Do runs one Request through the plugin: its method, path,
// authority, headers and body, the client's address, the route name and
// any properties, and what the upstream answers (Request.Upstream, or
// Request.Answer to answer from a function). The plugin's phases run in
// Envoy's order: request headers, request body (the whole body at once),
// then, unless the plugin answered itself, the upstream, then the response
// headers and body, and the end of the stream. A local reply the plugin
// sends in a request phase goes through its response phases, as in Envoy.
//
// The Result holds the response as the client gets it (Status, Headers,
// Body), the request as the upstream got it (Forwarded, nil if it got
// none), whether the plugin answered itself (LocalReply) and, for a
// plugin built on this module's dispatcher, which filter denied
// (DeniedBy, Reason), the lines logged on the way (Logs), and an error
// if the plugin trapped or left the request paused (Err). Headers are
// edited as Envoy edits them: a value the plugin adds to a header that is
// present becomes a second entry, except for the headers Envoy keeps
// inline (x-forwarded-for, user-agent, content-type, via, ...), which keep
// one entry with ",value" appended; removing a header removes every entry
// of it.
//
// # Callouts, time, workers
//
// Options of Start shape the proxy around the plugin:
//
//   - Callouts answers the plugin's HTTP callouts (proxy_http_call) from
//     a Go function; without it every callout is refused, as Envoy
//     refuses a call to an unknown cluster.
//   - The plugin's clock is the test's: it starts at StartTime (a fixed
//     date by default) and moves only when Plugin.Advance moves it, which
//     also calls proxy_on_tick whenever the tick period the plugin asked
//     for elapses. A rate limit refills when the test says so.
//   - Workers(n) runs n VMs of the plugin, as an Envoy with n worker
//     threads does. They share the shared data (Plugin.SharedData), the
//     shared queues and the metrics, and nothing else: state a plugin
//     keeps in Go variables is per VM. Plugin.Do spreads requests over
//     them in turn; Plugin.VM(i).Do picks one.
//   - Property, PluginName and VMConfig set what the plugin reads besides
//     its configuration; SharedData stores a record before the VMs start.
//   - Plugin.SetTime sets the clock forward or back without ticking, as a
//     wall clock adjusted under the proxy jumps (a callout that "takes"
//     37ms moves it from within the Callouts function).
//   - PauseTimeout bounds how long a paused request waits to be resumed.
//
// # Logs and metrics
//
// Plugin.Logs and Plugin.Logged read what the plugin logged (a failed
// test shows it all). Plugin.Counter, Gauge and Histogram read a metric by
// its name and its tags, given as key, value pairs in any order:
// "filter", "ratelimit" finds filter=.=ratelimit;.;policy_filter_requests_total.
// Plugins of this module add up their counters in the VM and send them to
// the host on every tick, so these calls tick every VM first. Plugin.Metrics
// lists them all, and Plugin.Prometheus renders them as Envoy's
// /stats/prometheus shows them with the stats_tags the metrics package
// documents. Plugin.Unflushed reads a counter without the tick, for a test
// of when the plugin sends its counts.
//
// VM.HostCalls counts the plugin's calls into the host by import name
// (proxy_add_header_map_value, proxy_http_call, ...), and ResetHostCalls
// starts the count again: a test can check that a filter changes a header
// with one call, or makes no callout at all.
//
// # Natively, too
//
// Native runs the same plugin compiled for the test's machine in the SDK's
// host emulator (proxytest) and returns a Plugin, so that one test
// function can check both the .wasm and the Go code, the native run under
// the debugger and the race detector. It supports what the emulator can
// do (Do, logs, metrics by name, shared data, ticks; one VM) and says so
// when a test asks for more. A plugin of this module's dispatcher reads
// the test's clock natively too, from its start: Advance and SetTime move
// the time its filters read. Native's documentation lists the
// differences, among them how the emulator edits headers, which is not
// Envoy's way.
//
// # Running the plugin by hand
//
// The command github.com/wasmpolicy/policy/cmd/policyrun serves HTTP on a
// loopback port through the same host, in front of a real upstream, and
// shows the plugin's metrics on an admin port:
//
//	go run github.com/wasmpolicy/policy/cmd/policyrun -plugin plugin.wasm -config config.json -upstream builtin -admin 127.0.0.1:9901 -v
package policytest
