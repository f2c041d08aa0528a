package policy_test

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testfilters"
	"github.com/wasmpolicy/policy/internal/tinygo"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The dispatcher's tests run the same cases natively and against
// build/testchain.wasm, a plugin linking the configurable test filter
// "step". A step appends its id to the x-trace header; the SDK's emulator
// joins added values without a separator, so a trace reads "abc" (Envoy
// would keep three entries).

func nativeChain() types.VMContext { return policy.Configured(testfilters.Kind) }

func step(id, config string) string {
	if config == "" {
		config = "{}"
	}
	return `{"name":"step","id":"` + id + `","config":` + config + `}`
}

var request = [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "example.com"}}

func header(headers [][2]string, name string) string {
	for _, h := range headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

func decisions(filter, decision string) string {
	return "filter=.=" + filter + ";.;decision=.=" + decision + ";.;policy_filter_decisions_total"
}

func seen(filter string) string { return "filter=.=" + filter + ";.;policy_filter_requests_total" }

func TestChainOrderAndDeny(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		t.Run("filters run in order", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step("a", ""), step("b", ""), step("c", "")))
			defer reset()
			id := host.InitializeHttpContext()
			if got := host.CallOnRequestHeaders(id, request, true); got != types.ActionContinue {
				t.Fatalf("action = %v, want continue", got)
			}
			if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != "abc" {
				t.Errorf("x-trace = %q, want abc", got)
			}
			if host.GetSentLocalResponse(id) != nil {
				t.Error("unexpected local response")
			}
		})
		t.Run("the first deny answers and stops the chain", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step("a", ""), step("b", `{"action":"deny","status":401}`), step("c", "")))
			defer reset()
			id := host.InitializeHttpContext()
			if got := host.CallOnRequestHeaders(id, request, true); got != types.ActionPause {
				t.Fatalf("action = %v, want pause after a local reply", got)
			}
			if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != "ab" {
				t.Errorf("x-trace = %q, want ab (c must not run)", got)
			}
			resp := host.GetSentLocalResponse(id)
			if resp == nil || resp.StatusCode != 401 || string(resp.Data) != "denied by b" || header(resp.Headers, "x-denied-by") != "b" {
				t.Fatalf("local response = %+v", resp)
			}
		})
		t.Run("the same kind twice with different configs", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step("first", `{"action":"continue"}`), step("second", `{"action":"deny","status":429}`)))
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, request, true)
			if resp := host.GetSentLocalResponse(id); resp == nil || resp.StatusCode != 429 {
				t.Fatalf("local response = %+v, want 429 from the second step", resp)
			}
			if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != "firstsecond" {
				t.Errorf("x-trace = %q", got)
			}
		})
	})
}

