package authz_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"

	"github.com/wasmpolicy/policy/internal/matchcases"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestMatchCases runs the table every filter shares through authz: a deny
// rule denies exactly the requests that possibly match it, an allow rule
// allows exactly those that certainly do.
func TestMatchCases(t *testing.T) {
	polarities := []struct {
		action, def string
		denied      func(c matchcases.Case) bool
	}{
		{"deny", "allow", func(c matchcases.Case) bool { return c.Possibly }},
		{"allow", "deny", func(c matchcases.Case) bool { return !c.Certainly }},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, p := range polarities {
			t.Run(p.action, func(t *testing.T) {
				// One plugin per match object serves all of its cases.
				for _, g := range matchcases.Groups() {
					config := `{"rules": [{"action": "` + p.action + `", "match": ` + g.Match + `}], "default": "` + p.def + `"}`
					run(t, r, config, func(host proxytest.HostEmulator) {
						for _, c := range g.Cases {
							o := sendCase(t, host, c.Req)
							want := uint32(0)
							if p.denied(c) {
								want = 403
							}
							if o.status() != want {
								t.Errorf("%s %s: %s %q from %s: status %d, want %d (0 = allowed)",
									g.Match, c.Name, c.Req.Method, c.Req.Path, c.Req.SourceAddress(), o.status(), want)
							}
						}
					})
				}
			})
		}
	})
}

// run starts the plugin with the authz config config, runs test with it,
// and resets the emulator, whether test fails or not.
func run(t *testing.T, r wasmtest.Runner, config string, test func(host proxytest.HostEmulator)) {
	t.Helper()
	host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, ""))
	defer reset()
	test(host)
}

// sendCase runs a request of the table to the end, its body after its
// headers if it has one; the filter must decide without a callout.
func sendCase(t *testing.T, host proxytest.HostEmulator, q matchcases.Request) outcome {
	t.Helper()
	if err := q.SetProperties(host); err != nil {
		t.Fatal(err)
	}
	id := host.InitializeHttpContext()
	wasmtest.Send(host, id, q.HeaderList(), q.Body)
	return finish(t, host, id)
}
