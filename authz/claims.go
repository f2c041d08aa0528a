package authz

import (
	"encoding/base64"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/ascii"
)

// claims is a decoded JWT payload; ok is false when the request has no
// bearer token or the token is malformed.
type claims struct {
	payload gjson.Result
	ok      bool
}

// bearerClaims decodes the payload of the first bearer token among the
// authorization header's values. It does not verify the token: the filter
// relies on an authentication step before it (Istio's RequestAuthentication,
// Envoy's jwt_authn) for that.
func bearerClaims(authorization []string) claims {
	for _, v := range authorization {
		if token, ok := bearerToken(v); ok {
			return decodePayload(token)
		}
	}
	return claims{}
}

// bearerToken returns the credentials of an authorization value whose
// scheme is "Bearer", in any letter case. RFC 7235 puts one space between
// the scheme and the token; any run of spaces and tabs is read as one, and
// so is such a run around the value. A value with another scheme, or with
// the scheme run into what follows it ("Bearertoken", "Bearer,token"),
// has no bearer token.
func bearerToken(v string) (string, bool) {
	const scheme = "bearer"
	v = strings.Trim(v, " \t")
	if len(v) <= len(scheme) || !ascii.HasPrefixFold(v, scheme) || !isSpaceOrTab(v[len(scheme)]) {
		return "", false
	}
	return strings.TrimLeft(v[len(scheme):], " \t"), true
}

func isSpaceOrTab(c byte) bool { return c == ' ' || c == '\t' }

// decodePayload returns the claims of a compact JWS (header.payload.signature)
// whose payload is a base64url-encoded JSON object.
func decodePayload(token string) claims {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return claims{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil || !gjson.ValidBytes(raw) {
		return claims{}
	}
	payload := gjson.ParseBytes(raw)
	if !payload.IsObject() {
		return claims{}
	}
	return claims{payload: payload, ok: true}
}

// claim is a compiled ClaimMatch.
type claim struct {
	path   string
	equals string // "" for a presence check
}

func compileClaim(c ClaimMatch) (*claim, error) {
	if c.Path == "" {
		return nil, conf.Errorf("path", "is required")
	}
	if c.Present == (c.Equals != "") {
		return nil, conf.Errorf("", "set exactly one of present and equals")
	}
	return &claim{path: c.Path, equals: c.Equals}, nil
}

func (c *claim) match(v *view) bool {
	cl := v.Claims()
	if !cl.ok {
		return false
	}
	got := cl.payload.Get(c.path)
	if !got.Exists() {
		return false
	}
	if c.equals == "" {
		return true
	}
	if got.IsArray() {
		found := false
		got.ForEach(func(_, e gjson.Result) bool {
			found = e.String() == c.equals
			return !found
		})
		return found
	}
	return got.String() == c.equals
}
