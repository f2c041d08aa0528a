package ratelimit_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/stats"
)

// A token budget: 100 tokens a minute, charged by what each response
// reports in usage.total_tokens, 7 when it reports nothing.
const budget = `{"requests_per_unit": 100, "unit": "minute", "rate_limit_headers": true,
	"cost": {"default": 7, "on_error": 0, "include_usage": true, "models": ["gpt-4o", "gpt-4.1-mini"]}}`

// exchange is one request and the response the upstream gives it.
type exchange struct {
	at          time.Duration
	body        string      // the request body, JSON
	status      string      // the response status; 200 when empty
	contentType string      // application/json when empty
	chunks      []string    // the response body, chunk by chunk
	cut         bool        // the stream ends without its last chunk
	headers     [][2]string // more request headers
}

// outcome is what became of an exchange.
type outcome struct {
	denied    uint32 // the status of the filter's reply; 0 when it went upstream
	forwarded string // the request body the upstream got
	remaining string // x-ratelimit-remaining on the response
	client    string // the response body the client got, chunk by chunk joined
}

func run(t *testing.T, host proxytest.HostEmulator, e exchange) outcome {
	t.Helper()
	must(t, host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0.Add(e.at))))
	id := host.InitializeHttpContext()
	headers := append([][2]string{{":method", "POST"}, {":path", "/v1/chat/completions"}, {":authority", "llm.example"},
		{"content-type", "application/json"}, {"content-length", strconv.Itoa(len(e.body))}}, e.headers...)
	wasmtest.Send(host, id, headers, e.body)
	var o outcome
	if local := host.GetSentLocalResponse(id); local != nil {
		o.denied = local.StatusCode
		host.CallOnResponseHeaders(id, append([][2]string{{":status", strconv.Itoa(int(local.StatusCode))}}, local.Headers...), false)
		host.CompleteHttpContext(id)
		return o
	}
	o.forwarded = string(host.GetCurrentRequestBody(id))
	status, ct := e.status, e.contentType
	if status == "" {
		status = "200"
	}
	if ct == "" {
		ct = "application/json"
	}
	if got := host.CallOnResponseHeaders(id, [][2]string{{":status", status}, {"content-type", ct}}, len(e.chunks) == 0); got != types.ActionContinue {
		t.Fatalf("response headers: %v, want continue: a cost never holds the response", got)
	}
	for _, h := range host.GetCurrentResponseHeaders(id) {
		if h[0] == "x-ratelimit-remaining" {
			o.remaining = h[1]
		}
	}
	var client strings.Builder
	for i, c := range e.chunks {
		last := i == len(e.chunks)-1
		if last && e.cut {
			break
		}
		if got := host.CallOnResponseBody(id, []byte(c), last); got != types.ActionContinue {
			t.Fatalf("response chunk %d: %v, want continue", i, got)
		}
		client.Write(host.GetCurrentResponseBody(id))
	}
	o.client = client.String()
	host.CompleteHttpContext(id)
	return o
}

func usage(total string) string {
	return `{"id": "c-1", "model": "gpt-4o", "choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": ` + total + `}}`
}

func tokens(model, result string) string {
	return stats.Name("policy_ratelimit_cost_tokens_total", stats.Tag{Key: "filter", Value: "ratelimit"},
		stats.Tag{Key: "model", Value: model}, stats.Tag{Key: "result", Value: result})
}

var costMissing = stats.Name("policy_ratelimit_cost_missing_total", stats.Tag{Key: "filter", Value: "ratelimit"})

// A budget is spent by what responses report, may be overdrawn by the
// request that spends its last tokens, refuses requests until fills bring
// it above zero, and refills.
func TestCostBudgetSpentAndRefilled(t *testing.T) {
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(budget, ""))
		defer reset()
		steps := []struct {
			e         exchange
			denied    uint32
			remaining string
		}{
			{exchange{body: `{"model": "gpt-4o"}`, chunks: []string{usage("60")}}, 0, "100"},
			{exchange{at: time.Second, body: `{"model": "gpt-4o"}`, chunks: []string{usage("50")}}, 0, "40"},
			{exchange{at: 2 * time.Second, body: `{"model": "gpt-4o"}`, chunks: []string{usage("1")}}, 429, ""}, // -10 left
			{exchange{at: time.Minute, body: `{"model": "gpt-4o"}`, chunks: []string{usage("5")}}, 0, "90"},
		}
		for i, s := range steps {
			o := run(t, host, s.e)
			if o.denied != s.denied || o.remaining != s.remaining {
				t.Errorf("step %d: denied %d, remaining %q; want %d, %q", i, o.denied, o.remaining, s.denied, s.remaining)
			}
		}
		if got := wasmtest.Counter(t, host, tokens("gpt-4o", "reported")); got != 60+50+5 {
			t.Errorf("tokens reported for gpt-4o: %d, want 115", got)
		}
	})
}