func TestChainPauseResume(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		cases := []struct {
			name       string
			pause      string
			answer     [][2]string // callout response headers; none = failure
			wantTrace  string
			wantStatus uint32 // local reply, 0 = none and the request resumed
		}{
			{"resume with continue runs the next filter", `{"action":"pause","resume":"continue"}`, [][2]string{{":status", "200"}}, "abc", 0},
			{"resume with deny answers", `{"action":"pause","resume":"deny","status":403}`, [][2]string{{":status", "200"}}, "ab", 403},
			{"a failed callout is answered", `{"action":"pause"}`, nil, "ab", 503},
			{"a panic in the callback fails closed", `{"action":"pause","resume":"panic"}`, [][2]string{{":status", "200"}}, "ab", 500},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tinygo.SkipIfCannot(t)
				host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step("a", ""), step("b", c.pause), step("c", "")))
				defer reset()
				id := host.InitializeHttpContext()
				if got := host.CallOnRequestHeaders(id, request, true); got != types.ActionPause {
					t.Fatalf("action = %v, want pause", got)
				}
				if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != "ab" {
					t.Fatalf("x-trace while paused = %q, want ab", got)
				}
				callouts := host.GetCalloutAttributesFromContext(id)
				if len(callouts) != 1 || callouts[0].Upstream != "callout" {
					t.Fatalf("callouts = %+v", callouts)
				}
				host.CallOnHttpCallResponse(callouts[0].CalloutID, c.answer, nil, nil)
				if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != c.wantTrace {
					t.Errorf("x-trace = %q, want %q", got, c.wantTrace)
				}
				resp := host.GetSentLocalResponse(id)
				if c.wantStatus == 0 {
					if resp != nil {
						t.Fatalf("unexpected local response %+v", resp)
					}
					if got := host.GetCurrentHttpStreamAction(id); got != types.ActionContinue {
						t.Errorf("stream action = %v, want continue (resumed)", got)
					}
				} else if resp == nil || resp.StatusCode != c.wantStatus {
					t.Fatalf("local response = %+v, want %d", resp, c.wantStatus)
				}
				host.CompleteHttpContext(id)
				host.Tick()
				wantErrors := uint64(0)
				if c.answer == nil || strings.Contains(c.pause, "panic") {
					wantErrors = 1 // a failed callout and a panic are errors
				}
				if got := wasmtest.ReadCounter(t, host, decisions("b", "error")); got != wantErrors {
					t.Errorf("errors = %d, want %d", got, wantErrors)
				}
				if got := wasmtest.ReadCounter(t, host, decisions("b", "paused")); got != 1 {
					t.Errorf("paused = %d, want 1", got)
				}
			})
		}
		t.Run("a body that arrives while paused runs after the resume", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step("a", `{"action":"pause"}`), step("b", `{"phase":"request_body"}`)))
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, request, false)
			if got := host.CallOnRequestBody(id, []byte("part1,"), false); got != types.ActionPause {
				t.Fatalf("body chunk action = %v, want pause (buffer)", got)
			}
			if got := host.CallOnRequestBody(id, []byte("part2"), true); got != types.ActionPause {
				t.Fatalf("last chunk action = %v, want pause while the headers wait", got)
			}
			if got := header(host.GetCurrentRequestHeaders(id), "x-body"); got != "" {
				t.Fatalf("body filter ran before the resume: %q", got)
			}
			host.CallOnHttpCallResponse(host.GetCalloutAttributesFromContext(id)[0].CalloutID, [][2]string{{":status", "200"}}, nil, nil)
			if got := header(host.GetCurrentRequestHeaders(id), "x-body"); got != "b:part1,part2" {
				t.Errorf("x-body = %q, want the whole body", got)
			}
			if got := host.GetCurrentHttpStreamAction(id); got != types.ActionContinue {
				t.Errorf("stream action = %v, want continue", got)
			}
		})
	})
}

func TestChainLocalReplyPassesResponseFiltersOnce(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step("gate", `{"action":"deny","status":403}`), step("stamp", `{"phase":"response_headers"}`)))
		defer reset()
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, request, true)
		resp := host.GetSentLocalResponse(id)
		if resp == nil {
			t.Fatal("no local reply")
		}
		// Envoy sends the local reply back through the plugin's response phase.
		host.CallOnResponseHeaders(id, append([][2]string{{":status", "403"}}, resp.Headers...), true)
		if got := header(host.GetCurrentResponseHeaders(id), "x-trace"); got != "stamp" {
			t.Errorf("response x-trace = %q, want stamp: response filters must see the local reply", got)
		}
		host.CompleteHttpContext(id)
		host.Tick()
		for name, want := range map[string]uint64{
			seen("gate"): 1, decisions("gate", "denied"): 1, decisions("gate", "allowed"): 0,
			seen("stamp"): 1, decisions("stamp", "allowed"): 1,
		} {
			if got := wasmtest.ReadCounter(t, host, name); got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
	})
}

func TestChainResponseDenyCountsOnce(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step("check", `{"phase":"response_headers","action":"deny","status":502}`)))
		defer reset()
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, request, true)
		if got := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false); got != types.ActionPause {
			t.Fatalf("action = %v, want pause", got)
		}
		resp := host.GetSentLocalResponse(id)
		if resp == nil || resp.StatusCode != 502 {
			t.Fatalf("local response = %+v", resp)
		}
		// The local reply comes back through the response phase; the filter
		// denies it again, which must be ignored and not counted.
		host.CallOnResponseHeaders(id, [][2]string{{":status", "502"}}, true)
		host.CompleteHttpContext(id)
		host.Tick()
		if got := wasmtest.ReadCounter(t, host, decisions("check", "denied")); got != 1 {
			t.Errorf("denied = %d, want 1", got)
		}
		if got := wasmtest.ReadCounter(t, host, seen("check")); got != 1 {
			t.Errorf("requests = %d, want 1", got)
		}
	})
}

