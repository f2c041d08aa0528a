// Package jwt verifies JSON Web Tokens (RFC 7519) for the requests of a
// chain, and makes the claims of a verified token available to the filters
// after it: authz rules on claims then see only verified tokens.
//
// The filter "jwt" is configured with providers and rules:
//
//	{"name": "jwt", "config": {
//	  "providers": [{
//	    "name": "idp", "issuer": "https://idp.example.com", "audiences": ["shop"],
//	    "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "kid": "2026-12", "x": "...", "y": "..."}]},
//	    "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}],
//	  "rules": [
//	    {"match": {"path": {"exact": "/healthz"}}, "allow_missing": true},
//	    {"requires": ["idp"]}]}}
//
// A provider names an issuer, the audiences one of which a token must name
// (unchecked when empty), where its tokens are (the authorization header's
// Bearer credentials by default; "from_headers", "from_params",
// "from_cookies"), and its keys as an inline JWKS. Verification uses the
// standard library's crypto/rsa, crypto/ecdsa, crypto/ed25519 and
// crypto/hmac: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA
// (Ed25519), and HS256/384/512 with a shared secret written in the
// configuration. A key verifies only the algorithms of its type and of its
// own "alg"; "none" is never accepted. The token's "kid" picks the key.
// "exp", "nbf" and "iat" are checked against the request's time with a
// clock skew (60s by default). A token longer than MaxTokenSize, a header
// or payload that gives a JSON key twice or nests too deeply, and a header
// with "crit" extensions are refused.
//
// The first rule that applies to a request says what it needs: a token
// from one of the providers it "requires" (any provider when it lists
// none), or, with "allow_missing", nothing, though a token that is present
// must verify. A request no rule applies to needs a token from some
// provider.
//
// A refused request gets 401 with "www-authenticate: Bearer
// error=\"invalid_token\"" (RFC 6750), or "www-authenticate: Bearer" when
// it had no token; the reason goes to the log, never the token. A verified
// token's claims can be copied into request headers ("claim_to_headers",
// replacing any copy the client sent), the token is removed from the
// request unless the provider says "forward", and the claims are published
// for later filters through package authz/claims. The filter publishes a
// result for every request, so that a later authz filter reads claims only
// from a token this filter verified, and none from a request it let through
// without one (or, in shadow mode, refused).
//
// The verifier is a package of its own so that images without it do not
// carry its cryptography: linking it adds about 1.8 MB to an image.
package jwt
