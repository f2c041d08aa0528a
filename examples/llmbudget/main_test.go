package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// The README's configuration starts the plugin, and a key that has spent
// its budget for a model gets the README's 429, natively and as
// build/llmbudget.wasm; the other key, and the other model, are not
// affected. (The exchanges of "Try it locally" run through the local
// runner in cmd/policyrun.)
func TestReadmeBudget(t *testing.T) {
	readme := wasmtest.ReadFile(t, "README.md")
	config := wasmtest.ReadFile(t, "config.json")
	native := func() types.VMContext { return policy.Configured(ratelimit.Kind) }
	wasmtest.Both(t, "llmbudget", native, func(t *testing.T, r wasmtest.Runner) {
		for i, b := range wasmtest.FencedBlocks(readme, "json") {
			if started, logs := wasmtest.TryStart(r.VM, b); !started {
				t.Errorf("README JSON block %d does not start the plugin: %q", i, logs)
			}
		}
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0)); err != nil {
			t.Fatal(err)
		}
		ask := func(key, model string, cost int) (uint32, string, [][2]string) {
			t.Helper()
			id := host.InitializeHttpContext()
			body := `{"model": "` + model + `", "messages": [{"role": "user", "content": "Say hello"}]}`
			wasmtest.Send(host, id, [][2]string{{":method", "POST"}, {":path", "/v1/chat/completions"}, {":authority", "llm.example"},
				{"content-type", "application/json"}, {"x-api-key", key}}, body)
			defer host.CompleteHttpContext(id)
			if local := host.GetSentLocalResponse(id); local != nil {
				return local.StatusCode, string(local.Data), local.Headers
			}
			host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"content-type", "application/json"}}, false)
			host.CallOnResponseBody(id, []byte(`{"choices": [], "usage": {"total_tokens": `+strconv.Itoa(cost)+`}}`), true)
			return 200, "", nil
		}
		if status, _, _ := ask("team-a", "gpt-4o", 10007); status != 200 {
			t.Fatalf("the first request: %d", status)
		}
		status, body, headers := ask("team-a", "gpt-4o", 7)
		if status != 429 || wasmtest.HeaderValues(headers, "retry-after")[0] != "3600" {
			t.Errorf("after the budget is spent: %d, retry-after %q; want 429, 3600", status, wasmtest.HeaderValues(headers, "retry-after"))
		}
		if !strings.Contains(readme, "retry-after: 3600\n\n"+body) {
			t.Errorf("the README does not show the reply %q", body)
		}
		for _, other := range [][2]string{{"team-b", "gpt-4o"}, {"team-a", "gpt-4o-mini"}} {
			if status, _, _ := ask(other[0], other[1], 7); status != 200 {
				t.Errorf("%s with %s: %d, want 200: its own budget", other[0], other[1], status)
			}
		}
	})
}

// t0 is the time of every request.
var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