// What a response reports, however it reports it: a cost that is missing,
// not a whole number, negative or huge is charged the default and counted;
// an error response is charged on_error (nothing); a stream cut off before
// its usage is charged the default when it ends.
func TestCostReadings(t *testing.T) {
	cases := []struct {
		name    string
		e       exchange
		want    int64 // tokens drawn
		missing uint64
		result  string
	}{
		{"reported", exchange{chunks: []string{usage("30")}}, 30, 0, "reported"},
		{"split into chunks", exchange{chunks: []string{usage("30")[:20], usage("30")[20:]}}, 30, 0, "reported"},
		{"no usage", exchange{chunks: []string{`{"choices": []}`}}, 7, 1, "default"},
		{"a string", exchange{chunks: []string{usage(`"30"`)}}, 7, 1, "default"},
		{"negative", exchange{chunks: []string{usage("-5")}}, 7, 1, "default"},
		{"a fraction", exchange{chunks: []string{usage("2.5")}}, 7, 1, "default"},
		{"huge", exchange{chunks: []string{usage("10000000000000")}}, 7, 1, "default"},
		{"given twice", exchange{chunks: []string{`{"usage": {"total_tokens": 1, "total_tokens": 90}}`}}, 7, 1, "default"},
		{"not JSON", exchange{chunks: []string{`total_tokens=30`}}, 7, 1, "default"},
		{"another content type", exchange{contentType: "text/plain", chunks: []string{usage("30")}}, 7, 1, "default"},
		{"no body", exchange{}, 7, 1, "default"},
		{"an upstream error", exchange{status: "503", chunks: []string{usage("30")}}, 0, 0, "error"},
		{"cut off", exchange{chunks: []string{`{"usage": `, `{"total_tokens": 30}}`}, cut: true}, 7, 1, "default"},
		{"a stream", exchange{contentType: "text/event-stream", chunks: []string{
			"data: " + `{"choices": [{"delta": {"content": "hi"}}], "usage": null}` + "\n\n",
			"data: " + `{"choices": [], "usage": {"total_tokens": 12}}` + "\n\ndata: [DONE]\n\n"}}, 12, 0, "reported"},
		{"a stream without usage", exchange{contentType: "text/event-stream", chunks: []string{
			"data: {\"choices\": []}\n\n", "data: [DONE]\n\n"}}, 7, 1, "default"},
		{"a stream cut off", exchange{contentType: "text/event-stream", chunks: []string{
			"data: {\"choices\": []}\n\n", "data: [DONE]\n\n"}, cut: true}, 7, 1, "default"},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(budget, ""))
				defer reset()
				c.e.body = `{"model": "gpt-4.1-mini"}`
				run(t, host, c.e)
				// The next request, at the same time, shows what is left.
				o := run(t, host, exchange{body: `{}`, chunks: []string{usage("0")}})
				if want := strconv.FormatInt(100-c.want, 10); o.remaining != want {
					t.Errorf("remaining %q after it, want %s", o.remaining, want)
				}
				if got := wasmtest.Counter(t, host, costMissing); got != c.missing {
					t.Errorf("responses without a cost: %d, want %d", got, c.missing)
				}
				if got := wasmtest.Counter(t, host, tokens("gpt-4_1-mini", c.result)); got != uint64(c.want) {
					t.Errorf("tokens counted for gpt-4_1-mini, %s: %d, want %d", c.result, got, c.want)
				}
			})
		}
	})
}

// The usage of a stream, split at every byte: the cost is the same, found
// once, and the client gets the stream as it came.
func TestCostStreamSplitAtEveryByte(t *testing.T) {
	stream := "data: {\"choices\": [{\"delta\": {\"content\": \"a\"}}]}\r\n\r\n" +
		": keep-alive\n\n" +
		"data: {\"choices\": [], \"usage\": {\"total_tokens\": 42}}\n\n" +
		"data: [DONE]\n\n"
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(budget, ""))
		defer reset()
		for cut := 1; cut < len(stream); cut++ {
			at := time.Duration(cut) * time.Hour // a full bucket each time
			o := run(t, host, exchange{at: at, body: `{"model": "gpt-4o"}`, contentType: "text/event-stream",
				chunks: []string{stream[:cut], stream[cut:]}})
			if o.client != stream {
				t.Fatalf("cut at %d: the client got %q", cut, o.client)
			}
			after := run(t, host, exchange{at: at, body: `{}`, chunks: []string{usage("0")}})
			if after.remaining != "58" {
				t.Fatalf("cut at %d: remaining %q, want 58", cut, after.remaining)
			}
		}
	})
}