func TestChainPanicRecovery(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		tinygo.SkipIfCannot(t)
		panicky := step("b", `{"action":"panic","if_header":"x-panic"}`)
		for _, mode := range []string{"", "closed", "open"} {
			failOpen := mode == "open"
			name := "fail " + mode
			config := wasmtest.Chain(step("a", ""), panicky, step("c", ""))
			wantStatus := 500
			switch mode {
			case "":
				name = "fail closed by default"
			case "closed":
				config = `{"failure_mode":"closed","status_on_error":503,` + config[1:]
				wantStatus = 503
			case "open":
				config = `{"failure_mode":"open",` + config[1:]
			}
			t.Run(name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, config)
				defer reset()
				id := host.InitializeHttpContext()
				host.CallOnRequestHeaders(id, append([][2]string{{"x-panic", "1"}}, request...), true)
				resp := host.GetSentLocalResponse(id)
				trace := header(host.GetCurrentRequestHeaders(id), "x-trace")
				if failOpen {
					if resp != nil || trace != "abc" {
						t.Errorf("fail open: local response %+v, trace %q; want none and abc", resp, trace)
					}
				} else if resp == nil || resp.StatusCode != uint32(wantStatus) || trace != "ab" {
					t.Errorf("fail closed: local response %+v, trace %q; want %d and ab", resp, trace, wantStatus)
				}
				logs := host.GetCriticalLogs()
				if len(logs) != 1 || !strings.Contains(logs[0], "filter b (step) panicked") {
					t.Errorf("critical logs = %q, want one line naming filter b", logs)
				}
				host.CompleteHttpContext(id)

				keepsServing(t, host, "abc")
				host.Tick()
				if got := wasmtest.ReadCounter(t, host, decisions("b", "error")); got != 1 {
					t.Errorf("errors counted = %d, want 1", got)
				}
			})
		}
	})
}

// keepsServing checks that the VM serves a request after a panic: it goes
// through the chain, whose filters mark x-trace with trace.
func keepsServing(t *testing.T, host proxytest.HostEmulator, trace string) {
	t.Helper()
	id := host.InitializeHttpContext()
	defer host.CompleteHttpContext(id)
	if got := host.CallOnRequestHeaders(id, request, true); got != types.ActionContinue {
		t.Fatalf("a request after the panic: action = %v", got)
	}
	if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != trace {
		t.Errorf("a request after the panic: x-trace = %q, want %s", got, trace)
	}
}

// TestPanicsOutsideRequests: a panic in a filter's OnTick, in a callback
// it runs through Env.Guard, or in its Build is recovered like one in a
// request phase: logged once with the filter's name, counted, and the VM
// keeps serving (or, for Build, the plugin refuses to start).
func TestPanicsOutsideRequests(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		tinygo.SkipIfCannot(t)
		config := wasmtest.Chain(step("a", `{"tick":"panic"}`), step("b", `{"tick":"guarded_panic"}`), step("c", ""))
		func() { // the emulator is the process's: one at a time
			host, reset := wasmtest.Start(t, r.VM, config)
			defer reset()
			host.Tick()
			host.Tick()
			logs := host.GetCriticalLogs()
			if len(logs) != 4 || !strings.Contains(logs[0], "filter a panicked in OnTick: step a panics in OnTick") ||
				!strings.Contains(logs[1], "filter b panicked in a callback: step b panics in a callback") {
				t.Errorf("critical logs = %q, want one line a tick for each of a and b", logs)
			}
			for _, f := range []string{"a", "b"} {
				if got := wasmtest.ReadCounter(t, host, "filter=.="+f+";.;policy_filter_panics_total"); got != 2 {
					t.Errorf("filter %s: panics counted = %d, want 2", f, got)
				}
			}
			keepsServing(t, host, "abc")
		}()

		started, critical := wasmtest.TryStart(r.VM, wasmtest.Chain(step("a", ""), step("b", `{"build":"panic"}`)))
		if started || len(critical) != 1 || !strings.Contains(critical[0], "filters[1] (step): building the filter panicked: step b panics in Build") {
			t.Errorf("a Build that panics: started %v, critical logs %q", started, critical)
		}
	})
}

