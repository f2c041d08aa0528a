// Package claims carries a request's verified token claims from the filter
// that verified them (package authz/jwt) to the filters that decide on them
// (authz rules), through the request's Exchange. It is its own small package
// so that a deciding filter can read the claims without linking the
// verifier and its cryptography.
package claims

import (
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
)

// key is the Exchange value key of the verification result.
type key struct{}

// Verified is what a verifying filter found in a request.
type Verified struct {
	// Provider names the provider whose key verified the token; empty when
	// the request carried no token.
	Provider string
	// Payload is the verified token's JSON payload, a JSON object; it does
	// not exist (Payload.Exists() is false) when the request carried no
	// token.
	Payload gjson.Result
}

// Publish records v as the verification result of the request: the claims
// of a verified token, or, with a zero Verified, that the request was
// checked and carried none. A filter that verifies tokens publishes a result
// for every request it lets through, so that a later filter reads claims
// only from verified tokens.
func Publish(x *policy.Exchange, v Verified) { x.SetValue(key{}, v) }

// From returns the verification result published for the request, and
// whether a verifying filter published one.
func From(x *policy.Exchange) (Verified, bool) {
	v, ok := x.Value(key{}).(Verified)
	return v, ok
}
