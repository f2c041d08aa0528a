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
// Bearer credentials by default, and nothing else: Envoy's jwt_authn also
// reads the "access_token" query parameter by default, this filter only
// when "from_params" names it; "from_headers", "from_params",
// "from_cookies"), and its keys: an inline JWKS ("jwks"), or where to fetch
// one ("remote_jwks", below). Verification uses the
// standard library's crypto/rsa, crypto/ecdsa, crypto/ed25519 and
// crypto/hmac: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA
// (Ed25519), and HS256/384/512 with a shared secret written in the
// configuration. A key verifies only the algorithms of its type and of its
// own "alg"; "none" is never accepted. The token's "kid" picks the key; a
// token without one is tried against at most MaxKidlessTries (4) keys, the
// first of the set whose type and "alg" fit its algorithm, so the work a
// forged token costs is bounded: at most 4 signature checks, each with a
// key of at most 4096 bits (RSA moduli from 2048 to 4096 bits, exponent
// 65537 or 3) or of fixed size (EC, Ed25519, HMAC). An Ed25519 key at a
// point of small order, for which forged signatures verify, is refused.
// "exp", "nbf" and "iat" are checked against the request's time with a
// clock skew (60s by default). A token longer than MaxTokenSize, a header
// or payload that gives a JSON key twice or nests too deeply, and a header
// with "crit" extensions are refused.
//
// # Remote key sets
//
// A provider may fetch its key set instead of listing it:
//
//	{"name": "idp", "issuer": "https://idp.example.com",
//	 "remote_jwks": {"cluster": "idp-jwks", "path": "/.well-known/jwks.json",
//	                 "authority": "idp.example.com", "timeout": "1s", "cache_duration": "10m"},
//	 "failure_mode": "closed"}
//
// The key set is fetched with an HTTP GET through an HTTP callout to the
// Envoy cluster named (":authority" is the cluster's name unless
// "authority" says otherwise; "timeout" defaults to 1s, "cache_duration"
// to 10m). It is fetched once per proxy, not once per worker VM: the VMs
// share one shared-data record per provider holding the fetched document,
// when it was fetched, when the next fetch is due, the lease of a fetch in
// progress and the count of failed fetches, always written with
// compare-and-swap. On its tick (about once a second) a VM that finds the
// fetch due first writes a lease into the record; only the VM whose write
// succeeds fetches, and a lease outlives the call's timeout so that a VM
// that never hears back does not stop the others for good. Every VM parses
// the document from the record when its fetched-at time changes, and keeps
// the parsed key set until then.
//
// The key set is fetched when the plugin starts ticking, again after three
// quarters of cache_duration, and, when a token names a kid the key set
// lacks, on the next tick: an unknown kid brings the fetch forward at most
// once per EarlyRefreshInterval (30s, or cache_duration if shorter) for
// the proxy (the record notes when it last did), so that tokens with
// made-up kids cannot make the proxy fetch at their pace, nor hold back a
// key the issuer rotates in for longer than that. The request with the
// unknown kid is refused (unknown_kid); one after the refresh verifies. A fetch fails when the call gets no
// answer, an answer other than 200, or a document that is not a key set of
// public keys ("oct" secrets are refused from a fetch) or is larger than
// MaxJWKSSize. A failed fetch is retried after 1s, then after twice as long
// each time, up to 5 minutes; the last key set fetched stays in use until a
// fetch replaces it. Until a first key set is fetched, a request whose
// token is for the provider is refused with 401 (keys_unavailable), or,
// with "failure_mode": "open", let through without verified claims (the
// token is still removed unless the provider says "forward"). Either way
// no request waits for a fetch.
//
// jwt_jwks_fetches_total{provider, result} counts the fetches by result:
// "success", "unavailable" (no answer), "bad_status" or "malformed", and
// jwt_requests_total counts the requests refused with keys_unavailable and
// those let through with "failed_open". A failed fetch is logged at warn
// level.
//
// The dispatcher's policy.Exchange.HTTPCall belongs to a request; the
// fetch is made outside any, from the plugin context's tick, so this
// package calls proxywasm.DispatchHttpCall itself, with a callback that
// runs in the plugin context. A plugin that tests the filter with the SDK's
// emulator answers those callouts from proxytest.PluginContextID.
//
// # Rules
//
// The first rule that applies to a request says what it needs: a token
// from one of the providers it "requires" (any provider when it lists
// none), or, with "allow_missing", nothing, though a token that is present
// must verify. A request no rule applies to needs a token from some
// provider. A rule's "match" is the shared match object, conditions on the
// JSON body included ("body": [{"path": "visibility", "equals":
// "public"}]): a request with a body is then verified once the body is
// there, and the filters after this one wait for it (policy.BodyReader).
// A rule that lets a request through without a token applies only when
// every reading of the request meets it; one that requires a token, when
// some reading does.
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
