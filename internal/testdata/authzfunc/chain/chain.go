// Package chain builds the authzfunc test plugin, so the tests can run the
// same chain natively and compiled.
package chain

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/match"
)

// Plugin returns a fresh plugin whose chain is, in order:
//
//   - "apikey", a Go predicate: DELETE gets 405 with its own body, a request
//     without x-api-key gets 401 with www-authenticate;
//   - "typed", a typed Config: /internal/ paths only from 10.0.0.0/8, others
//     get 404 "not found";
//   - "boom", a predicate that panics when x-panic is present;
//   - "experiment", a predicate in shadow mode that would deny x-experiment:
//     block with 418.
func Plugin() *policy.Plugin {
	apiKey := authz.Func(func(x *policy.Exchange) authz.Decision {
		if x.Method() == "DELETE" {
			return authz.Deny(405, "deletes are disabled").WithBody("use POST /archive instead\n")
		}
		if _, ok := x.RequestHeader("x-api-key"); !ok {
			return authz.DenyWith(401, "no API key", [][2]string{{"www-authenticate", `ApiKey realm="test"`}})
		}
		return authz.Allow()
	})
	apiKey.ID = "apikey"

	typed := authz.Filter(authz.Config{
		Rules: []authz.Rule{
			{Name: "internal-from-mesh", Action: authz.ActionAllow, Match: match.Match{
				Path: match.Path{Prefix: "/internal/"}, SourceIPs: []string{"10.0.0.0/8"}}},
			{Name: "internal", Action: authz.ActionDeny, Match: match.Match{
				Path: match.Path{Prefix: "/internal/"}}},
		},
		Default: authz.ActionAllow,
		Deny:    policy.DenyResponse{Status: 404, Body: "not found\n"},
	})
	typed.ID = "typed"

	boom := authz.Func(func(x *policy.Exchange) authz.Decision {
		if _, ok := x.RequestHeader("x-panic"); ok {
			panic("boom")
		}
		return authz.Allow()
	})
	boom.ID = "boom"

	experiment := authz.Func(func(x *policy.Exchange) authz.Decision {
		if v, _ := x.RequestHeader("x-experiment"); v == "block" {
			return authz.Deny(418, "experiment blocks it")
		}
		return authz.Allow()
	})
	experiment.ID, experiment.Mode = "experiment", policy.Shadow

	return policy.Static(apiKey, typed, boom, experiment)
}
