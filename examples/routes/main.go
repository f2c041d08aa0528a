// Command routes is a plugin image with two filters linked in, headerauth
// and ratelimit, whose configuration runs each on one Envoy route only: an
// API key check on the route "api" and a tight rate limit on the route
// "login" (see README.md).
//
// Build it with `make build/routes.wasm`.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/ratelimit"
)

// A -buildmode=c-shared module never runs main; Envoy calls _initialize,
// which runs init.
func main() {}

func init() { policy.Serve(Plugin()) }

// Plugin is the plugin before it is served, for tests.
func Plugin() *policy.Plugin {
	return policy.Configured(headerauth.Kind, ratelimit.Kind)
}
