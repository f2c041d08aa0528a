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
	// The table's match objects, in order, and the cases of each: one
	// plugin per configuration serves all of its cases.
	var matches []string
	byMatch := map[string][]matchcases.Case{}
	for _, c := range matchcases.Cases {
		if byMatch[c.Match] == nil {
			matches = append(matches, c.Match)
		}
		byMatch[c.Match] = append(byMatch[c.Match], c)
	}
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
				for _, m := range matches {
					config := `{"rules": [{"action": "` + p.action + `", "match": ` + m + `}], "default": "` + p.def + `"}`
					run(t, r, config, func(host proxytest.HostEmulator) {
						for _, c := range byMatch[m] {
							o := sendHeaders(t, host, c.Req.HeaderList(), c.Req.SourceAddress())
							want := uint32(0)
							if p.denied(c) {
								want = 403
							}
							if o.status() != want {
								t.Errorf("%s %s: %s %q from %s: status %d, want %d (0 = allowed)",
									m, c.Name, c.Req.Method, c.Req.Path, c.Req.SourceAddress(), o.status(), want)
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
