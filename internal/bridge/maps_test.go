package bridge_test

import (
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The six header map host calls, each on the four maps of a stream. The map
// holds x-in: v-<map> and x-keep: k when the probe acts on it (see the probe's
// mapOp); after a change, the probe reports the whole map read back.
var headerMapActions = []struct {
	action, hostCall string
	want             func(m string) string
}{
	{"get", "proxy_get_header_map_value", func(m string) string { return "value=v-" + m + " err=ok missing=not_found" }},
	{"pairs", "proxy_get_header_map_pairs", func(m string) string { return "pairs=x-in=v-" + m + ",x-keep=k err=ok" }},
	{"add", "proxy_add_header_map_value", func(m string) string { return "err=ok after=x-in=v-" + m + ",x-keep=k,x-added=a1" }},
	{"replace", "proxy_replace_header_map_value", func(string) string { return "err=ok after=x-in=r1,x-keep=k" }},
	{"remove", "proxy_remove_header_map_value", func(string) string { return "err=ok after=x-keep=k" }},
	{"set", "proxy_set_header_map_pairs", func(string) string { return "err=ok after=x-set=s1,x-set2=s2" }},
}

var headerMapNames = []string{"request_headers", "request_trailers", "response_headers", "response_trailers"}

func headerMapCases() []caseFunc {
	var cases []caseFunc
	for _, a := range headerMapActions {
		for _, m := range headerMapNames {
			cases = append(cases, caseFunc{a.hostCall + "/" + m, func(t *testing.T, r wasmtest.Runner) {
				e := start(t, r, pluginConfig)
				op := m + "." + a.action
				id := e.mapOp(op, m)
				want := a.want(m)
				e.expect(op, want)
				// For headers, also look from the host's side.
				if a.action == "get" || a.action == "pairs" {
					return
				}
				var host [][2]string
				switch m {
				case "request_headers":
					host = e.host.GetCurrentRequestHeaders(id)
				case "response_headers":
					host = e.host.GetCurrentResponseHeaders(id)
				default:
					return // the emulator does not show trailers
				}
				if got, want := joinPairs(host), parseFields(want)["after"]; got != want {
					t.Errorf("host's %s: %s, want %s", m, got, want)
				}
			}})
		}
	}
	return cases
}

// mapOp sends a request for op and calls the phase of map m with x-in and
// x-keep in that map.
func (e *probeEnv) mapOp(op, m string) uint32 {
	in := [][2]string{{"x-in", "v-" + m}, {"x-keep", "k"}}
	id := e.host.InitializeHttpContext()
	if m == "request_headers" {
		e.host.CallOnRequestHeaders(id, append(in, [2]string{"x-probe", op}), false)
		return id
	}
	e.host.CallOnRequestHeaders(id, [][2]string{{"x-probe", op}}, false)
	switch m {
	case "request_trailers":
		e.host.CallOnRequestTrailers(id, in)
	case "response_headers":
		e.host.CallOnResponseHeaders(id, in, false)
	case "response_trailers":
		e.host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false)
		e.host.CallOnResponseTrailers(id, in)
	}
	return id
}

// bodyCases check proxy_get_buffer_bytes (whole body and a slice of it) and
// proxy_set_buffer_bytes (append, prepend, replace) on both bodies.
func bodyCases() []caseFunc {
	var cases []caseFunc
	for _, b := range []string{"request_body", "response_body"} {
		cases = append(cases, caseFunc{"proxy_get_buffer_bytes/" + b, func(t *testing.T, r wasmtest.Runner) {
			e := start(t, r, pluginConfig)
			e.bodyOp(b+".get", b)
			e.expect(b+".get", "body=abcdef err=ok part=bcd part_err=ok")
		}})
		for _, s := range []struct{ action, want string }{
			{"append", "abcdef+app"}, {"prepend", "pre+abcdef"}, {"replace", "replaced"},
		} {
			cases = append(cases, caseFunc{"proxy_set_buffer_bytes/" + b + "/" + s.action, func(t *testing.T, r wasmtest.Runner) {
				e := start(t, r, pluginConfig)
				op := b + "." + s.action
				id := e.bodyOp(op, b)
				e.expect(op, "err=ok")
				got := e.host.GetCurrentRequestBody(id)
				if b == "response_body" {
					got = e.host.GetCurrentResponseBody(id)
				}
				if string(got) != s.want {
					t.Errorf("%s = %q, want %q", b, got, s.want)
				}
			}})
		}
	}
	return cases
}

// bodyOp sends a request for op and calls the phase of body b with abcdef.
func (e *probeEnv) bodyOp(op, b string) uint32 {
	id := e.host.InitializeHttpContext()
	e.host.CallOnRequestHeaders(id, [][2]string{{"x-probe", op}}, false)
	if b == "request_body" {
		e.host.CallOnRequestBody(id, []byte("abcdef"), true)
		return id
	}
	e.host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false)
	e.host.CallOnResponseBody(id, []byte("abcdef"), true)
	return id
}
