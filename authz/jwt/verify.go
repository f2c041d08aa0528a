package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	_ "crypto/sha256" // crypto.SHA256.New needs it linked in
	_ "crypto/sha512" // and SHA384, SHA512
	"encoding/base64"
	"errors"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/internal/text"
)

// MaxTokenSize is the longest token accepted, in bytes. Envoy's default
// header size limit is 60 KiB; a token is rarely more than 2 KiB.
const MaxTokenSize = 8 << 10

// maxDepth bounds how deeply a token's header or payload may nest objects
// and arrays.
const maxDepth = 16

// b64url is base64url without padding, refusing non-zero trailing bits so
// that a token has exactly one encoding.
var b64url = base64.RawURLEncoding.Strict()

// Reason is why a token was refused, for logs and metrics.
type Reason string

// The reasons a token is refused.
const (
	Malformed      Reason = "malformed"        // not three base64url parts of JSON objects
	TooLarge       Reason = "too_large"        // longer than MaxTokenSize
	DuplicateKey   Reason = "duplicate_key"    // a JSON object gives a key twice
	BadAlgorithm   Reason = "bad_algorithm"    // none, unsupported, or critical extensions
	UnknownKey     Reason = "unknown_kid"      // no key has the token's kid
	NoFittingKey   Reason = "no_key"           // no key of the set verifies the token's algorithm
	BadSignature   Reason = "bad_signature"    // the signature does not verify
	WrongIssuer    Reason = "wrong_issuer"     // iss is not a provider's issuer
	WrongAudience  Reason = "wrong_audience"   // aud names none of the audiences
	Expired        Reason = "expired"          // exp has passed
	NotYetValid    Reason = "not_yet_valid"    // nbf has not come
	IssuedInFuture Reason = "issued_future"    // iat is in the future
	BadClaim       Reason = "bad_claim"        // exp, nbf, iat, iss or aud of the wrong type
	Missing        Reason = "missing"          // the request has no token
	SeveralTokens  Reason = "several_tokens"   // the request has more than one token
	NoKeys         Reason = "keys_unavailable" // the provider's key set is not available
)

// Error is a refusal: the reason, and details for the log. The details
// quote at most short values of the token (kid, alg, iss), never the token.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return string(e.Reason)
	}
	return string(e.Reason) + ": " + e.Detail
}

func refuse(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: text.Sprintf(format, args...)}
}

// Token is a compact JWS split and decoded, not yet verified.
type Token struct {
	raw     string
	Header  gjson.Result // the protected header, a JSON object
	Payload gjson.Result // the payload, a JSON object
	signed  string       // header.payload, the signing input
	sig     []byte
	alg     string
	kid     string
}

// Algorithms are the signature algorithms verified.
var Algorithms = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512",
}

// Parse splits and decodes a compact JWS whose header and payload are JSON
// objects without duplicate keys, and checks its header: a supported "alg"
// (never "none"), a string "kid" if any, and no "crit" extensions. It does
// not verify the signature.
func Parse(token string) (*Token, *Error) {
	if len(token) > MaxTokenSize {
		return nil, refuse(TooLarge, "%d bytes; the limit is %d", len(token), MaxTokenSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, refuse(Malformed, "%d parts, not 3", len(parts))
	}
	t := &Token{raw: token, signed: token[:len(parts[0])+1+len(parts[1])]} // header.payload, not copied
	var err *Error
	if t.Header, err = decodeObject("header", parts[0]); err != nil {
		return nil, err
	}
	if t.Payload, err = decodeObject("payload", parts[1]); err != nil {
		return nil, err
	}
	alg := t.Header.Get("alg")
	if alg.Type != gjson.String {
		return nil, refuse(BadAlgorithm, "the header has no alg string")
	}
	t.alg = alg.Str
	if !contains(Algorithms, t.alg) {
		return nil, refuse(BadAlgorithm, "alg %s is not accepted", quote(t.alg))
	}
	if kid := t.Header.Get("kid"); kid.Exists() {
		if kid.Type != gjson.String {
			return nil, refuse(Malformed, "kid is not a string")
		}
		t.kid = kid.Str
	}
	if t.Header.Get("crit").Exists() {
		return nil, refuse(BadAlgorithm, "the header lists critical extensions (crit), which are not supported")
	}
	sig, e := b64url.DecodeString(parts[2])
	if e != nil || len(sig) == 0 {
		return nil, refuse(Malformed, "the signature is not base64url")
	}
	t.sig = sig
	return t, nil
}

// Alg is the token's algorithm; Kid its key ID, "" if none.
func (t *Token) Alg() string { return t.alg }

// Kid is the token's key ID, "" if it has none.
func (t *Token) Kid() string { return t.kid }

// decodeObject decodes one base64url part that must hold a JSON object.
func decodeObject(part, s string) (gjson.Result, *Error) {
	raw, err := b64url.DecodeString(s)
	if err != nil || len(raw) == 0 {
		return gjson.Result{}, refuse(Malformed, "the %s is not base64url", part)
	}
	if !gjson.ValidBytes(raw) {
		return gjson.Result{}, refuse(Malformed, "the %s is not JSON", part)
	}
	obj := gjson.ParseBytes(raw)
	if !obj.IsObject() {
		return gjson.Result{}, refuse(Malformed, "the %s is not a JSON object", part)
	}
	if err := checkObject(obj, 0); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Detail = "in the " + part + ": " + e.Detail
			return gjson.Result{}, e
		}
		return gjson.Result{}, refuse(Malformed, "the %s: %v", part, err)
	}
	return obj, nil
}

