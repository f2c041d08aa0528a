package jwt

import "testing"

// RFC 8037 appendix A.4 and A.5: an Ed25519 signature over a payload that
// is not JSON, so it is checked below Parse.
func TestRFC8037Ed25519(t *testing.T) {
	ks, err := ParseKeySet([]byte(`{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`), false)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := b64url.DecodeString("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
	if err != nil {
		t.Fatal(err)
	}
	tok := &Token{signed: "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc", sig: sig, alg: "EdDSA"}
	if err := ks.Verify(tok); err != nil {
		t.Errorf("the RFC 8037 example is refused: %v", err)
	}
	tok.signed += "."
	if err := ks.Verify(tok); err == nil || err.Reason != BadSignature {
		t.Errorf("another signing input: %v, want bad_signature", err)
	}
}
