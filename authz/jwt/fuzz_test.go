package jwt_test

import (
	"testing"
	"time"

	"github.com/wasmpolicy/policy/authz/jwt"
)

// FuzzVerify feeds arbitrary tokens to the verifier: it must never panic,
// and must accept nothing but the tokens of the seed corpus signed with
// the test's keys (a mutated token that verifies would be a forgery).
func FuzzVerify(f *testing.F) {
	s := keysOnce()
	ks, err := jwt.ParseKeySet([]byte(s.jwks), true)
	if err != nil {
		f.Fatal(err)
	}
	valid := map[string]bool{}
	for _, a := range algs(s) {
		tok := mint(f, a, a.kid, claims(nil))
		valid[tok] = true
		f.Add(tok)
	}
	f.Add(rfcHS256)
	f.Add("e30.e30.")
	f.Add(`eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.`)
	f.Fuzz(func(t *testing.T, token string) {
		tok, perr := jwt.Parse(token)
		if perr != nil {
			if perr.Reason == "" {
				t.Fatalf("a refusal without a reason: %v", perr)
			}
			return
		}
		if err := ks.Verify(tok); err == nil && !valid[token] {
			t.Fatalf("a token not signed by the test verified: %q", token)
		}
		_ = jwt.Times{Now: time.Unix(0, 0), Skew: time.Minute}.Check(tok.Payload)
	})
}