// With include_usage, a streamed request asks for the usage, and the
// client, which did not, gets the stream without the usage event; a client
// that asked gets it.
func TestCostIncludeUsage(t *testing.T) {
	events := []string{
		"data: {\"choices\": [{\"delta\": {\"content\": \"a\"}}], \"usage\": null}\n\n",
		"data: {\"choices\": [], \"usage\": {\"total_tokens\": 9}}\n",
		"\ndata: [DONE]\n\n",
	}
	cases := []struct {
		name, body, forwarded, client string
	}{
		{"asked for it", `{"model": "gpt-4o", "stream": true}`,
			`{"model": "gpt-4o", "stream": true,"stream_options":{"include_usage":true}}`,
			events[0] + "data: [DONE]\n\n"},
		{"the client asked", `{"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true}}`,
			`{"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true}}`,
			strings.Join(events, "")},
		{"options of its own", `{"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": false, "x": 1}}`,
			`{"model": "gpt-4o", "stream": true,"stream_options":{"x": 1,"include_usage":true}}`,
			events[0] + "data: [DONE]\n\n"},
		{"options the readings disagree on", `{"stream": true, "stream_options": {"include_usage": true}, "Stream_Options": {}}`,
			`{"stream": true,"stream_options":{"include_usage":true}}`,
			events[0] + "data: [DONE]\n\n"},
		{"not a stream", `{"model": "gpt-4o", "stream": false}`, `{"model": "gpt-4o", "stream": false}`, strings.Join(events, "")},
		{"a stream the readings disagree on", `{"stream": true, "stream": false}`, `{"stream": true, "stream": false}`, strings.Join(events, "")},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(budget, ""))
				defer reset()
				o := run(t, host, exchange{body: c.body, contentType: "text/event-stream", chunks: events})
				if o.forwarded != c.forwarded {
					t.Errorf("forwarded %s, want %s", o.forwarded, c.forwarded)
				}
				if o.client != c.client {
					t.Errorf("the client got %q, want %q", o.client, c.client)
				}
				if after := run(t, host, exchange{body: `{}`, chunks: []string{usage("0")}}); after.remaining != "91" {
					t.Errorf("remaining %q, want 91", after.remaining)
				}
			})
		}
	})
}

// In shadow mode a request over its budget goes on, and is charged.
func TestCostShadowMode(t *testing.T) {
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(budget, "shadow"))
		defer reset()
		for i, want := range []string{"100", "0", "-"} {
			o := run(t, host, exchange{body: `{"model": "gpt-4o"}`, chunks: []string{usage("100")}})
			if o.denied != 0 {
				t.Fatalf("request %d denied in shadow mode", i)
			}
			if want != "-" && o.remaining != want {
				t.Errorf("request %d: remaining %q, want %s", i, o.remaining, want)
			}
		}
		if got := wasmtest.Counter(t, host, tokens("gpt-4o", "reported")); got != 300 {
			t.Errorf("tokens charged: %d, want 300", got)
		}
	})
}

// With a global limit, the check asks the service with a hits_addend of 0
// (it charges nothing), and the cost the response reports is charged to
// the same descriptors on the plugin's next tick, from the plugin's
// context, summed over the requests since the last tick. A refused request
// charges nothing.
func TestCostGlobal(t *testing.T) {
	config := globalConfig(perClient, "", `"cost": {"default": 7}`)
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, ""))
		defer reset()
		send := func(answer string, status int, cost string) {
			t.Helper()
			must(t, host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0)))
			id := host.InitializeHttpContext()
			wasmtest.Send(host, id, [][2]string{{":method", "POST"}, {":path", "/v1/chat"}, {":authority", "llm.example"}, {"x-client", "alice"}}, "")
			calls := host.GetCalloutAttributesFromContext(id)
			if len(calls) != 1 {
				t.Fatalf("checks %d, want 1", len(calls))
			}
			if want := `"hitsAddend":0}]}`; !strings.HasSuffix(string(calls[0].Body), want) {
				t.Errorf("check %s, want each descriptor with a hits_addend of 0", calls[0].Body)
			}
			host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", strconv.Itoa(status)}}, nil, []byte(answer))
			if local := host.GetSentLocalResponse(id); local != nil {
				host.CallOnResponseHeaders(id, [][2]string{{":status", strconv.Itoa(int(local.StatusCode))}}, true)
			} else {
				host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"content-type", "application/json"}}, false)
				host.CallOnResponseBody(id, []byte(usage(cost)), true)
			}
			host.CompleteHttpContext(id)
		}
		send(underLimit, 200, "30")
		send(underLimit, 200, "12")
		send(overLimit, 429, "99") // refused: its response is the local reply
		before := len(host.GetCalloutAttributesFromContext(proxytest.PluginContextID))
		host.Tick()
		charges := host.GetCalloutAttributesFromContext(proxytest.PluginContextID)[before:]
		if len(charges) != 1 {
			t.Fatalf("charges sent on the tick: %d, want 1 (both requests have the same descriptors)", len(charges))
		}
		want := `{"domain":"api","descriptors":[{"entries":[{"key":"generic_key","value":"per-client"},{"key":"client","value":"alice"}],"hitsAddend":42}]}`
		if got := string(charges[0].Body); got != want {
			t.Errorf("charge\n got  %s\n want %s", got, want)
		}
		host.CallOnHttpCallResponse(charges[0].CalloutID, [][2]string{{":status", "200"}}, nil, []byte(underLimit))
		if got := wasmtest.Counter(t, host, globalCounter("charges_total", "result", "ok")); got != 1 {
			t.Errorf("charges answered: %d, want 1", got)
		}
		host.Tick()
		if n := len(host.GetCalloutAttributesFromContext(proxytest.PluginContextID)) - before; n != 1 {
			t.Errorf("callouts after another tick: %d, want still 1: nothing is left to charge", n)
		}
	})
}
