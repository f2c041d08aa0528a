package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"math/big"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/internal/text"
)

// Limits on a key set.
const (
	// MaxKeys is the most keys a key set may hold.
	MaxKeys = 64
	// minRSABits and maxRSABits bound an RSA modulus: smaller keys are
	// breakable, larger ones make every verification slow (an 8192-bit
	// key costs about eight times a 4096-bit one).
	minRSABits = 2048
	maxRSABits = 4096
	// MaxKidlessTries is the most keys a token without a "kid" is tried
	// against: the first keys of the set whose type and "alg" fit the
	// token's algorithm. It bounds the work one forged token costs.
	MaxKidlessTries = 4
	// minSecret is the shortest HMAC secret accepted, in bytes (RFC 7518
	// §3.2 asks for at least the hash's size: 32 bytes for HS256, 48 for
	// HS384, 64 for HS512, which a shorter key does not verify).
	minSecret = 32
)

// smallOrders are the encodings of the points of Ed25519 whose order
// divides the cofactor 8 (the sign bit of x, the top bit, cleared): 0 and 1
// (orders 4 and 1), two of order 8, p-1 (order 2), and p and p+1, which
// are non-canonical encodings of 0 and 1.
var smallOrders = [...]string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

// smallOrder reports whether the Ed25519 public key x (32 bytes) is a point
// of small order: for such a key, forged signatures verify.
func smallOrder(x []byte) bool {
	var y [32]byte
	copy(y[:], x)
	y[31] &= 0x7f
	for _, s := range smallOrders {
		if hex.EncodeToString(y[:]) == s {
			return true
		}
	}
	return false
}

// key is one verification key of a JWKS.
type key struct {
	kid string
	kty string // "RSA", "EC", "OKP" or "oct"
	alg string // the only algorithm it verifies, or "" for any of its type
	crv string // EC and OKP: the curve

	rsa    *rsa.PublicKey
	ec     *ecdsa.PublicKey
	ed     ed25519.PublicKey
	secret []byte
}

// KeySet is a parsed JSON Web Key Set (RFC 7517): the keys tokens are
// verified with.
type KeySet struct {
	keys []key
}

// Len is the number of keys in the set.
func (s *KeySet) Len() int { return len(s.keys) }

