package jwt_test

import (
	"testing"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestRememberedToken: a token the VM verified before is not verified
// again, but every request still checks it in full: its times at the
// request's time, and whether the route accepts its provider.
func TestRememberedToken(t *testing.T) {
	s := keysOnce()
	tok := bearer(mint(t, algs(s)[0], "rsa", claims(nil)))
	cases := []struct {
		name, path string
		headers    [][2]string
		at         time.Time
		status     uint32 // 0: sent upstream
		log        string
	}{
		{"first", "/x", [][2]string{tok}, t0, 0, ""},
		{"again", "/x", [][2]string{tok}, t0, 0, ""},
		{"again, expired", "/x", [][2]string{tok}, t0.Add(2 * time.Hour), 401, "token refused: expired: provider idp: exp"},
		{"again, on a route of another provider", "/web/x", [][2]string{{"cookie", "session=" + tok[1][len("Bearer "):]}}, t0, 401,
			`token refused: wrong_issuer: iss "` + issuer + `" is not the issuer of a provider this request may use`},
		{"again, in time", "/x", [][2]string{tok}, t0, 0, ""},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, chainConfig(s))
		defer reset()
		for _, c := range cases {
			if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(c.at)); err != nil {
				t.Fatal(err)
			}
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, append([][2]string{{":method", "GET"}, {":path", c.path}, {":authority", "api.example"}}, c.headers...), true)
			var status uint32
			if local := host.GetSentLocalResponse(id); local != nil {
				status = local.StatusCode
			}
			host.CompleteHttpContext(id)
			if status != c.status {
				t.Errorf("%s: status %d, want %d; debug log %q", c.name, status, c.status, host.GetDebugLogs())
			}
			if c.log != "" && !wasmtest.AnyContains(host.GetDebugLogs(), c.log) {
				t.Errorf("%s: no log line with %q in %q", c.name, c.log, host.GetDebugLogs())
			}
		}
	})
}
