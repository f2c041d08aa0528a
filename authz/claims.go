package authz

import (
	"encoding/base64"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/conf"
)

// claims is a decoded JWT payload; ok is false when the request has no
// bearer token or the token is malformed.
type claims struct {
	payload gjson.Result
	ok      bool
}

// bearerClaims decodes the payload of the first "Bearer" token among the
// authorization header's values. It does not verify the token: the filter
// relies on an authentication step before it (Istio's RequestAuthentication,
// Envoy's jwt_authn) for that.
func bearerClaims(authorization []string) claims {
	for _, v := range authorization {
		scheme, token, found := strings.Cut(strings.TrimSpace(v), " ")
		if found && strings.EqualFold(scheme, "bearer") {
			return decodePayload(strings.TrimSpace(token))
		}
	}
	return claims{}
}

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