// ParseKeySet parses a JWKS, {"keys": [...]}. RSA (n, e), EC (crv P-256,
// P-384 or P-521 with x, y), OKP (crv Ed25519 with x) public keys are read;
// symmetric ("oct", k) keys only when secrets is true, for key sets written
// in the configuration. A key whose "use" is not "sig", or whose "alg" is
// not a signature algorithm of its type, is an error, as are duplicate
// "kid"s, duplicate JSON keys and private key members.
func ParseKeySet(doc []byte, secrets bool) (*KeySet, error) {
	if !gjson.ValidBytes(doc) {
		return nil, errors.New("is not valid JSON")
	}
	root := gjson.ParseBytes(doc)
	if err := checkObject(root, 0); err != nil {
		return nil, err
	}
	list := root.Get("keys")
	if !list.IsArray() {
		return nil, errors.New(`must be a JSON object with a "keys" array`)
	}
	set := &KeySet{}
	kids := map[string]int{}
	var err error
	list.ForEach(func(_, v gjson.Result) bool {
		i := len(set.keys)
		if i == MaxKeys {
			err = text.Errorf("keys: has more than %d keys", MaxKeys)
			return false
		}
		var k key
		if k, err = parseKey(v, secrets); err != nil {
			err = text.Errorf("keys[%d]: %w", i, err)
			return false
		}
		if k.kid != "" {
			if j, dup := kids[k.kid]; dup {
				err = text.Errorf("keys[%d]: kid %q is already the kid of keys[%d]", i, k.kid, j)
				return false
			}
			kids[k.kid] = i
		}
		set.keys = append(set.keys, k)
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(set.keys) == 0 {
		return nil, errors.New("keys: must hold at least one key")
	}
	return set, nil
}

// keyAlgs are the algorithms of each key type.
var keyAlgs = map[string][]string{
	"RSA": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
	"EC":  {"ES256", "ES384", "ES512"},
	"OKP": {"EdDSA"},
	"oct": {"HS256", "HS384", "HS512"},
}

func parseKey(v gjson.Result, secrets bool) (key, error) {
	if !v.IsObject() {
		return key{}, errors.New("must be a JSON object")
	}
	str := func(name string) (string, error) {
		r := v.Get(name)
		if r.Exists() && r.Type != gjson.String {
			return "", text.Errorf("%s: must be a string", name)
		}
		return r.String(), nil
	}
	var k key
	var err error
	for _, f := range []struct {
		name string
		to   *string
	}{{"kid", &k.kid}, {"kty", &k.kty}, {"alg", &k.alg}, {"crv", &k.crv}} {
		if *f.to, err = str(f.name); err != nil {
			return key{}, err
		}
	}
	if use, err := str("use"); err != nil {
		return key{}, err
	} else if use != "" && use != "sig" {
		return key{}, text.Errorf(`use: must be "sig", not %q`, use)
	}
	algs, known := keyAlgs[k.kty]
	if !known {
		return key{}, text.Errorf(`kty: must be "RSA", "EC", "OKP" or "oct", not %q`, k.kty)
	}
	if k.alg != "" && !contains(algs, k.alg) {
		return key{}, text.Errorf("alg: %q is not a signature algorithm of a %s key", k.alg, k.kty)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if v.Get(private).Exists() && k.kty != "oct" {
			return key{}, text.Errorf("%s: is a private key member: publish only the public key", private)
		}
	}
	b64 := func(name string) ([]byte, error) {
		s, err := str(name)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, text.Errorf("%s: is required", name)
		}
		b, err := b64url.DecodeString(s)
		if err != nil {
			return nil, text.Errorf("%s: is not base64url without padding", name)
		}
		return b, nil
	}
	switch k.kty {
	case "RSA":
		n, err := b64("n")
		if err != nil {
			return key{}, err
		}
		e, err := b64("e")
		if err != nil {
			return key{}, err
		}
		if len(n) == 0 || n[0] == 0 {
			return key{}, errors.New("n: has a leading zero byte")
		}
		mod := new(big.Int).SetBytes(n)
		if bits := mod.BitLen(); bits < minRSABits || bits > maxRSABits {
			return key{}, text.Errorf("n: is a %d-bit modulus; it must have %d to %d bits", bits, minRSABits, maxRSABits)
		}
		if len(e) == 0 || len(e) > 4 || e[0] == 0 {
			return key{}, errors.New("e: must be a positive integer of at most 4 bytes without leading zeros")
		}
		exp := new(big.Int).SetBytes(e)
		if exp.Int64() != 65537 && exp.Int64() != 3 {
			// Other exponents are legal but unused, and a large one makes
			// every verification slow.
			return key{}, text.Errorf("e: must be 65537 (AQAB) or 3, not %s", exp)
		}
		k.rsa = &rsa.PublicKey{N: mod, E: int(exp.Int64())}
	case "EC":
		curve, size := ecCurve(k.crv)
		if curve == nil {
			return key{}, text.Errorf(`crv: must be "P-256", "P-384" or "P-521" for an EC key, not %q`, k.crv)
		}
		if k.alg != "" && k.alg != ecAlg(k.crv) {
			return key{}, text.Errorf("alg: %q does not use curve %s", k.alg, k.crv)
		}
		x, err := b64("x")
		if err != nil {
			return key{}, err
		}
		y, err := b64("y")
		if err != nil {
			return key{}, err
		}
		if len(x) != size || len(y) != size {
			return key{}, text.Errorf("x, y: must be %d bytes each for %s", size, k.crv)
		}
		X, Y := new(big.Int).SetBytes(x), new(big.Int).SetBytes(y)
		// For the named curves IsOnCurve is the check of
		// crypto/ecdh's NewPublicKey: coordinates below the field's prime, on
		// the curve, not the point at infinity. crypto/ecdh itself is not
		// used: its key generation reaches a timer goroutine, which TinyGo
		// builds without a scheduler refuse.
		if !curve.IsOnCurve(X, Y) {
			return key{}, text.Errorf("x, y: is not a point of %s", k.crv)
		}
		k.ec = &ecdsa.PublicKey{Curve: curve, X: X, Y: Y}
	case "OKP":
		if k.crv != "Ed25519" {
			return key{}, text.Errorf(`crv: must be "Ed25519" for an OKP key, not %q`, k.crv)
		}
		x, err := b64("x")
		if err != nil {
			return key{}, err
		}
		if len(x) != ed25519.PublicKeySize {
			return key{}, text.Errorf("x: must be %d bytes for Ed25519", ed25519.PublicKeySize)
		}
		if smallOrder(x) {
			return key{}, errors.New("x: is a point of small order, which is no key: a signature whose R is the identity and S is 0 would verify for it")
		}
		k.ed = ed25519.PublicKey(x)
	case "oct":
		if !secrets {
			return key{}, errors.New(`kty: "oct" (a shared secret) is accepted only in a key set written in the configuration`)
		}
		secret, err := b64("k")
		if err != nil {
			return key{}, err
		}
		if len(secret) < minSecret {
			return key{}, text.Errorf("k: is a %d-byte secret; it must have at least %d bytes", len(secret), minSecret)
		}
		if k.alg != "" && len(secret) < hashOf(k.alg).Size() {
			return key{}, text.Errorf("k: is a %d-byte secret; %s needs at least %d bytes", len(secret), k.alg, hashOf(k.alg).Size())
		}
		k.secret = secret
	}
	return k, nil
}

func ecCurve(crv string) (elliptic.Curve, int) {
	switch crv {
	case "P-256":
		return elliptic.P256(), 32
	case "P-384":
		return elliptic.P384(), 48
	case "P-521":
		return elliptic.P521(), 66
	}
	return nil, 0
}

func ecAlg(crv string) string {
	switch crv {
	case "P-256":
		return "ES256"
	case "P-384":
		return "ES384"
	case "P-521":
		return "ES512"
	}
	return ""
}

// hashOf is the hash of an RS, PS, ES or HS algorithm.
func hashOf(alg string) crypto.Hash {
	switch alg[2:] {
	case "256":
		return crypto.SHA256
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return 0
}

// fits reports whether k may verify a token signed with alg: the algorithm
// must be one of the key's type, of its curve for EC, and the key's own
// "alg" if it has one. This is what keeps an RSA public key from being used
// as an HMAC secret.
func (k *key) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	if !contains(keyAlgs[k.kty], alg) {
		return false
	}
	switch k.kty {
	case "EC":
		return ecAlg(k.crv) == alg
	case "oct": // RFC 7518 §3.2: a key at least as long as the hash
		return len(k.secret) >= hashOf(alg).Size()
	}
	return true
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// quote quotes a value taken from a token for the log, cut to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}
