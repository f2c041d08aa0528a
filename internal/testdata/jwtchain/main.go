// Command jwtchain is the test plugin for package authz/jwt: the jwt
// verifier and the authz rules, configured from JSON, so that rules on
// claims see verified tokens.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/authz/jwt"
)

func main() {}

func init() { policy.Serve(policy.Configured(jwt.Kind, authz.Kind)) }
