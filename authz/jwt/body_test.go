package jwt_test

import (
	"testing"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// A rule may have conditions on the JSON body: a request with a body is
// then verified once the body is there. The rule that lets requests
// through without a token applies only when every reading of the body
// meets it, so a body a backend may read otherwise (a key twice, in
// another case) or cannot read needs a token; and the authz rules on claims
// after the jwt filter wait for the verification.
func TestBodyRules(t *testing.T) {
	s := keysOnce()
	rs256 := alg{jwtlib.SigningMethodRS256, s.rsa, "rsa"}
	good := mint(t, rs256, "rsa", claims(nil))
	user := mint(t, rs256, "rsa", claims(map[string]any{"role": "user"}))
	config := wasmtest.Chain(`{"name": "jwt", "config": {
		"providers": [{"name": "idp", "issuer": "`+issuer+`", "audiences": ["api"], "jwks": `+s.jwks+`}],
		"rules": [
			{"match": {"body": [{"path": "visibility", "equals": "public"}]}, "allow_missing": true},
			{"requires": ["idp"]}
		]}}`,
		`{"name": "authz", "config": {"rules": [
			{"action": "allow", "match": {"body": [{"path": "visibility", "equals": "private"}]}, "claims": [{"path": "role", "equals": "admin"}]},
			{"action": "deny", "match": {"body": [{"path": "visibility", "equals": "private"}]}}
		], "default": "allow"}}`)
	cases := []struct {
		name, body string
		token      string
		want       uint32
	}{
		{"a public post needs no token", `{"visibility": "public"}`, "", 0},
		{"a private post needs one", `{"visibility": "private"}`, "", 401},
		{"with one it goes", `{"visibility": "private"}`, good, 0},
		{"authz reads the claims of a token verified on the body", `{"visibility": "private"}`, user, 403},
		{"no body needs one", "", "", 401},
		{"a key given twice needs one", `{"visibility": "public", "visibility": "private"}`, "", 401},
		{"a key in another case needs one", `{"visibility": "public", "Visibility": "private"}`, "", 401},
		{"a body that is not JSON needs one", `visibility=public`, "", 401},
		{"a bad token is refused whatever the body", `{"visibility": "public"}`, good + "x", 401},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		if err := host.SetProperty([]string{"request", "time"}, policy.EncodeTime(t0)); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			headers := [][2]string{{":method", "POST"}, {":path", "/posts"}, {":authority", "api.example"}}
			if c.token != "" {
				headers = append(headers, [2]string{"authorization", "Bearer " + c.token})
			}
			id := host.InitializeHttpContext()
			wasmtest.Send(host, id, headers, c.body)
			var status uint32
			if reply := host.GetSentLocalResponse(id); reply != nil {
				status = reply.StatusCode
			}
			if status != c.want {
				t.Errorf("%s: status %d, want %d; debug log %q", c.name, status, c.want, host.GetDebugLogs())
			}
			host.CompleteHttpContext(id)
		}
	})
}
