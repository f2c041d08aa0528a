package headermutate_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/testdata/mutatechain/probe"
	"github.com/wasmpolicy/policy/internal/testfilters"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
	"github.com/wasmpolicy/policy/stats"
)

// A placeholder copies what the client or the proxy supplied. These values
// cannot be sent as header values; whatever placeholder copies one, the
// header must not be sent.
var badValues = []struct{ name, value string }{
	{"header injection", "a\r\nx-injected: 1\x00tail"},
	{"CR", "a\rb"},
	{"LF", "a\nb"},
	{"NUL", "a\x00b"},
	{"SOH", "\x01"},
	{"US", "a\x1fb"},
	{"DEL", "a\x7f"},
	{"ESC", "\x1b[31mred"},
}

// placeholderHeaders are set, on one side, from every placeholder; each
// renders its good value from the good request.
var placeholderHeaders = []struct{ name, template, good string }{
	{"x-p-header", "%REQ(x-foo)%", "foo"},
	{"x-p-wrapped", "<%REQ(x-foo)%>", "<foo>"},
	{"x-p-authority", "%REQ(:authority)%", "example.com"},
	{"x-p-address", "%DOWNSTREAM_REMOTE_ADDRESS%", "10.1.2.3:51234"},
	{"x-p-ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "10.1.2.3"},
	{"x-p-route", "route %ROUTE_NAME%", "route reviews-v2"},
	{"x-p-id", "%REQUEST_ID%", "req-42"},
}

// placeholderOps is a side's operations setting placeholderHeaders.
func placeholderOps() string {
	var sets []string
	for _, h := range placeholderHeaders {
		sets = append(sets, fmt.Sprintf("%q: %q", h.name, h.template))
	}
	return `{"set": {` + strings.Join(sets, ", ") + `}}`
}

// source is what the placeholders read: the request headers and the
// proxy's source.address and route_name.
type source struct {
	headers        [][2]string
	address, route string
}

func goodSource() source {
	return source{headers: with(request, [2]string{"x-foo", "foo"}), address: "10.1.2.3:51234", route: "reviews-v2"}
}

// injections put a value into one thing the placeholders read, and name
// the headers whose value then renders from it.
var injections = []struct {
	name   string
	inject func(s *source, v string)
	bad    []string
}{
	{"request header", func(s *source, v string) { s.headers = withValue(s.headers, "x-foo", v) }, []string{"x-p-header", "x-p-wrapped"}},
	{":authority", func(s *source, v string) { s.headers = withValue(s.headers, ":authority", "example.com"+v) }, []string{"x-p-authority"}},
	{"source address", func(s *source, v string) { s.address = "10.1.2.3" + v + ":51234" }, []string{"x-p-address", "x-p-ip"}},
	{"route name", func(s *source, v string) { s.route = "reviews" + v }, []string{"x-p-route"}},
	{"x-request-id", func(s *source, v string) { s.headers = withValue(s.headers, "x-request-id", "req"+v) }, []string{"x-p-id"}},
}

// placeholderChain probes every placeholder header before and after
// headermutate runs config.
func placeholderChain(config string) string {
	var before, after []string
	for _, h := range placeholderHeaders {
		before = append(before, probeAt("before-"+h.name, h.name))
		after = append(after, probeAt("after-"+h.name, h.name))
	}
	return wasmtest.Chain(append(append(before, mutate(config)), after...)...)
}

// serve sends s on a new stream, and its response when side is
// "response"; it returns the stream and the headers of side as the
// emulator holds them.
func serve(t *testing.T, host proxytest.HostEmulator, side string, s source) (uint32, [][2]string) {
	t.Helper()
	if err := host.SetProperty([]string{"source", "address"}, []byte(s.address)); err != nil {
		t.Fatal(err)
	}
	if err := host.SetProperty([]string{"route_name"}, []byte(s.route)); err != nil {
		t.Fatal(err)
	}
	id := host.InitializeHttpContext()
	if got := host.CallOnRequestHeaders(id, s.headers, false); got != types.ActionContinue {
		t.Fatalf("request action = %v, want continue", got)
	}
	if side == "request" {
		return id, host.GetCurrentRequestHeaders(id)
	}
	if got := host.CallOnResponseHeaders(id, response, false); got != types.ActionContinue {
		t.Fatalf("response action = %v, want continue", got)
	}
	return id, host.GetCurrentResponseHeaders(id)
}

var invalidValues = stats.Name("policy_headermutate_invalid_values_total", stats.Tag{Key: "filter", Value: "headermutate"})

// fixedClock is a native plugin whose clock reads *now.
func fixedClock(now *time.Time) func() types.VMContext {
	return func() types.VMContext {
		p := policy.Configured(headermutate.Kind, testfilters.Kind, probe.Kind)
		p.Clock = func() time.Time { return *now }
		return p
	}
}

// TestInvalidValuesAreDropped puts every bad value into everything each
// placeholder reads, on both sides: the headers it renders are not sent
// (neither the emulator, which keeps whatever the filter sends, nor the
// chain's Exchange has them), every other operation still runs, each
// invalid value is counted, and no log line holds any of the value.
func TestInvalidValuesAreDropped(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, side := range []string{"request", "response"} {
		t.Run(side, func(t *testing.T) {
			wasmtest.Both(t, mutateChainImage, fixedClock(&now), func(t *testing.T, r wasmtest.Runner) {
				host, reset := wasmtest.Start(t, r.VM, placeholderChain(`{`+fmt.Sprintf("%q", side)+`: `+placeholderOps()+`}`))
				defer reset()
				probes := "x-probe-after-"
				if side == "response" {
					probes = "x-probe-before-" // response phases run in reverse
				}
				check := func(t *testing.T, s source, bad []string) {
					t.Helper()
					id, got := serve(t, host, side, s)
					defer host.CompleteHttpContext(id)
					for _, h := range placeholderHeaders {
						want, wantEntries := []string{h.good}, probe.Format([]string{h.good})
						if contains(bad, h.name) {
							want, wantEntries = nil, "[]"
						}
						if v := wasmtest.HeaderValues(got, h.name); fmt.Sprintf("%q", v) != fmt.Sprintf("%q", want) {
							t.Errorf("%s header %s = %q, want %q", side, h.name, v, want)
						}
						if e, _ := header(got, probes+h.name); e != wantEntries {
							t.Errorf("%s entries in the exchange = %s, want %s", h.name, e, wantEntries)
						}
					}
				}

				check(t, goodSource(), nil)
				invalid := uint64(0)
				for _, inj := range injections {
					for _, b := range badValues {
						t.Run(inj.name+"/"+b.name, func(t *testing.T) {
							s := goodSource()
							inj.inject(&s, b.value)
							check(t, s, inj.bad)
						})
						invalid += uint64(len(inj.bad))
					}
				}
				// A tab and bytes beyond ASCII are valid in a header value.
				for _, v := range []string{"a\tb", "caf\u00e9", "\xff"} {
					s := goodSource()
					s.headers = withValue(s.headers, "x-foo", v)
					_, got := serve(t, host, side, s)
					if h := wasmtest.HeaderValues(got, "x-p-header"); len(h) != 1 || h[0] != v {
						t.Errorf("x-foo %q: %s header x-p-header = %q, want it copied", v, side, h)
					}
				}

				if got := wasmtest.Counter(t, host, invalidValues); got != invalid {
					t.Errorf("%s = %d, want %d", invalidValues, got, invalid)
				}
				// The bad values' bytes, and the text of the injection.
				for _, line := range wasmtest.Logs(host) {
					if strings.ContainsAny(line, "\r\n\x00\x01\x1f\x7f\x1b") || strings.Contains(line, "x-injected") || strings.Contains(line, "tail") {
						t.Errorf("the log holds a value: %q", line)
					}
				}
				// One line: the first, then none within the minute.
				want := "policy: filter headermutate: " + side + " header x-p-header: the value of %REQ(x-foo)% holds the control character 0x0d; " +
					"the operation was skipped (invalid_value drop); 1 more invalid values since the last report"
				if w := host.GetWarnLogs(); len(w) != 1 || w[0] != want {
					t.Errorf("warnings:\n got  %q\n want [%q]", w, want)
				}
			})
		})
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestValueLengthLimit: a value may render to MaxValueLength bytes, not one
// more, whether one placeholder or text around it makes it longer.
func TestValueLengthLimit(t *testing.T) {
	const limit = headermutate.MaxValueLength
	config := `{"request": {"set": {"x-a": "%REQ(x-foo)%", "x-b": "<%REQ(x-foo)%>"}}}`
	cases := []struct {
		length   int
		a, b     bool // whether x-a and x-b are set
		rejected uint64
	}{
		{limit - 2, true, true, 0},
		{limit - 1, true, false, 1},
		{limit, true, false, 1},
		{limit + 1, false, false, 2},
		{60 << 10, false, false, 2},
	}
	wasmtest.Both(t, mutateChainImage, nativeMutateChain, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(mutate(config)))
		defer reset()
		rejected := uint64(0)
		for _, c := range cases {
			v := strings.Repeat("v", c.length)
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, with(request, [2]string{"x-foo", v}), false)
			got := host.GetCurrentRequestHeaders(id)
			if a := wasmtest.HeaderValues(got, "x-a"); (a != nil) != c.a || c.a && a[0] != v {
				t.Errorf("%d bytes: x-a set %v, want %v", c.length, a != nil, c.a)
			}
			if b := wasmtest.HeaderValues(got, "x-b"); (b != nil) != c.b || c.b && b[0] != "<"+v+">" {
				t.Errorf("%d bytes: x-b set %v, want %v", c.length, b != nil, c.b)
			}
			host.CompleteHttpContext(id)
			rejected += c.rejected
		}
		if got := wasmtest.Counter(t, host, invalidValues); got != rejected {
			t.Errorf("%s = %d, want %d", invalidValues, got, rejected)
		}
		if w := host.GetWarnLogs(); len(w) != 1 || !strings.Contains(w[0], "request header x-b: the value renders to 8193 bytes, more than the limit of 8192") {
			t.Errorf("warnings %q, want the one about x-b's 8193 bytes", w)
		}
	})
}

