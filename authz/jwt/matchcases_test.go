package jwt_test

import (
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/matchcases"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestMatchCases runs the table every filter shares through jwt rules,
// with requests that carry no token: a rule that lets them through
// without one applies exactly to the requests that certainly match it, a
// rule that requires one to those that possibly do.
func TestMatchCases(t *testing.T) {
	s := keysOnce()
	providers := `"providers": [{"name": "idp", "issuer": "` + issuer + `", "jwks": ` + s.jwks + `}]`
	polarities := []struct {
		name    string
		rules   func(match string) string
		refused func(c matchcases.Case) bool
	}{
		{"allow_missing", func(m string) string { return `[{"match": ` + m + `, "allow_missing": true}]` },
			func(c matchcases.Case) bool { return !c.Certainly }},
		{"requires", func(m string) string { return `[{"match": ` + m + `, "requires": ["idp"]}, {"allow_missing": true}]` },
			func(c matchcases.Case) bool { return c.Possibly }},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, p := range polarities {
			t.Run(p.name, func(t *testing.T) {
				for _, g := range matchcases.Groups() {
					config := wasmtest.Chain(`{"name": "jwt", "config": {` + providers + `, "rules": ` + p.rules(g.Match) + `}}`)
					host, reset := wasmtest.Start(t, r.VM, config)
					must(t, host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0)))
					for _, c := range g.Cases {
						must(t, c.Req.SetProperties(host))
						id := host.InitializeHttpContext()
						wasmtest.Send(host, id, c.Req.HeaderList(), c.Req.Body)
						var status uint32
						if local := host.GetSentLocalResponse(id); local != nil {
							status = local.StatusCode
						}
						want := uint32(0)
						if p.refused(c) {
							want = 401
						}
						if status != want {
							t.Errorf("%s %s: %s %q: status %d, want %d (0 = let through)", g.Match, c.Name, c.Req.Method, c.Req.Path, status, want)
						}
						host.CompleteHttpContext(id)
					}
					reset()
				}
			})
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
