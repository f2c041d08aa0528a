package headermutate_test

import (
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// %CLAIM(path)% renders a claim of the request's verified token, as a jwt
// filter earlier in the chain published it (here the test step "verified"
// publishes them): strings, numbers and booleans as their text, arrays of
// strings joined with ","; a missing claim, an object, or a request without
// verified claims renders nothing, and the operation is skipped. A value
// with a control character is dropped like any placeholder's.
func TestClaimPlaceholder(t *testing.T) {
	const payload = `{"sub": "alice", "level": 3, "admin": false, "groups": ["dev", "ops"],
		"org": {"id": "o-1"}, "bad": "a\r\nx-injected: 1", "mixed": ["a", 1], "http://example.com/team": "blue"}`
	ops := `{"request": {"set": {"x-sub": "user=%CLAIM(sub)%", "x-level": "%CLAIM(level)%", "x-admin": "%CLAIM(admin)%",
		"x-groups": "%CLAIM(groups)%", "x-org": "%CLAIM(org.id)%", "x-obj": "%CLAIM(org)%", "x-missing": "%CLAIM(nope)%",
		"x-bad": "%CLAIM(bad)%", "x-mixed": "%CLAIM(mixed)%", "x-team": "%CLAIM(http://example\\.com/team)%"}}}`
	wasmtest.Both(t, mutateChainImage, nativeMutateChain, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range []struct {
			name   string
			claims string
			want   [][2]string
		}{
			{"verified", payload, [][2]string{
				{"x-sub", "user=alice"}, {"x-level", "3"}, {"x-admin", "false"}, {"x-groups", "dev,ops"},
				{"x-org", "o-1"}, {"x-team", "blue"},
			}},
			{"no token", "", [][2]string{{"x-sub", "user="}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				verifier := `{"phase": "request_headers"}`
				if c.claims != "" {
					verifier = `{"phase": "request_headers", "claims": ` + c.claims + `}`
				}
				host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(filter("step", "verified", verifier), mutate(ops)))
				defer reset()
				id := host.InitializeHttpContext()
				host.CallOnRequestHeaders(id, request, false)
				want := with(request, [2]string{"x-trace", "verified"})
				checkHeaders(t, "request", host.GetCurrentRequestHeaders(id), with(want, c.want...))
				host.CompleteHttpContext(id)
			})
		}
	})
}
