package headerauth_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/matchcases"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestMatchCases sends every request of the shared table, none of which
// carries the key, through a check whose one bypass entry is the case's
// match object: a request skips the check and goes upstream if it
// certainly matches, and gets the 403 otherwise.
func TestMatchCases(t *testing.T) {
	for _, c := range matchcases.Cases {
		if wasmtest.HeaderValues(c.Req.Headers, "x-key") != nil {
			t.Fatalf("%s: the request carries x-key, which the test needs absent", c.Name)
		}
	}
	// One configuration per match object, started once for its cases.
	groups := matchcases.Groups()
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, g := range groups {
			m := g.Match
			config := `{"header": "x-key", "values": ["k"], "bypass": [` + m + `]}`
			host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, ""))
			var certain, uncertain uint64
			for _, c := range g.Cases {
				if err := c.Req.SetProperties(host); err != nil {
					t.Fatal(err)
				}
				id := host.InitializeHttpContext()
				action := wasmtest.Send(host, id, c.Req.HeaderList(), c.Req.Body)
				local := host.GetSentLocalResponse(id)
				host.CompleteHttpContext(id)
				switch {
				case c.Certainly && (local != nil || action != types.ActionContinue):
					t.Errorf("%s %q: action %v, local reply %+v; want it bypassed", m, c.Name, action, local)
				case !c.Certainly && (local == nil || local.StatusCode != 403):
					t.Errorf("%s %q: local reply %+v; want 403", m, c.Name, local)
				}
				if c.Certainly {
					certain++
				} else {
					uncertain++
				}
			}
			if got := wasmtest.Counter(t, host, bypassedTotal); got != certain {
				t.Errorf("%s: bypassed counted %d times, want %d", m, got, certain)
			}
			if got := wasmtest.Counter(t, host, decisions("denied")); got != uncertain {
				t.Errorf("%s: denied counted %d times, want %d", m, got, uncertain)
			}
			reset()
		}
	})
}
