package authz

import (
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// view is one request as the rules see it: the chain's request view
// (policy.Exchange.Request), and the bearer token's claims, decoded on
// first use.
type view struct {
	req       *match.Request
	claims    claims
	claimDone bool
}

// reset makes v the request req.
func (v *view) reset(req *match.Request) {
	v.req = req
	v.claims, v.claimDone = claims{}, false
}

// useVerified makes payload, a verified token's payload or a missing value
// when the request carried no token, the claims the rules see, instead of
// the unverified bearer token's.
func (v *view) useVerified(payload gjson.Result) {
	v.claims, v.claimDone = claims{payload: payload, ok: payload.IsObject()}, true
}

// Claims is the payload of the request's bearer token.
func (v *view) Claims() claims {
	if !v.claimDone {
		v.claims, v.claimDone = bearerClaims(v.req.Source().RequestHeaderValues("authorization")), true
	}
	return v.claims
}

// applies reports whether rule r decides the request: an allow rule only
// when the request certainly matches, a deny or remote rule when it
// possibly does.
func (r *rule) applies(v *view) bool {
	var hit bool
	if r.action == ActionAllow {
		hit = r.when.Certainly(v.req)
	} else {
		hit = r.when.Possibly(v.req)
	}
	if !hit {
		return false
	}
	for _, c := range r.claims {
		if !c.match(v) {
			return false
		}
	}
	return true
}

// compileRule compiles a rule's conditions; errors are relative to the rule.
func compileRule(r Rule) (*match.Matcher, []*claim, error) {
	when, err := match.Compile(r.Match)
	if err != nil {
		return nil, nil, conf.Within("match", err)
	}
	var claims []*claim
	for i, c := range r.Claims {
		cm, err := compileClaim(c)
		if err != nil {
			return nil, nil, conf.Within("claims"+conf.Index(i), err)
		}
		claims = append(claims, cm)
	}
	return when, claims, nil
}
