package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// The exchange the README shows, with config.json as the plugin
// configuration, natively and against build/ratelimit.wasm: requests 0.25 s
// apart get 200, 200, then 429 with retry-after; a second after the first,
// the next one passes.
func TestReadmeExchange(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	native := func() types.VMContext { return policy.Configured(ratelimit.Kind) }
	wasmtest.Both(t, "ratelimit", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		for i, step := range []struct {
			at     time.Duration
			status uint32
		}{{0, 200}, {250 * time.Millisecond, 200}, {500 * time.Millisecond, 429}, {time.Second, 200}} {
			if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0.Add(step.at))); err != nil {
				t.Fatal(err)
			}
			id := host.InitializeHttpContext()
			request := [][2]string{{":authority", "httpbin.example.com"}, {":method", "GET"}, {":path", "/headers"}}
			host.CallOnRequestHeaders(id, request, true)
			local := host.GetSentLocalResponse(id)
			status := uint32(200)
			if local != nil {
				status = local.StatusCode
			}
			if status != step.status {
				t.Fatalf("request %d at +%v: status %d, want %d", i+1, step.at, status, step.status)
			}
			if local != nil {
				want := [][2]string{{"retry-after", "1"}, {"content-type", "application/json"}}
				if !slices.Equal(local.Headers, want) {
					t.Errorf("429 headers %q, want %q", local.Headers, want)
				}
				if body := `{"error":"rate limit exceeded","limit":"2 per second","retry_after":1}`; string(local.Data) != body {
					t.Errorf("429 body %s, want %s", local.Data, body)
				}
			}
			host.CompleteHttpContext(id)
		}
		host.Tick()
		for decision, want := range map[string]uint64{"allowed": 3, "denied": 1} {
			name := "filter=.=ratelimit;.;decision=.=" + decision + ";.;policy_filter_decisions_total"
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
	if len(configs) < 4 {
		t.Fatalf("found %d JSON blocks in the README", len(configs))
	}
	native := func() types.VMContext { return policy.Configured(ratelimit.Kind) }
	wasmtest.Both(t, "ratelimit", native, func(t *testing.T, r wasmtest.Runner) {
		for _, config := range configs {
			if started, logs := wasmtest.TryStart(r.VM, config); !started {
				t.Errorf("%s: did not start: %v", config, logs)
			}
		}
	})
}
