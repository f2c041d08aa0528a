package ratelimit_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/matchcases"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// A rate-limit rule restricts: it applies to every request that possibly
// matches it. With no default limit, a request the rule does not apply to
// is not limited at all, so the second of two requests at the same instant
// is denied if and only if the rule applies.
func TestMatchCases(t *testing.T) {
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range matchcases.Cases {
			config := `{"rules": [{"match": ` + c.Match + `, "limit": {"requests_per_unit": 1, "unit": "minute"}}]}`
			host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, ""),
				wasmtest.Property{Path: []string{"request", "time"}, Value: policy.EncodeTime(t0)})
			if err := c.Req.SetProperties(host); err != nil {
				t.Fatal(err)
			}
			first := sendCase(host, r.Wasm, c.Req)
			second := sendCase(host, r.Wasm, c.Req)
			reset()
			if first != 200 {
				t.Errorf("%s %s (%q): first request got %d, want 200", c.Match, c.Name, c.Req.Path, first)
			}
			if limited := second == 429; limited != c.Possibly {
				t.Errorf("%s %s (%q): second request got %d; limited %v, want %v", c.Match, c.Name, c.Req.Path, second, limited, c.Possibly)
			}
		}
	})
}

// sendCase sends req through the request phase and returns the status it
// got: 200 if it went upstream.
func sendCase(host proxytest.HostEmulator, wasm *wasmtest.VM, req matchcases.Request) uint32 {
	id := host.InitializeHttpContext()
	wasmtest.Send(host, id, req.HeaderList(), req.Body)
	status := uint32(200)
	if local := host.GetSentLocalResponse(id); local != nil {
		status = local.StatusCode
	}
	host.CompleteHttpContext(id)
	if wasm != nil {
		wasm.Delete(id)
	}
	return status
}