func TestChainShadowMode(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step("a", ""),
			`{"name":"step","id":"b","mode":"shadow","config":{"action":"deny","status":403}}`, step("c", "")))
		defer reset()
		id := host.InitializeHttpContext()
		if got := host.CallOnRequestHeaders(id, request, true); got != types.ActionContinue {
			t.Fatalf("action = %v, want continue", got)
		}
		if resp := host.GetSentLocalResponse(id); resp != nil {
			t.Fatalf("shadow mode sent %+v", resp)
		}
		if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != "abc" {
			t.Errorf("x-trace = %q, want abc", got)
		}
		logs := strings.Join(host.GetInfoLogs(), "\n")
		if !strings.Contains(logs, "filter b would deny with 403 (shadow mode)") {
			t.Errorf("info logs = %q", logs)
		}
		host.CompleteHttpContext(id)
		host.Tick()
		if got := wasmtest.ReadCounter(t, host, decisions("b", "shadow_denied")); got != 1 {
			t.Errorf("shadow_denied = %d, want 1", got)
		}
		if got := wasmtest.ReadCounter(t, host, decisions("b", "denied")); got != 0 {
			t.Errorf("denied = %d, want 0", got)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	cases := []struct{ name, config, want string }{
		{"empty configuration", ``, `the configuration is empty; it must list the filters to run`},
		{"malformed JSON", `{"filters": [}`, `malformed JSON at offset 13 (line 1, column 14)`},
		{"YAML", "filters:\n- name: step\n", `malformed JSON at offset 0 (line 1, column 1): this looks like YAML`},
		{"no filters", `{"filters": []}`, `filters: must list at least one filter`},
		{"filters of the wrong type", `{"filters": "step"}`, `filters: must be an array of objects, not a string`},
		{"bad metrics prefix", `{"metrics_prefix":"my-prefix","filters":[{"name":"step"}]}`, `metrics_prefix: must be letters, digits and '_', not starting with a digit, not "my-prefix"`},
		{"unknown top-level key", `{"filters":[{"name":"step"}],"filter": []}`, `filter: unknown field (known fields: body_limit, failure_mode, filters, flush_interval, metrics_prefix, status_on_error)`},
		{"unknown key in a single filter's own configuration", `{"acton":"deny"}`, `step (the whole configuration, which has no "filters"): acton: unknown field (known fields: action, build, claims, if_header, log, phase, reads_body, resume, secret, set_body, status, tick)`},
		{"key given twice", `{"filters":[{"name":"step"}],"filters":[]}`, `filters: is given twice`},
		{"unknown filter", wasmtest.Chain(step("a", ""), `{"name":"nope"}`), `filters[1].name: unknown filter "nope"; this plugin links in: step`},
		{"missing name", `{"filters":[{"config":{}}]}`, `filters[0].name: is required`},
		{"unknown key in an entry", `{"filters":[{"name":"step","confg":{}}]}`, `filters[0].confg: unknown field (known fields: config, id, match, mode, name)`},
		{"unknown key in a filter config", wasmtest.Chain(step("a", `{"acton":"deny"}`)), `filters[0] (step): config.acton: unknown field (known fields: action, build, claims, if_header, log, phase, reads_body, resume, secret, set_body, status, tick)`},
		{"wrong type", wasmtest.Chain(step("a", ""), step("b", `{"status":"403"}`)), `filters[1] (step): config.status: must be a number, not a string`},
		{"out of range", wasmtest.Chain(step("a", `{"status":700}`)), `filters[0] (step): config.status: must be between 200 and 599, not 700`},
		{"bad mode", `{"filters":[{"name":"step","mode":"dry"}]}`, `filters[0].mode: must be "enforce" or "shadow", not "dry"`},
		{"config not an object", `{"filters":[{"name":"step","config":[]}]}`, `filters[0].config: must be an object, not an array`},
		{"same id twice", `{"filters":[{"name":"step"},{"name":"step"}]}`, `filters[1] (step): id: "step" is already the id of filters[0]; give one of them a distinct "id"`},
		{"the old fail_open", `{"fail_open":true,"filters":[{"name":"step"}]}`, `fail_open: moved: write it as failure_mode ("open" or "closed")`},
		{"bad failure_mode", `{"failure_mode":"yes","filters":[{"name":"step"}]}`, `failure_mode: must be "open" or "closed", not "yes"`},
		{"bad status_on_error", `{"status_on_error":200,"filters":[{"name":"step"}]}`, `status_on_error: must be an HTTP status code from 300 to 599, not 200`},
	}
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				started, logs := wasmtest.TryStart(r.VM, c.config)
				if started {
					t.Fatal("plugin started")
				}
				want := "policy: invalid plugin configuration: " + c.want
				if len(logs) != 1 || !strings.HasPrefix(logs[0], want) {
					t.Errorf("critical logs = %q\nwant one line starting %q", logs, want)
				}
			})
		}
	})
}

// In a chain built in Go, an id clash names the Spec's ID, where it is
// fixed, not the JSON "id".
func TestStaticChainIDClash(t *testing.T) {
	f := policy.Use("gate", struct{ policy.RequestHeadersFilter }{})
	for _, c := range []struct {
		specs []policy.Spec
		want  string
	}{
		{[]policy.Spec{f, f}, `filters[1] (gate): Spec.ID: "gate" is already the id of filters[0]; give one of the specs a distinct ID (a spec without one takes its Kind)`},
		{[]policy.Spec{{Kind: "gate", ID: "a b", Build: f.Build}}, `filters[0] (gate): Spec.ID: must be letters, digits, '_', '-' and '/' only, not "a b"`},
	} {
		started, logs := wasmtest.TryStart(policy.Static(c.specs...), "")
		if want := "policy: invalid plugin configuration: " + c.want; started || len(logs) != 1 || logs[0] != want {
			t.Errorf("started %v, critical logs %q\nwant %q", started, logs, want)
		}
	}
}

