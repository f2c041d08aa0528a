// Command chain is one plugin image with all five filters of the library
// linked in: ratelimit, headerauth, headermutate, authz and metrics. Which
// of them run, in which order and how, is entirely its plugin
// configuration's choice; config.json reproduces Istio's Wasm rate-limiting
// tutorial (see README.md).
//
// Build it with `make build/chain.wasm`.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/ratelimit"
)

// A -buildmode=c-shared module never runs main; Envoy calls _initialize,
// which runs init.
func main() {}

func init() { policy.Serve(Plugin()) }

// Plugin is the chain plugin before it is served, for tests.
func Plugin() *policy.Plugin {
	return policy.Configured(ratelimit.Kind, headerauth.Kind, headermutate.Kind, authz.Kind, metrics.Kind)
}
