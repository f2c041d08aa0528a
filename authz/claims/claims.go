// Package claims carries a request's verified token claims from the filter
// that verified them (package authz/jwt) to the filters that decide on them
// (authz rules), through the request's Exchange. It is its own small package
// so that a deciding filter can read the claims without linking the
// verifier and its cryptography.
package claims

import (
	"strings"

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
// whether a verifying filter published one. x is the request's Exchange, or
// anything else that holds its values (templates are rendered from an
// interface so that they can be tested without a proxy).
func From(x interface{ Value(key any) any }) (Verified, bool) {
	v, ok := x.Value(key{}).(Verified)
	return v, ok
}

// Text is a claim as text, as a header value or a template shows it: a
// string, number or boolean as its text, an array of strings joined with
// ",". Other claims have none (ok is false), and so does an array with an
// element a list parser would read differently (one with a ",", or
// surrounding spaces or tabs).
func Text(c gjson.Result) (string, bool) {
	switch c.Type {
	case gjson.String:
		return c.Str, true
	case gjson.Number, gjson.True, gjson.False:
		return c.Raw, true
	}
	if !c.IsArray() {
		return "", false
	}
	var parts []string
	ok := true
	c.ForEach(func(_, e gjson.Result) bool {
		ok = e.Type == gjson.String && strings.IndexByte(e.Str, ',') < 0 && strings.Trim(e.Str, " \t") == e.Str
		parts = append(parts, e.Str)
		return ok
	})
	if !ok {
		return "", false
	}
	return strings.Join(parts, ","), true
}
