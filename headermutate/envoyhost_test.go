package headermutate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/testdata/mutatechain/probe"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// The compiled images again, in the test kit's host (policytest): a proxy-wasm host that, as
// Envoy does, keeps an added value as a separate header entry, replaces and
// removes every entry, and passes a local reply through the response phase
// by itself. Here the entries the emulator tables read from the probes are
// the proxy's own, and the tests count the header calls each action makes.
// (This host runs compiled images only; the tables above cover both runs.)

// headerCalls are the host calls that change a header map.
var headerCalls = []string{addCall, replaceCall, "proxy_remove_header_map_value"}

func newEnvoyVM(t *testing.T, image, config string) *policytest.VM {
	t.Helper()
	return wasmtest.Plugin(t, image, config).VM(0)
}

// exchange serves req with an upstream answering 200 with respHeaders, and
// returns the request headers the upstream got (nil if it was not reached)
// and the response the client got.
func exchange(t *testing.T, vm *policytest.VM, req, respHeaders [][2]string) (upstream [][2]string, resp *policytest.Result) {
	t.Helper()
	return serveKit(t, vm, policytest.Request{Headers: req, Source: "10.1.2.3:51234"}, respHeaders)
}

// serveKit is exchange with the whole request.
func serveKit(t *testing.T, vm *policytest.VM, req policytest.Request, respHeaders [][2]string) (upstream [][2]string, resp *policytest.Result) {
	t.Helper()
	req.Upstream = &policytest.Response{Status: 200, Headers: respHeaders}
	resp = vm.Do(req)
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	if resp.Forwarded != nil {
		upstream = resp.Forwarded.Headers
	}
	return upstream, resp
}

func entries(headers [][2]string, name string) string {
	var values []string
	for _, h := range headers {
		if h[0] == name {
			values = append(values, h[1])
		}
	}
	return probe.Format(values)
}

func TestActionsInEnvoyHost(t *testing.T) {
	for _, side := range []string{"request", "response"} {
		for _, a := range appendActions {
			vm := newEnvoyVM(t, "headermutate", wasmtest.Chain(mutate(actionConfig(side, a.action))))
			for _, present := range []bool{true, false} {
				o, state, x := a.absent, "absent", [][2]string(nil)
				if present {
					o, state, x = a.present, "present", [][2]string{{"x-a", "one"}}
				}
				t.Run(side+" "+a.action+" on "+state+" header", func(t *testing.T) {
					req, resp := request, [][2]string{{"content-type", "text/plain"}}
					if side == "request" {
						req = with(req, x...)
					} else {
						resp = with(resp, x...)
					}
					vm.ResetHostCalls()
					up, got := exchange(t, vm, req, resp)
					headers := up
					if side == "response" {
						headers = got.Headers
					}
					if e := entries(headers, "x-a"); e != o.entries {
						t.Errorf("x-a entries = %s, want %s", e, o.entries)
					}
					calls := vm.HostCalls()
					for _, name := range headerCalls {
						want := uint64(0)
						if name == o.call {
							want = 1
						}
						if calls[name] != want {
							t.Errorf("%s called %d times, want %d", name, calls[name], want)
						}
					}
				})
			}
		}
	}
}

func TestRemoveInEnvoyHost(t *testing.T) {
	vm := newEnvoyVM(t, "headermutate", wasmtest.Chain(mutate(`{"request": {"remove": ["x-a"]}}`)))
	up, _ := exchange(t, vm, with(request, [2]string{"x-a", "one"}, [2]string{"x-a", "uno"}), nil)
	if e := entries(up, "x-a"); e != "[]" {
		t.Errorf("x-a entries upstream = %s, want none", e)
	}
	if n := vm.HostCalls()["proxy_remove_header_map_value"]; n != 1 {
		t.Errorf("proxy_remove_header_map_value called %d times, want 1", n)
	}
}

// The host sends the local reply through the response phase itself, as
// Envoy does: no emulation by the test.
func TestLocalReplyInEnvoyHost(t *testing.T) {
	vm := newEnvoyVM(t, mutateChainImage, wasmtest.Chain(
		filter("step", "deny", `{"action": "deny", "status": 403}`),
		mutate(`{"response": {"set": {"who-am-i": "wasm-extension", "injected-by": "istio-api!", "x-client": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}}}`)))
	up, resp := exchange(t, vm, request, nil)
	if up != nil {
		t.Fatalf("the upstream was reached")
	}
	if resp.Status != 403 {
		t.Fatalf("status = %d, want the local reply's 403", resp.Status)
	}
	for _, want := range [][2]string{{"who-am-i", "wasm-extension"}, {"injected-by", "istio-api!"}, {"x-client", "10.1.2.3"}} {
		if e, w := entries(resp.Headers, want[0]), probe.Format([]string{want[1]}); e != w {
			t.Errorf("local reply %s = %s, want %s", want[0], e, w)
		}
	}
}