func TestStaticChain(t *testing.T) {
	native := func() types.VMContext { return testfilters.Static() }
	wasmtest.Both(t, "teststatic", native, func(t *testing.T, r wasmtest.Runner) {
		t.Run("no configuration needed", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, "")
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, append([][2]string{{"x-deny", "1"}}, request...), true)
			resp := host.GetSentLocalResponse(id)
			if resp == nil || resp.StatusCode != 403 {
				t.Fatalf("local response = %+v", resp)
			}
			host.CallOnResponseHeaders(id, [][2]string{{":status", "403"}}, true)
			if got := header(host.GetCurrentResponseHeaders(id), "x-stamp"); got != "stamp" {
				t.Errorf("x-stamp = %q", got)
			}
		})
		t.Run("top-level options only", func(t *testing.T) {
			host, reset := wasmtest.Start(t, r.VM, `{"failure_mode": "open", "metrics_prefix": "edge"}`)
			defer reset()
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, request, true)
			host.CompleteHttpContext(id)
			host.Tick()
			if got := wasmtest.ReadCounter(t, host, "filter=.=gate;.;edge_filter_requests_total"); got != 1 {
				t.Errorf("requests = %d", got)
			}
		})
		t.Run("a chain built in Go takes no filters from the configuration", func(t *testing.T) {
			started, logs := wasmtest.TryStart(r.VM, wasmtest.Chain(step("a", "")))
			if started {
				t.Fatal("plugin started")
			}
			if len(logs) != 1 || !strings.Contains(logs[0], "filters: this plugin's chain is built in Go") {
				t.Errorf("critical logs = %q", logs)
			}
		})
	})
}

func TestChainCountsOnlyRequestsAFilterSaw(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		// "late" acts on requests and responses; "gate" denies before it.
		host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step("gate", `{"action":"deny","if_header":"x-deny"}`),
			step("late", `{"phase":"headers"}`), step("late-response", `{"phase":"response_headers"}`)))
		defer reset()
		for _, deny := range []bool{true, false} {
			id := host.InitializeHttpContext()
			headers := request
			if deny {
				headers = append([][2]string{{"x-deny", "1"}}, request...)
			}
			host.CallOnRequestHeaders(id, headers, true)
			host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, true)
			// Response phases run in reverse chain order.
			if got := header(host.GetCurrentResponseHeaders(id), "x-trace"); got != "late-responselate" {
				t.Errorf("response x-trace = %q: both response filters must see every response", got)
			}
			host.CompleteHttpContext(id)
		}
		host.Tick()
		for name, want := range map[string]uint64{
			seen("gate"): 2, decisions("gate", "denied"): 1, decisions("gate", "allowed"): 1,
			seen("late"): 1, decisions("late", "allowed"): 1, // the denied request never reached it
			seen("late-response"): 2, decisions("late-response", "allowed"): 2,
		} {
			if got := wasmtest.ReadCounter(t, host, name); got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
	})
}

// denyAll denies every request.
type denyAll struct{}

func (denyAll) OnRequestHeaders(*policy.Exchange) policy.Result {
	return policy.Deny(policy.Response{Status: 403, Reason: "denies all"})
}

// WithID and Shadow return changed copies of a Spec: the copy runs with
// its id, in shadow mode, and the original is left as it was.
func TestSpecWithIDAndShadow(t *testing.T) {
	base := policy.Use("gate", denyAll{})
	spec := base.WithID("gate-2").Shadow()
	if base.ID != "" || base.Mode != policy.Enforce || spec.ID != "gate-2" || spec.Mode != policy.Shadow {
		t.Fatalf("base %q %v, spec %q %v", base.ID, base.Mode, spec.ID, spec.Mode)
	}
	host, reset := wasmtest.Start(t, policy.Static(spec), "")
	defer reset()
	id := host.InitializeHttpContext()
	if got := host.CallOnRequestHeaders(id, [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "example.com"}}, true); got != types.ActionContinue {
		t.Errorf("a denial in shadow mode: %v, want continue", got)
	}
	host.CompleteHttpContext(id)
	if got := wasmtest.Counter(t, host, "filter=.=gate-2;.;decision=.=shadow_denied;.;policy_filter_decisions_total"); got != 1 {
		t.Errorf("shadow denials of gate-2: %d, want 1", got)
	}
}
