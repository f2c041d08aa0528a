package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmpolicy/policy/authz/jwt"
)

// The jwt filter's worst case: a forged token without a kid against the
// largest key set the filter accepts, all of it RSA keys of the largest
// size. The filter tries such a token against at most jwt.MaxKidlessTries
// keys, which bounds what a forged request costs; the measure shows the
// bound against a forged token that names a key, which costs one check.

// kidlessKeys is the key set's size: the most keys a set may hold.
const kidlessKeys = jwt.MaxKeys

// kidlessBits is the size of its keys: the largest RSA modulus accepted.
const kidlessBits = 4096

// kidless is the measure's result: milliseconds per request, medians over
// the rounds, for the forged kid-less token and for a forged token that
// names a key, in the same rounds.
type kidless struct {
	forged, named float64
}

// measureKidless times the jwt example's image configured with kidlessKeys
// RSA keys of kidlessBits bits (one key under kidlessKeys kids, which costs
// the same to try as as many keys), serving a forged token without a kid
// and one that names a key, both answered 401.
func measureKidless(ctx context.Context, img plugin) (kidless, error) {
	key, err := rsa.GenerateKey(rand.Reader, kidlessBits)
	if err != nil {
		return kidless{}, err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	n := b64(key.N.Bytes())
	var keys []string
	for i := range kidlessKeys {
		keys = append(keys, `{"kty":"RSA","kid":"k`+strconv.Itoa(i)+`","n":"`+n+`","e":"AQAB"}`)
	}
	img.config = []byte(`{"filters":[{"name":"jwt","config":{"providers":[{"name":"issuer","issuer":"https://issuer.example","audiences":["api"],` +
		`"jwks":{"keys":[` + strings.Join(keys, ",") + `]}}],"rules":[{"requires":["issuer"]}]}}]}`)
	payload := b64([]byte(`{"iss":"https://issuer.example","aud":"api","sub":"bench","exp":4102444800}`))
	// Signatures of the right size that no key verifies: the filter
	// remembers tokens it verified, not tokens it refused, so each request
	// costs its signature checks.
	forge := func(header string) string {
		return b64([]byte(header)) + "." + payload + "." + b64(make([]byte, kidlessBits/8))
	}
	forgedP, namedP := img, img
	forgedP.label, forgedP.headers, forgedP.deniedWith = "jwt (forged, no kid)", withBearer(forge(`{"alg":"RS256"}`)), 401
	namedP.label, namedP.headers, namedP.deniedWith = "jwt (forged, names a key)", withBearer(forge(`{"alg":"RS256","kid":"k`+strconv.Itoa(kidlessKeys-1)+`"}`)), 401
	samples, err := slowTurns(ctx, []plugin{forgedP, namedP})
	if err != nil {
		return kidless{}, err
	}
	return kidless{forged: median(samples[0]), named: median(samples[1])}, nil
}

// writeKidless is the report's section on it.
func (r *results) writeKidless(w writer) {
	if r.kidless == (kidless{}) {
		return
	}
	w("## JWT: a forged token without a kid\n\n")
	w("The jwt example's image configured with %d RSA keys of %d bits (the most keys and the largest modulus a key set may have), ", kidlessKeys, kidlessBits)
	w("serving a token without a kid whose signature no key verifies, and one that names a key (one signature check), both answered 401, ")
	w("taking turns in %d rounds of %d requests. The filter tries a kid-less token against at most %d keys that fit its algorithm (`jwt.MaxKidlessTries`), ", hostileRounds, hostileBatch, jwt.MaxKidlessTries)
	w("so the forged request costs at most that many signature checks, whatever the key set.\n\n")
	w("| Request | Time (ms) | × the token that names a key |\n|---|---:|---:|\n")
	w("| forged, no kid | %.2f | %.2f |\n| forged, names a key | %.2f | 1.00 |\n\n", r.kidless.forged, r.kidless.forged/r.kidless.named, r.kidless.named)
}

// kidlessVerdict checks the bound: the forged request costs at most
// MaxKidlessTries verifications, plus the request's own cost.
func (r *results) kidlessVerdict() verdict {
	v := verdict{key: "kidless", target: fmt.Sprintf("a forged kid-less token against %d RSA-%d keys ≤ %d× a forged token that names a key", kidlessKeys, kidlessBits, jwt.MaxKidlessTries)}
	if r.kidless == (kidless{}) {
		v.measured, v.miss = "not measured", "(no jwt image)"
		return v
	}
	ratio := r.kidless.forged / r.kidless.named
	v.measured = fmt.Sprintf("%.2f× (%.2f ms; naming a key %.2f ms)", ratio, r.kidless.forged, r.kidless.named)
	v.met = ratio <= jwt.MaxKidlessTries
	if !v.met {
		v.miss = fmt.Sprintf("by %.2f×", ratio-jwt.MaxKidlessTries)
	}
	return v
}