// warnings are the warnings a plugin logged.
func warnings(p *policytest.Plugin) []string {
	var w []string
	for _, l := range p.Logs() {
		if l.Level == "warn" {
			w = append(w, l.Message)
		}
	}
	return w
}

// Every bad value through everything each placeholder reads, on both
// sides, as in TestInvalidValuesAreDropped: here the host counts the
// header calls, and the filter makes one replace for each valid value and
// none for an invalid one.
func TestInvalidValuesInEnvoyHost(t *testing.T) {
	for _, side := range []string{"request", "response"} {
		vm := newEnvoyVM(t, "headermutate", wasmtest.Chain(mutate(`{`+fmt.Sprintf("%q", side)+`: `+placeholderOps()+`}`)))
		for _, inj := range injections {
			for _, b := range badValues {
				t.Run(side+"/"+inj.name+"/"+b.name, func(t *testing.T) {
					s := goodSource()
					inj.inject(&s, b.value)
					vm.ResetHostCalls()
					up, resp := serveKit(t, vm, policytest.Request{Headers: s.headers, Source: s.address, Route: s.route},
						[][2]string{{"content-type", "text/plain"}})
					got := up
					if side == "response" {
						got = resp.Headers
					}
					for _, h := range placeholderHeaders {
						want := probe.Format([]string{h.good})
						if contains(inj.bad, h.name) {
							want = "[]"
						}
						if e := entries(got, h.name); e != want {
							t.Errorf("%s header %s = %s, want %s", side, h.name, e, want)
						}
					}
					calls := vm.HostCalls()
					if n, want := calls[replaceCall], uint64(len(placeholderHeaders)-len(inj.bad)); n != want {
						t.Errorf("%s called %d times, want %d: once per valid value", replaceCall, n, want)
					}
					if n := calls[addCall]; n != 0 {
						t.Errorf("%s called %d times, want none", addCall, n)
					}
				})
			}
		}
	}
}

// With "invalid_value": "deny" the client gets the deny reply instead of
// the upstream's response, whichever side the invalid value is on. On the
// response side the host sends the reply back through the response phase,
// as Envoy does, and the filter then only drops the value.
func TestInvalidValueDenyInEnvoyHost(t *testing.T) {
	bad := with(request, [2]string{"x-foo", "a\r\nx-injected: 1\x00tail"})
	for _, side := range []string{"request", "response"} {
		t.Run(side, func(t *testing.T) {
			p := wasmtest.Plugin(t, "headermutate", wasmtest.Chain(mutate(`{`+fmt.Sprintf("%q", side)+`: {"set": {"x-a": "%REQ(x-foo)%", "x-b": "b"}}, "invalid_value": "deny"}`)))
			vm := p.VM(0)
			up, resp := exchange(t, vm, bad, [][2]string{{"content-type", "text/plain"}})
			if side == "request" && up != nil {
				t.Errorf("the upstream was reached")
			}
			if resp.Status != 400 || resp.Body != "invalid header value\n" {
				t.Errorf("client got %d %q, want 400 \"invalid header value\\n\"", resp.Status, resp.Body)
			}
			if e := entries(resp.Headers, "x-a"); e != "[]" {
				t.Errorf("reply x-a = %s, want none", e)
			}
			if n := vm.HostCalls()[addCall] + vm.HostCalls()[replaceCall]; side == "request" && n != 1 {
				t.Errorf("%d header calls, want the one for x-b", n)
			}
			w := warnings(p)
			if len(w) == 0 || !strings.Contains(w[0], side+" header x-a: the value of %REQ(x-foo)% holds the control character 0x0d") {
				t.Errorf("warnings %q, want one about x-a", w)
			}
			for _, line := range w {
				if line = strings.TrimSpace(line); strings.Contains(line, "x-injected") || strings.ContainsAny(line, "\r\n\x00") {
					t.Errorf("the log holds the value: %q", line)
				}
			}
		})
	}
}
