package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/authz/jwt"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The private halves of the two public keys in config.json's JWKS. They
// are TEST KEYS, generated once for this example and published here so that
// anyone can mint tokens config.json accepts: never use them, or
// config.json's keys, for anything real. internal/cmd/bench holds tokens
// signed with them.
const (
	// rsKey is kid "rs", RSA 2048 (RS256).
	rsKey = `
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDXp3ZAyOOfjrDq
z/YDk116R2/jmIiUdGG0zFAP2T6OE4SYNQHEVFVYy4xKEzPNM79rzh45mu7kiWZn
s6DFJA0Ajz+CQhZkTKWvzanOzHwk8DyV6KYICGu3GbUbulZ8/1YFY7eJVDHlRlDn
jzzXzVhFp1kqvljhxa10KlD3xUswdCVbECuW64lupV6SVBQ0Li8lsv7EJOwjFC5W
frK+UuF1Vf0F8FUzRO1CHXfSGvPAX5pG0w0nnhTMIW9V0Z0WqbPRhjBjFyg+s2k7
7Fz0bJCaUKcApOK/O5HwB1Bhek3DlkfOeI+Mauh1wNzuGIF2WAzEMJJVorZ2Mful
m0pp4mYnAgMBAAECggEAOyoaa1Ox/0hqiUFcwUZg0vdeXxauAeycEbosDO0RGHGK
YyfHwFFSyPWvG3OBNr8HuU/nQu6as+BuU+0YIn3tg0XJqrbu5b2Rh1XpTG8VcBzo
wkf9pR6KTsWixmSs7cYvl3LwG6EZv0k3URAfJSWVHib3c56dS/Orzr79T7y1ECmL
/wRr+07AQcw1STEaWD9U6KQxggZn//mq7s79gFVS2OUAeTp103OvGY2lttSXerpB
mZMVnFyiE2MxpmsgbH8zd2IFPPQANdALWTW3crAzZaGsq/IpUVvBlMlnakFNT08R
dgISk9B/v0dkXZUzex4f8M0lTmwOzQ0mNSWhzWwiwQKBgQD8/EQ/mBdzoz2axjKH
jcGMn3GnA0nGwATXpTIkcMJpEQUMwIcmaOlmFXYy9oFHnqL54f6qrsbbdhqAdEjv
KavDroMPOa6RYDvpmkBNa1NAwJvYudtxnTvHT0ctP2BuFH0sUApTRx1qzeHUumgI
dXdF/Tpu/pqeFcrWXGRHkqvb/wKBgQDaOVDrX2/4K+7BKFwLv4QyVDxM5p3WMIUE
cmV/Gzw/67GRIRcvY8PikKaYkhliGolAQtHGxc7fzpOlrKvV2sXIodLTRAtmJip7
kfAqhm1X9+7AEoV64OM3dK8bDQTALkRSuN7Du6mWt8Xr02r50x9hXFTgXtCMqDhm
AgbmxtcV2QKBgCx4K4cCNR0elLWgIUGyqVMOs+unqFBHcJJ3d1jweTv+weR780XN
KznGjABpVFBCkmNaVmmqT0pEeGQcDLX9nTPIeUEz4nurbtyhQKxbMUcwlDSEdw6B
lQBz7w8FFO5Eq7weVbJNzd34UroSCjdyboTe/maEWqlvKziDBR2PqqYBAoGBAKrc
b6gqzG+CbmjcYd1s8WO6opAPjQt0Z+HIdAGmYHEn6JraTt3y/h955IbW9Xrjjg07
hCZfIJAJnX79iHlj1rI1Se3SfB5Zya+A34tcP2a+IDhRCCPiyuTTvnquocabMzGV
wA1+9NSmRRhVK5A5pntDoM0gT6eh2q677Y1pqGRZAoGBAIqGRI6cnSDICc9vyA/D
WmaMliWvlz9txs1Uh70dBXs9dbPUEY8Of1VWl804Y7CsXUpPN/rURfnBnN2lSbBN
5kXkyeJuLaPeHwaPlis4QPG7kojp21Ktx8iQRQo7+YNRAw9QIZcoDBqsYbnyhOzp
O02F8FgD9zwo3Y4WpIBCNBW1
-----END PRIVATE KEY-----
`

	// esKey is kid "es", P-256 (ES256).
	esKey = `
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgv068eEPhIUU3ULui
Njcd9K6+JwfnXZk0D09WSwtC/bihRANCAATv5zpSiGBksF3L/udiFd4YCjCeRfsA
9uHcg0AAXN/7HdSHD1Teimae4fwmbeUAsR9UHhfY7WDM5e9uW/stMO+F
-----END PRIVATE KEY-----
`
)

