package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/ratelimit"
)

func native() types.VMContext { return policy.Configured(ratelimit.Kind) }

// service answers a check as envoyproxy/ratelimit does with ratelimit.yaml
// (3 a minute per client), 41.2 s before the window resets.
type service map[string]int

func (s service) answer(body []byte) (headers [][2]string, answer string) {
	client := gjson.GetBytes(body, `descriptors.0.entries.#(key=="client").value`).String()
	s[client]++
	remaining := 3 - s[client]
	if remaining < 0 {
		return [][2]string{{":status", "429"}, {"content-type", "application/json"}},
			`{"overallCode":"OVER_LIMIT","statuses":[{"code":"OVER_LIMIT","currentLimit":{"requestsPerUnit":3,"unit":"MINUTE"},"durationUntilReset":"41.200s"}]}`
	}
	return [][2]string{{":status", "200"}, {"content-type", "application/json"}},
		`{"overallCode":"OK","statuses":[{"code":"OK","currentLimit":{"requestsPerUnit":3,"unit":"MINUTE"},"limitRemaining":` +
			strconv.Itoa(remaining) + `,"durationUntilReset":"41.200s"}]}`
}

// The exchange the README shows, with config.json as the plugin
// configuration, natively and against build/globalratelimit.wasm: alice's
// fourth request within the minute is denied, bob's first is not.
func TestReadmeExchange(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	wasmtest.Both(t, "globalratelimit", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		svc := service{}
		for i, step := range []struct {
			client    string
			status    uint32
			remaining string
		}{{"alice", 200, "2"}, {"alice", 200, "1"}, {"alice", 200, "0"}, {"alice", 429, "0"}, {"bob", 200, "2"}} {
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, [][2]string{{":authority", "httpbin.example.com"}, {":method", "GET"}, {":path", "/headers"},
				{"x-client", step.client}}, true)
			calls := host.GetCalloutAttributesFromContext(id)
			if len(calls) != 1 || calls[0].Upstream != "ratelimit" {
				t.Fatalf("request %d: checks %v, want one to ratelimit", i+1, calls)
			}
			want := `{"domain":"api","descriptors":[{"entries":[{"key":"client","value":"` + step.client + `"}]}],"hitsAddend":1}`
			if string(calls[0].Body) != want {
				t.Errorf("request %d: check %s, want %s", i+1, calls[0].Body, want)
			}
			headers, answer := svc.answer(calls[0].Body)
			host.CallOnHttpCallResponse(calls[0].CalloutID, headers, nil, []byte(answer))

			local := host.GetSentLocalResponse(id)
			var response [][2]string
			status := uint32(200)
			if local != nil {
				status = local.StatusCode
				response = local.Headers
			} else {
				if host.GetCurrentHttpStreamAction(id) != types.ActionContinue {
					t.Fatalf("request %d left paused", i+1)
				}
				host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false)
				response = host.GetCurrentResponseHeaders(id)
			}
			if status != step.status {
				t.Fatalf("request %d (%s): status %d, want %d", i+1, step.client, status, step.status)
			}
			for _, h := range [][2]string{{"x-ratelimit-limit", "3, 3;w=60"}, {"x-ratelimit-remaining", step.remaining}, {"x-ratelimit-reset", "42"}} {
				if got := wasmtest.HeaderValues(response, h[0]); len(got) != 1 || got[0] != h[1] {
					t.Errorf("request %d: %s = %q, want %q", i+1, h[0], got, h[1])
				}
			}
			if local != nil {
				want := [][2]string{{"retry-after", "42"}, {"content-type", "application/json"},
					{"x-ratelimit-limit", "3, 3;w=60"}, {"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "42"}}
				if !slices.Equal(local.Headers, want) {
					t.Errorf("429 headers %q, want %q", local.Headers, want)
				}
				if body := `{"error":"rate limit exceeded","limit":"3 per minute","retry_after":42}`; string(local.Data) != body {
					t.Errorf("429 body %s, want %s", local.Data, body)
				}
			}
			host.CompleteHttpContext(id)
		}
		host.Tick()
		for result, want := range map[string]uint64{"ok": 4, "over_limit": 1, "error": 0} {
			name := "filter=.=ratelimit;.;result=.=" + result + ";.;policy_ratelimit_global_checks_total"
			if got, err := host.GetCounterMetric(name); err != nil || got != want {
				t.Errorf("%s = %d (%v), want %d", name, got, err, want)
			}
		}
	})
}

// Every configuration the README shows starts the plugin.
func TestReadmeConfigurations(t *testing.T) {
	var configs []string
	for _, block := range wasmtest.FencedBlocks(wasmtest.ReadFile(t, "README.md"), "json") {
		if !strings.Contains(block, `"filters"`) {
			block = wasmtest.FilterConfig("ratelimit", "", block)
		}
		configs = append(configs, block)
	}
	if len(configs) < 2 {
		t.Fatalf("found %d JSON blocks in the README", len(configs))
	}
	wasmtest.Both(t, "globalratelimit", native, func(t *testing.T, r wasmtest.Runner) {
		for _, config := range configs {
			if started, logs := wasmtest.TryStart(r.VM, config); !started {
				t.Errorf("%s: did not start: %v", config, logs)
			}
		}
	})
}
