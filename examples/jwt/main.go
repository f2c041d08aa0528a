// Command jwt is a ready plugin image that verifies the requests' JWTs
// (package authz/jwt) and authorizes them with rules on the verified
// claims (package authz), configured through pluginConfig. config.json is
// an example configuration; README.md shows the requests it allows and
// denies.
//
// Build it with `make build/jwt.wasm`.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/authz/jwt"
)

// main is never called: the module is a reactor built with
// -buildmode=c-shared, and the proxy calls the plugin through its exports.
func main() {}

func init() { policy.Serve(policy.Configured(jwt.Kind, authz.Kind)) }