// mint returns a compact JWS of claims signed with the test key kid ("rs":
// RS256, "es": ES256), as README.md's mint program does.
func mint(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	pemKey, alg := rsKey, "RS256"
	if kid == "es" {
		pemKey, alg = esKey, "ES256"
	}
	block, _ := pem.Decode([]byte(strings.TrimSpace(pemKey)))
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	header, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "kid": kid})
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding
	signed := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signed))
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
	case *ecdsa.PrivateKey:
		var r, s []byte
		rr, ss, e := ecdsa.Sign(rand.Reader, k, digest[:])
		r, s, err = rr.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32)), e
		sig = append(r, s...)
	}
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + b64.EncodeToString(sig)
}

// TestReadmeExchange runs the exchange shown in README.md with config.json,
// natively and as build/jwt.wasm: tokens are minted with the test keys for
// a request that arrives (request.time) at a fixed time, against which the
// plugin checks exp, nbf and iat.
func TestReadmeExchange(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := at.Unix()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": "https://issuer.example", "aud": "api", "sub": "alice",
			"scope": []string{"read"}, "iat": now - 60, "exp": now + 3600}
		if edit != nil {
			edit(c)
		}
		return c
	}
	rs, es := mint(t, "rs", claims(nil)), mint(t, "es", claims(nil))
	cases := []struct {
		name          string
		authorization string // "": none
		status        uint32 // 0: forwarded upstream
	}{
		{"RS256", "Bearer " + rs, 0},
		{"ES256", "Bearer " + es, 0},
		{"no token", "", 401},
		{"no read scope", "Bearer " + mint(t, "rs", claims(func(c map[string]any) { c["scope"] = []string{"write"} })), 403},
		{"expired", "Bearer " + mint(t, "es", claims(func(c map[string]any) { c["exp"] = now - 3600 })), 401},
		{"wrong audience", "Bearer " + mint(t, "rs", claims(func(c map[string]any) { c["aud"] = "other" })), 401},
		{"wrong issuer", "Bearer " + mint(t, "es", claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), 401},
		{"tampered", "Bearer " + rs[:strings.LastIndexByte(rs, '.')] + es[strings.LastIndexByte(es, '.'):], 401},
		{"kid es on an RS256 token", "Bearer " + strings.Replace(rs, rs[:strings.IndexByte(rs, '.')],
			base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"es"}`)), 1), 401},
	}
	native := func() types.VMContext { return policy.Configured(jwt.Kind, authz.Kind) }
	wasmtest.Both(t, "jwt", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for _, c := range cases {
			host.SetProperty([]string{"request", "time"}, policy.EncodeTime(at))
			id := host.InitializeHttpContext()
			headers := [][2]string{{":method", "GET"}, {":path", "/headers"}, {":authority", "api.example.com"}, {"x-user", "mallory"}}
			if c.authorization != "" {
				headers = append(headers, [2]string{"authorization", c.authorization})
			}
			action := host.CallOnRequestHeaders(id, headers, true)
			local := host.GetSentLocalResponse(id)
			switch {
			case c.status == 0:
				if action != types.ActionContinue || local != nil {
					t.Errorf("%s: action %v, reply %v; want forwarded", c.name, action, local)
					break
				}
				sent := host.GetCurrentRequestHeaders(id)
				if got := wasmtest.HeaderValues(sent, "x-user"); len(got) != 1 || got[0] != "alice" {
					t.Errorf("%s: x-user %q upstream, want [alice]", c.name, got)
				}
				if got := wasmtest.HeaderValues(sent, "authorization"); len(got) != 0 {
					t.Errorf("%s: the token went upstream", c.name)
				}
			case local == nil || local.StatusCode != c.status:
				t.Errorf("%s: reply %+v; want %d", c.name, local, c.status)
			case c.status == 401:
				want := `Bearer error="invalid_token"`
				if c.authorization == "" {
					want = "Bearer"
				}
				if got := wasmtest.HeaderValues(local.Headers, "www-authenticate"); len(got) != 1 || got[0] != want {
					t.Errorf("%s: www-authenticate %q, want [%s]", c.name, got, want)
				}
			case string(local.Data) != "access denied\n":
				t.Errorf("%s: body %q, want \"access denied\\n\"", c.name, local.Data)
			}
			host.CompleteHttpContext(id)
		}
	})
}
