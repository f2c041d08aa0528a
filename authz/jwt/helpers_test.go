package jwt_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/wasmpolicy/policy/authz/jwt"
)

// Tokens are minted with github.com/golang-jwt/jwt/v5, a JOSE
// implementation independent of the verifier under test.

// t0 is the time of every request unless a case says otherwise.
var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

const issuer = "https://idp.example"

// signers are the test's private keys: one per key type and curve, the
// HMAC secret, and other keys the verifier does not know.
type signers struct {
	rsa, otherRSA       *rsa.PrivateKey
	ec256, ec384, ec521 *ecdsa.PrivateKey
	ed                  ed25519.PrivateKey
	secret, otherSecret []byte
	rsaPublicPEM        []byte // the RSA public key as an HMAC secret would be forged from it
	jwks                string // the verifier's key set for them
}

var keysOnce = sync.OnceValue(func() *signers {
	s := &signers{}
	var err error
	must := func(e error) {
		if e != nil {
			panic(e)
		}
	}
	s.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	s.otherRSA, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	s.ec256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	s.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	s.ec521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	must(err)
	_, s.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	s.secret = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") // 64 bytes, for HS512
	s.otherSecret = []byte("another secret of at least thirty-two bytes")
	der, err := x509.MarshalPKIXPublicKey(&s.rsa.PublicKey)
	must(err)
	s.rsaPublicPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	s.jwks = `{"keys": [` + strings.Join([]string{
		rsaJWK("rsa", "", &s.rsa.PublicKey),
		rsaJWK("rs256-only", "RS256", &s.rsa.PublicKey),
		ecJWK("ec256", "P-256", &s.ec256.PublicKey),
		ecJWK("ec384", "P-384", &s.ec384.PublicKey),
		ecJWK("ec521", "P-521", &s.ec521.PublicKey),
		fmt.Sprintf(`{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "use": "sig", "x": %q}`, b64(s.ed.Public().(ed25519.PublicKey))),
		fmt.Sprintf(`{"kty": "oct", "kid": "hs", "k": %q}`, b64(s.secret)),
	}, ", ") + `]}`
	return s
})

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// kidlessSet is a key set of MaxKidlessTries+2 RSA keys in which only the
// key at index at verifies s.rsa's signatures, for the bound on the keys a
// token without a kid is tried against.
func kidlessSet(s *signers, at int) string {
	var keys []string
	for i := range jwt.MaxKidlessTries + 2 {
		k := &s.otherRSA.PublicKey
		if i == at {
			k = &s.rsa.PublicKey
		}
		keys = append(keys, rsaJWK("k"+strconv.Itoa(i), "", k))
	}
	return `{"keys": [` + strings.Join(keys, ", ") + `]}`
}

func rsaJWK(kid, alg string, k *rsa.PublicKey) string {
	a := ""
	if alg != "" {
		a = fmt.Sprintf(`"alg": %q, `, alg)
	}
	return fmt.Sprintf(`{"kty": "RSA", "kid": %q, %s"n": %q, "e": %q}`, kid, a, b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes()))
}

func ecJWK(kid, crv string, k *ecdsa.PublicKey) string {
	size := (k.Curve.Params().BitSize + 7) / 8
	return fmt.Sprintf(`{"kty": "EC", "kid": %q, "crv": %q, "x": %q, "y": %q}`, kid, crv,
		b64(k.X.FillBytes(make([]byte, size))), b64(k.Y.FillBytes(make([]byte, size))))
}

// alg is a signing algorithm, the key that signs with it and the kid the
// verifier knows that key by.
type alg struct {
	method jwtlib.SigningMethod
	key    any
	kid    string
}

// algs is every algorithm the verifier accepts.
func algs(s *signers) []alg {
	return []alg{
		{jwtlib.SigningMethodRS256, s.rsa, "rsa"},
		{jwtlib.SigningMethodRS384, s.rsa, "rsa"},
		{jwtlib.SigningMethodRS512, s.rsa, "rsa"},
		{jwtlib.SigningMethodPS256, s.rsa, "rsa"},
		{jwtlib.SigningMethodPS384, s.rsa, "rsa"},
		{jwtlib.SigningMethodPS512, s.rsa, "rsa"},
		{jwtlib.SigningMethodES256, s.ec256, "ec256"},
		{jwtlib.SigningMethodES384, s.ec384, "ec384"},
		{jwtlib.SigningMethodES512, s.ec521, "ec521"},
		{jwtlib.SigningMethodEdDSA, s.ed, "ed"},
		{jwtlib.SigningMethodHS256, s.secret, "hs"},
		{jwtlib.SigningMethodHS384, s.secret, "hs"},
		{jwtlib.SigningMethodHS512, s.secret, "hs"},
	}
}

// claims are a valid token's claims at t0, with changes: a nil value
// removes a claim.
func claims(changes map[string]any) jwtlib.MapClaims {
	c := jwtlib.MapClaims{
		"iss": issuer, "aud": []string{"api"}, "sub": "alice", "role": "admin", "groups": []string{"ops", "dev"},
		"iat": t0.Add(-time.Minute).Unix(), "nbf": t0.Add(-time.Minute).Unix(), "exp": t0.Add(time.Hour).Unix(),
	}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// mint signs c with a; kid "" leaves the header without one.
func mint(t testing.TB, a alg, kid string, c jwtlib.MapClaims) string {
	t.Helper()
	tok := jwtlib.NewWithClaims(a.method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(a.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// raw signs a header and a payload given as JSON text, for tokens a JOSE
// library would not make (duplicate keys).
func raw(t testing.TB, a alg, header, payload string) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	sig, err := a.method.Sign(input, a.key)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// The examples of RFC 7515 appendix A: one payload (issuer "joe", expired
// since 2011-03-22) signed with HS256 (A.1), RS256 (A.2) and ES256 (A.3),
// and the key set of their three keys.
const (
	rfcPayload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	rfcHS256   = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + rfcPayload + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcRS256   = "eyJhbGciOiJSUzI1NiJ9." + rfcPayload + "." +
		"cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4" +
		"BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv" +
		"hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
	rfcES256 = "eyJhbGciOiJFUzI1NiJ9." + rfcPayload + "." +
		"DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
	rfcJWKS = `{"keys": [
		{"kty": "oct", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"},
		{"kty": "RSA", "e": "AQAB",
		 "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"},
		{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
)

// rfcTime is a moment at which the RFC examples have not expired.
var rfcTime = time.Unix(1300819380, 0).Add(-time.Hour)