// checkObject refuses a JSON value in which an object gives a key twice
// (keys compared after unescaping: "a" and "\u0061" are the same key), or
// that nests deeper than maxDepth. A verifier and the service behind it
// could otherwise read different values for the same claim.
func checkObject(v gjson.Result, depth int) error {
	if !v.IsObject() && !v.IsArray() {
		return nil
	}
	if depth == maxDepth {
		return refuse(Malformed, "nests deeper than %d levels", maxDepth)
	}
	var seen map[string]bool
	if v.IsObject() {
		seen = map[string]bool{}
	}
	var err error
	v.ForEach(func(k, e gjson.Result) bool {
		if seen != nil {
			if seen[k.Str] {
				err = refuse(DuplicateKey, "key %s is given twice", quote(k.Str))
				return false
			}
			seen[k.Str] = true
		}
		err = checkObject(e, depth+1)
		return err == nil
	})
	return err
}

// Verify checks the token's signature with the key its kid names, or,
// without a kid, with the first MaxKidlessTries keys of the set that fit
// its algorithm. A key verifies only the algorithms of its type (and its
// own "alg"), so a token cannot make an RSA public key serve as an HMAC
// secret.
func (s *KeySet) Verify(t *Token) *Error {
	tried := 0
	for i := range s.keys {
		k := &s.keys[i]
		if t.kid != "" && k.kid != t.kid {
			continue
		}
		if !k.fits(t.alg) {
			if t.kid != "" {
				return refuse(NoFittingKey, "key %s is a %s key that does not verify %s", quote(t.kid), keyDesc(k), t.alg)
			}
			continue
		}
		if tried == MaxKidlessTries {
			break // a kid-less token: the work it may cost is bounded
		}
		tried++
		if k.verify(t.alg, []byte(t.signed), t.sig) {
			return nil
		}
	}
	switch {
	case tried > 0:
		return refuse(BadSignature, "alg %s, kid %s", t.alg, quote(t.kid))
	case t.kid != "":
		return refuse(UnknownKey, "no key has kid %s", quote(t.kid))
	}
	return refuse(NoFittingKey, "no key of the set verifies %s", t.alg)
}

func keyDesc(k *key) string {
	d := k.kty
	if k.crv != "" {
		d += " " + k.crv
	}
	if k.alg != "" {
		d += " (alg " + k.alg + ")"
	}
	return d
}

// verify checks sig over signed with k, for alg, which k fits.
func (k *key) verify(alg string, signed, sig []byte) bool {
	if alg == "EdDSA" {
		return ed25519.Verify(k.ed, signed, sig)
	}
	hash := hashOf(alg)
	if alg[0] == 'H' {
		mac := hmac.New(hash.New, k.secret)
		mac.Write(signed)
		return hmac.Equal(mac.Sum(nil), sig)
	}
	h := hash.New()
	h.Write(signed)
	digest := h.Sum(nil)
	switch alg[:2] {
	case "RS":
		return rsa.VerifyPKCS1v15(k.rsa, hash, digest, sig) == nil
	case "PS":
		return rsa.VerifyPSS(k.rsa, hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case "ES":
		size := (k.ec.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k.ec, digest, r, s)
	}
	return false
}

// Times are the checks of a token's time claims.
type Times struct {
	Now  time.Time
	Skew time.Duration // allowed clock difference with the issuer
}

// Check checks exp, nbf and iat, each when present: exp must not have
// passed and nbf must have come, each with Skew of grace; iat must not be
// more than Skew in the future. A present claim that is not a number is
// refused.
func (c Times) Check(payload gjson.Result) *Error {
	now := float64(c.Now.UnixNano()) / 1e9
	skew := c.Skew.Seconds()
	get := func(name string) (float64, bool, *Error) {
		v := payload.Get(name)
		if !v.Exists() {
			return 0, false, nil
		}
		if v.Type != gjson.Number || math.IsInf(v.Num, 0) {
			return 0, false, refuse(BadClaim, "%s is not a number", name)
		}
		return v.Num, true, nil
	}
	exp, ok, err := get("exp")
	if err != nil {
		return err
	}
	if ok && now >= exp+skew {
		return refuse(Expired, "exp %s, now %s, clock skew %s", unix(exp), unix(now), c.Skew)
	}
	nbf, ok, err := get("nbf")
	if err != nil {
		return err
	}
	if ok && now+skew < nbf {
		return refuse(NotYetValid, "nbf %s, now %s, clock skew %s", unix(nbf), unix(now), c.Skew)
	}
	iat, ok, err := get("iat")
	if err != nil {
		return err
	}
	if ok && now+skew < iat {
		return refuse(IssuedInFuture, "iat %s, now %s, clock skew %s", unix(iat), unix(now), c.Skew)
	}
	return nil
}

func unix(sec float64) string {
	return time.Unix(0, int64(sec*1e9)).UTC().Format(time.RFC3339)
}

// audienceOK reports whether the token's aud (a string or an array of
// strings) names one of audiences.
func audienceOK(payload gjson.Result, audiences []string) (bool, *Error) {
	aud := payload.Get("aud")
	switch {
	case !aud.Exists():
		return false, nil
	case aud.Type == gjson.String:
		return contains(audiences, aud.Str), nil
	case !aud.IsArray():
		return false, refuse(BadClaim, "aud is neither a string nor an array")
	}
	found := false
	var err *Error
	aud.ForEach(func(_, v gjson.Result) bool {
		if v.Type != gjson.String {
			err = refuse(BadClaim, "aud has an element that is not a string")
			return false
		}
		found = found || contains(audiences, v.Str)
		return true
	})
	return found && err == nil, err
}