// TestInvalidValueDeny: with "invalid_value": "deny", a value that renders
// invalid is dropped and the request answered with the deny reply, on
// either side; the other operations still run. A local reply is only
// stripped of the value, and shadow mode lets the request go on.
func TestInvalidValueDeny(t *testing.T) {
	bad := with(request, [2]string{"x-foo", "a\r\nx-injected: 1\x00tail"})
	good := with(request, [2]string{"x-foo", "foo"})
	ops := `{"set": {"x-a": "%REQ(x-foo)%", "x-b": "b"}}`
	cases := []struct {
		name    string
		entries []string // the chain
		request [][2]string
		// The local reply: 0 when the exchange goes on, else its status,
		// body and one header it carries.
		status uint32
		body   string
		header [2]string
		// The headers of the side headermutate works on.
		side string
		want [][2]string
		warn string // the warning logged, if any
	}{
		{name: "request", entries: []string{mutate(`{"request": ` + ops + `, "invalid_value": "deny"}`)},
			request: bad, status: 400, body: "invalid header value\n", side: "request",
			want: with(bad, [2]string{"x-b", "b"}),
			warn: "policy: filter headermutate: request header x-a: the value of %REQ(x-foo)% holds the control character 0x0d; the operation was skipped and the request answered with 400 (invalid_value deny)"},
		{name: "request, a valid value", entries: []string{mutate(`{"request": ` + ops + `, "invalid_value": "deny"}`)},
			request: good, side: "request",
			want: with(good, [2]string{"x-a", "foo"}, [2]string{"x-b", "b"})},
		{name: "request, a configured reply", entries: []string{mutate(`{"request": ` + ops + `, "invalid_value": "deny",
				"deny": {"status": 431, "body": "bad header\n", "headers": {"x-why": "invalid-header"}}}`)},
			request: bad, status: 431, body: "bad header\n", header: [2]string{"x-why", "invalid-header"}, side: "request",
			want: with(bad, [2]string{"x-b", "b"}),
			warn: "the operation was skipped and the request answered with 431 (invalid_value deny)"},
		{name: "response", entries: []string{mutate(`{"response": ` + ops + `, "invalid_value": "deny"}`)},
			request: bad, status: 400, body: "invalid header value\n", side: "response",
			want: with(response, [2]string{"x-b", "b"}),
			warn: "the operation was skipped and the response answered with 400 (invalid_value deny)"},
		{name: "response of a local reply",
			entries: []string{filter("step", "deny", `{"action": "deny", "status": 403}`), mutate(`{"response": ` + ops + `, "invalid_value": "deny"}`)},
			request: bad, status: 403, side: "local reply",
			want: with([][2]string{{":status", "403"}, {"x-denied-by", "deny"}}, [2]string{"x-b", "b"}),
			warn: "the operation was skipped (invalid_value deny, but the response is already a local reply)"},
		{name: "request in shadow mode",
			entries: []string{`{"name":"headermutate","id":"headermutate","mode":"shadow","config":{"request": ` + ops + `, "invalid_value": "deny"}}`},
			request: bad, side: "request",
			want: with(bad, [2]string{"x-b", "b"}),
			warn: "the operation was skipped; the request would be answered with 400 (invalid_value deny), but shadow mode lets it through"},
	}
	wasmtest.Both(t, mutateChainImage, nativeMutateChain, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(c.entries...))
				defer reset()
				id := host.InitializeHttpContext()
				action := host.CallOnRequestHeaders(id, c.request, false)
				reply := host.GetSentLocalResponse(id)
				var got [][2]string
				switch c.side {
				case "request":
					got = host.GetCurrentRequestHeaders(id)
				case "response":
					if reply != nil {
						t.Fatalf("the request got the reply %d; want it to go on to the response", reply.StatusCode)
					}
					action = host.CallOnResponseHeaders(id, response, false)
					reply = host.GetSentLocalResponse(id)
					got = host.GetCurrentResponseHeaders(id)
				case "local reply":
					// Envoy sends the local reply through the response phase.
					sent := with([][2]string{{":status", "403"}}, reply.Headers...)
					if a := host.CallOnResponseHeaders(id, sent, false); a != types.ActionContinue {
						t.Errorf("local reply's response action = %v, want continue", a)
					}
					if again := host.GetSentLocalResponse(id); again != reply {
						t.Errorf("a second reply was sent: %+v", again)
					}
					got = host.GetCurrentResponseHeaders(id)
				}
				switch {
				case c.status == 0 && (reply != nil || action != types.ActionContinue):
					t.Errorf("action %v, reply %+v; want the exchange to go on", action, reply)
				case c.status != 0 && (reply == nil || reply.StatusCode != c.status):
					t.Errorf("action %v, reply %+v; want the reply %d", action, reply, c.status)
				case c.status != 0 && c.side != "local reply":
					if string(reply.Data) != c.body {
						t.Errorf("reply body %q, want %q", reply.Data, c.body)
					}
					if c.header[0] != "" {
						if v := wasmtest.HeaderValues(reply.Headers, c.header[0]); len(v) != 1 || v[0] != c.header[1] {
							t.Errorf("reply header %s = %q, want %q", c.header[0], v, c.header[1])
						}
					}
				}
				checkHeaders(t, c.side, got, c.want)
				warn := host.GetWarnLogs()
				switch {
				case c.warn == "" && len(warn) != 0:
					t.Errorf("warnings %q, want none", warn)
				case c.warn != "" && (len(warn) != 1 || !strings.Contains(warn[0], c.warn)):
					t.Errorf("warnings %q, want one containing %q", warn, c.warn)
				}
				host.CompleteHttpContext(id)
			})
		}
	})
}

