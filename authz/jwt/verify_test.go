package jwt_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/wasmpolicy/policy/authz/jwt"
)

// check runs the verifier's steps on token: Parse, then Verify with keys,
// then the time checks at now.
func check(token string, keys *jwt.KeySet, now time.Time) *jwt.Error {
	t, err := jwt.Parse(token)
	if err != nil {
		return err
	}
	if err := keys.Verify(t); err != nil {
		return err
	}
	return jwt.Times{Now: now, Skew: jwt.DefaultClockSkew}.Check(t.Payload)
}

func keySet(t *testing.T, doc string) *jwt.KeySet {
	t.Helper()
	ks, err := jwt.ParseKeySet([]byte(doc), true)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestVerifyEveryAlgorithm(t *testing.T) {
	s := keysOnce()
	ks := keySet(t, s.jwks)
	for _, a := range algs(s) {
		t.Run(a.method.Alg(), func(t *testing.T) {
			for _, kid := range []string{a.kid, ""} {
				if err := check(mint(t, a, kid, claims(nil)), ks, t0); err != nil {
					t.Errorf("kid %q: refused: %v", kid, err)
				}
			}
		})
	}
}

func TestVerifyRFCExamples(t *testing.T) {
	ks := keySet(t, rfcJWKS)
	for name, tok := range map[string]string{"RFC 7515 A.1 HS256": rfcHS256, "A.2 RS256": rfcRS256, "A.3 ES256": rfcES256} {
		if err := check(tok, ks, rfcTime); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
		if err := check(tok, ks, t0); err == nil || err.Reason != jwt.Expired {
			t.Errorf("%s today: %v, want expired", name, err)
		}
	}
}

func TestRefusals(t *testing.T) {
	s := keysOnce()
	ks := keySet(t, strings.Replace(s.jwks, `{"keys": [`, `{"keys": [{"kty": "oct", "kid": "hs48", "k": "`+b64(s.secret[:48])+`"}, `, 1))
	rs256, hs256, es256 := algs(s)[0], algs(s)[10], algs(s)[6]
	valid := mint(t, rs256, "rsa", claims(nil))
	parts := strings.Split(valid, ".")
	forgedHS := alg{jwtlib.SigningMethodHS256, s.rsaPublicPEM, ""}
	cases := []struct {
		name  string
		token string
		want  jwt.Reason
	}{
		{"expired beyond the skew", mint(t, rs256, "rsa", claims(map[string]any{"exp": t0.Add(-61 * time.Second).Unix()})), jwt.Expired},
		{"expired at the skew's end", mint(t, rs256, "rsa", claims(map[string]any{"exp": t0.Add(-60 * time.Second).Unix()})), jwt.Expired},
		{"not yet valid", mint(t, rs256, "rsa", claims(map[string]any{"nbf": t0.Add(2 * time.Minute).Unix()})), jwt.NotYetValid},
		{"issued in the future", mint(t, rs256, "rsa", claims(map[string]any{"iat": t0.Add(2 * time.Minute).Unix()})), jwt.IssuedInFuture},
		{"exp a string", mint(t, rs256, "rsa", claims(map[string]any{"exp": "2030-01-01"})), jwt.BadClaim},
		{"signed by another key", mint(t, alg{jwtlib.SigningMethodRS256, s.otherRSA, ""}, "rsa", claims(nil)), jwt.BadSignature},
		{"HMAC with another secret", mint(t, alg{jwtlib.SigningMethodHS256, s.otherSecret, ""}, "hs", claims(nil)), jwt.BadSignature},
		{"payload changed", parts[0] + "." + b64([]byte(`{"iss":"https://idp.example","sub":"root"}`)) + "." + parts[2], jwt.BadSignature},
		{"unknown kid", mint(t, rs256, "rotated-away", claims(nil)), jwt.UnknownKey},
		{"alg none", b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", jwt.BadAlgorithm},
		{"alg None", b64([]byte(`{"alg":"None"}`)) + "." + parts[1] + "." + parts[2], jwt.BadAlgorithm},
		{"no alg", b64([]byte(`{"kid":"rsa"}`)) + "." + parts[1] + "." + parts[2], jwt.BadAlgorithm},
		{"HS256 with the RSA public key, kid of the RSA key", mint(t, forgedHS, "rsa", claims(nil)), jwt.NoFittingKey},
		{"HS256 with the RSA public key, no kid", mint(t, forgedHS, "", claims(nil)), jwt.BadSignature},
		{"PS256 with a key pinned to RS256", mint(t, algs(s)[3], "rs256-only", claims(nil)), jwt.NoFittingKey},
		{"ES256 signature with the P-384 key's kid", mint(t, es256, "ec384", claims(nil)), jwt.NoFittingKey},
		{"EdDSA header on an HMAC", raw(t, hs256, `{"alg":"EdDSA","kid":"hs"}`, `{"iss":"x"}`), jwt.NoFittingKey},
		{"HS512 with a 48-byte key", mint(t, alg{jwtlib.SigningMethodHS512, s.secret[:48], ""}, "hs48", claims(nil)), jwt.NoFittingKey},
		{"HS384 with a 48-byte key", mint(t, alg{jwtlib.SigningMethodHS384, s.secret[:48], ""}, "hs48", claims(nil)), ""},
		{"a key of its own in the header", raw(t, alg{jwtlib.SigningMethodRS256, s.otherRSA, ""},
			`{"alg":"RS256","jwk":`+rsaJWK("", "", &s.otherRSA.PublicKey)+`,"jku":"https://evil.example/jwks"}`, `{"iss":"x"}`), jwt.BadSignature},
		{"crit header", raw(t, rs256, `{"alg":"RS256","kid":"rsa","crit":["b64"],"b64":false}`, `{"iss":"x"}`), jwt.BadAlgorithm},
		{"truncated: no signature", parts[0] + "." + parts[1], jwt.Malformed},
		{"truncated: empty signature", parts[0] + "." + parts[1] + ".", jwt.Malformed},
		{"truncated signature", valid[:len(valid)-10], jwt.BadSignature},
		{"four parts", valid + ".x", jwt.Malformed},
		{"padding", parts[0] + "." + parts[1] + "." + parts[2] + "==", jwt.Malformed},
		{"standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(valid), jwt.Malformed},
		{"payload not JSON", parts[0] + "." + b64([]byte("hello")) + "." + parts[2], jwt.Malformed},
		{"payload an array", parts[0] + "." + b64([]byte(`["a"]`)) + "." + parts[2], jwt.Malformed},
		{"duplicate claim", raw(t, rs256, `{"alg":"RS256","kid":"rsa"}`, `{"iss":"https://idp.example","sub":"alice","sub":"root"}`), jwt.DuplicateKey},
		{"duplicate claim, escaped", raw(t, rs256, `{"alg":"RS256","kid":"rsa"}`, `{"iss":"https://idp.example","role":"user","\u0072ole":"admin"}`), jwt.DuplicateKey},
		{"duplicate nested claim", raw(t, rs256, `{"alg":"RS256","kid":"rsa"}`, `{"realm_access":{"roles":["a"],"roles":["admin"]}}`), jwt.DuplicateKey},
		{"duplicate header key", raw(t, rs256, `{"alg":"RS256","kid":"unknown","kid":"rsa"}`, `{"iss":"x"}`), jwt.DuplicateKey},
		{"duplicate alg", raw(t, hs256, `{"alg":"RS256","alg":"HS256"}`, `{"iss":"x"}`), jwt.DuplicateKey},
		{"deep nesting", raw(t, rs256, `{"alg":"RS256","kid":"rsa"}`, `{"a":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`), jwt.Malformed},
		{"oversized", mint(t, rs256, "rsa", claims(map[string]any{"pad": strings.Repeat("x", jwt.MaxTokenSize)})), jwt.TooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := check(c.token, ks, t0)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Reason != c.want {
				t.Fatalf("got %v, want %s", err, c.want)
			}
			if sig := c.token[strings.LastIndexByte(c.token, '.')+1:]; len(sig) > 8 && strings.Contains(err.Error(), sig) {
				t.Errorf("the reason quotes the token: %v", err)
			}
		})
	}
	// Within the skew, on each side.
	for name, ch := range map[string]map[string]any{
		"exp 59s ago": {"exp": t0.Add(-59 * time.Second).Unix()},
		"nbf in 59s":  {"nbf": t0.Add(59 * time.Second).Unix()},
		"iat in 59s":  {"iat": t0.Add(59 * time.Second).Unix()},
		"no times":    {"exp": nil, "nbf": nil, "iat": nil},
	} {
		if err := check(mint(t, rs256, "rsa", claims(ch)), ks, t0); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
	}
}

func TestParseKeySet(t *testing.T) {
	s := keysOnce()
	rsa := rsaJWK("a", "", &s.rsa.PublicKey)
	ec := ecJWK("e", "P-256", &s.ec256.PublicKey)
	// Points a key set could claim: off the curve (the key's y plus one), and
	// with a coordinate of the field's size (x = p, which a reduction mod p
	// would take for 0).
	pub := s.ec256.PublicKey
	offCurve := ecJWK("e", "P-256", &ecdsa.PublicKey{Curve: pub.Curve, X: pub.X, Y: new(big.Int).Add(pub.Y, big.NewInt(1))})
	atPrime := ecJWK("e", "P-256", &ecdsa.PublicKey{Curve: pub.Curve, X: pub.Curve.Params().P, Y: pub.Y})
	cases := []struct{ doc, err string }{
		{`[]`, `must be a JSON object with a "keys" array`},
		{`{"keys": [` + offCurve + `]}`, "keys[0]: x, y: is not a point of P-256"},
		{`{"keys": [` + atPrime + `]}`, "keys[0]: x, y: is not a point of P-256"},
		{`{"keys": []}`, "keys: must hold at least one key"},
		{`{"keys": [` + rsa + `, ` + rsa + `]}`, `keys[1]: kid "a" is already the kid of keys[0]`},
		{`{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}`, "keys[0]: n: is a 17-bit modulus; it must have 2048 to 4096 bits"},
		{`{"keys": [{"kty": "XYZ"}]}`, `keys[0]: kty: must be "RSA", "EC", "OKP" or "oct", not "XYZ"`},
		{`{"keys": [` + strings.Replace(rsa, `"kty"`, `"use": "enc", "kty"`, 1) + `]}`, `keys[0]: use: must be "sig", not "enc"`},
		{`{"keys": [` + strings.Replace(rsa, `"kty"`, `"alg": "HS256", "kty"`, 1) + `]}`, `keys[0]: alg: "HS256" is not a signature algorithm of a RSA key`},
		{`{"keys": [` + strings.Replace(ec, `"kty"`, `"alg": "ES384", "kty"`, 1) + `]}`, `keys[0]: alg: "ES384" does not use curve P-256`},
		{`{"keys": [` + strings.Replace(ec, `"P-256"`, `"P-384"`, 1) + `]}`, "keys[0]: x, y: must be 48 bytes each for P-384"},
		{`{"keys": [{"kty": "EC", "crv": "P-256", "x": "` + b64(make([]byte, 32)) + `", "y": "` + b64(make([]byte, 32)) + `"}]}`, "keys[0]: x, y: is not a point of P-256"},
		{`{"keys": [{"kty": "OKP", "crv": "X25519", "x": "AA"}]}`, `keys[0]: crv: must be "Ed25519" for an OKP key, not "X25519"`},
		{`{"keys": [{"kty": "oct", "k": "` + b64([]byte("short")) + `"}]}`, "keys[0]: k: is a 5-byte secret; it must have at least 32 bytes"},
		{`{"keys": [{"kty": "oct", "alg": "HS512", "k": "` + b64(s.secret[:48]) + `"}]}`, "keys[0]: k: is a 48-byte secret; HS512 needs at least 64 bytes"},
		{`{"keys": [` + strings.Replace(rsa, `"kty"`, `"d": "AQAB", "kty"`, 1) + `]}`, "keys[0]: d: is a private key member: publish only the public key"},
		{`{"keys": [` + rsa + `], "keys": []}`, `duplicate_key: key "keys" is given twice`},
		{`{"keys": [{"kty": "RSA", "kty": "oct"}]}`, `duplicate_key: key "kty" is given twice`},
	}
	for _, c := range cases {
		_, err := jwt.ParseKeySet([]byte(c.doc), true)
		if err == nil || err.Error() != c.err {
			t.Errorf("%.60s: got %v, want %q", c.doc, err, c.err)
		}
	}
	if _, err := jwt.ParseKeySet([]byte(`{"keys": [{"kty": "oct", "k": "`+b64(s.secret)+`"}]}`), false); err == nil ||
		!strings.Contains(err.Error(), `"oct" (a shared secret) is accepted only in a key set written in the configuration`) {
		t.Errorf("a secret in a fetched key set: %v", err)
	}
}

// The cost of verifying one token, by algorithm: Parse, the signature and
// the time checks.
func BenchmarkVerify(b *testing.B) {
	s := keysOnce()
	ks, err := jwt.ParseKeySet([]byte(s.jwks), true)
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range algs(s) {
		tok := mint(b, a, a.kid, claims(nil))
		b.Run(a.method.Alg(), func(b *testing.B) {
			for b.Loop() {
				if err := check(tok, ks, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSmallOrderEd25519Keys: a public key at a point of small order is no
// key. For each encoding the list refuses (and with the sign bit set), a
// signature with R the identity and S = 0 verifies some of 256 messages
// with crypto/ed25519, which is why it is refused; a point that is not of
// small order gives no such forgery.
func TestSmallOrderEd25519Keys(t *testing.T) {
	forge := make([]byte, 64)
	forge[0] = 1 // R = the identity (y = 1), S = 0
	forges := func(pub []byte) bool {
		for i := range 256 {
			if ed25519.Verify(ed25519.PublicKey(pub), []byte("m"+strconv.Itoa(i)), forge) {
				return true
			}
		}
		return false
	}
	for _, enc := range []string{
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	} {
		for _, sign := range []byte{0, 0x80} {
			pub, _ := hex.DecodeString(enc)
			pub[31] |= sign
			if !forges(pub) {
				t.Errorf("%x: no forgery verifies; is it of small order?", pub)
			}
			_, err := jwt.ParseKeySet([]byte(`{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "`+b64(pub)+`"}]}`), false)
			if err == nil || !strings.Contains(err.Error(), "x: is a point of small order") {
				t.Errorf("%x: %v, want refused", pub, err)
			}
		}
	}
	real := keysOnce().ed.Public().(ed25519.PublicKey)
	if forges(real) {
		t.Fatal("the forgery verifies for a real key")
	}
	if _, err := jwt.ParseKeySet([]byte(`{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "`+b64(real)+`"}]}`), false); err != nil {
		t.Errorf("a real key: %v", err)
	}
}

// TestRSAKeyLimits: exponents other than 65537 and 3, and moduli over
// 4096 bits, which make verification slow, are refused.
func TestRSAKeyLimits(t *testing.T) {
	s := keysOnce()
	n := b64(s.rsa.PublicKey.N.Bytes())
	for e, want := range map[string]string{
		"AQAB":   "",
		"Aw":     "",
		"EQ":     "keys[0]: e: must be 65537 (AQAB) or 3, not 17",
		"f____w": "keys[0]: e: must be 65537 (AQAB) or 3, not 2147483647",
	} {
		_, err := jwt.ParseKeySet([]byte(`{"keys": [{"kty": "RSA", "n": "`+n+`", "e": "`+e+`"}]}`), false)
		if got := fmt.Sprint(err); want == "" && err != nil || want != "" && got != want {
			t.Errorf("e %s: %v, want %q", e, err, want)
		}
	}
	big := b64(append([]byte{0x80}, make([]byte, 4096/8)...)) // 4104 bits
	if _, err := jwt.ParseKeySet([]byte(`{"keys": [{"kty": "RSA", "n": "`+big+`", "e": "AQAB"}]}`), false); err == nil ||
		err.Error() != "keys[0]: n: is a 4104-bit modulus; it must have 2048 to 4096 bits" {
		t.Errorf("a 4104-bit modulus: %v", err)
	}
}

// TestKidlessTokensTryFewKeys: a token without a kid is tried against at
// most MaxKidlessTries keys that fit its algorithm, so a forged one costs
// at most that many verifications however large the set is.
func TestKidlessTokensTryFewKeys(t *testing.T) {
	s := keysOnce()
	tok := mint(t, alg{jwtlib.SigningMethodRS256, s.rsa, ""}, "", claims(nil)) // no kid
	set := func(at int) string { return kidlessSet(s, at) }
	if err := check(tok, keySet(t, set(jwt.MaxKidlessTries-1)), t0); err != nil {
		t.Errorf("the signing key among the first %d: %v", jwt.MaxKidlessTries, err)
	}
	if err := check(tok, keySet(t, set(jwt.MaxKidlessTries)), t0); err == nil || err.Reason != jwt.BadSignature {
		t.Errorf("the signing key after the first %d: %v, want bad_signature", jwt.MaxKidlessTries, err)
	}
}