// TestInvalidValueLogThrottled: the first invalid value is logged at once,
// later ones at most once a minute, with the count of those left out.
// Natively the plugin's clock is set; the compiled image runs in the
// Envoy-like host, whose clock the test sets.
func TestInvalidValueLogThrottled(t *testing.T) {
	config := wasmtest.Chain(mutate(`{"request": {"set": {"x-a": "%REQ(x-foo)%", "x-b": "%REQ(x-foo)%"}}}`))
	const first = "policy: filter headermutate: request header x-a: the value of %REQ(x-foo)% holds the control character 0x01; the operation was skipped (invalid_value drop)"
	steps := []struct {
		after time.Duration // since the start
		warn  string        // the line logged, if any
	}{
		{0, first + "; 1 more invalid values since the last report"},
		{30 * time.Second, ""},
		{59 * time.Second, ""},
		// A minute and a millisecond: the kit's clock moves a microsecond
		// at every reading, as many as the runtime makes.
		{60*time.Second + time.Millisecond, first + "; 5 more invalid values since the last report"},
		{61 * time.Second, ""},
		{time.Hour, first + "; 3 more invalid values since the last report"},
		{time.Hour - time.Second, ""}, // a clock gone backwards
	}
	start := time.Unix(1_700_000_000, 0)
	bad := with(request, [2]string{"x-foo", "\x01"})

	t.Run("go", func(t *testing.T) {
		now := start
		host, reset := wasmtest.Start(t, fixedClock(&now)(), config)
		defer reset()
		for _, s := range steps {
			now = start.Add(s.after)
			before := len(host.GetWarnLogs())
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, bad, false)
			host.CompleteHttpContext(id)
			checkLogged(t, s.after, host.GetWarnLogs()[before:], s.warn)
		}
	})
	t.Run("wasm", func(t *testing.T) {
		p := wasmtest.Plugin(t, "headermutate", config, policytest.StartTime(start))
		for _, s := range steps {
			p.SetTime(start.Add(s.after))
			before := len(warnings(p))
			exchange(t, p.VM(0), bad, nil)
			checkLogged(t, s.after, warnings(p)[before:], s.warn)
		}
	})
}

func checkLogged(t *testing.T, after time.Duration, got []string, want string) {
	t.Helper()
	switch {
	case want == "" && len(got) != 0:
		t.Errorf("after %v: logged %q, want nothing", after, got)
	case want != "" && (len(got) != 1 || strings.TrimSpace(got[0]) != want):
		t.Errorf("after %v: logged %q, want %q", after, got, want)
	}
}
