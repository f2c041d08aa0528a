// Command ratelimit is the token-bucket rate limit as a ready plugin image.
// Its chain comes entirely from the plugin configuration, which may name
// the "ratelimit" filter; config.json reproduces the Istio Wasm tutorial:
// 2 requests per second for everyone, counted across all of the proxy's
// worker VMs, so the third request within a second is denied with 429.
//
// Build it with `make build/ratelimit.wasm`.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/ratelimit"
)

// A -buildmode=c-shared module never runs main; Envoy calls _initialize,
// which runs init.
func main() {}

func init() { policy.Serve(policy.Configured(ratelimit.Kind)) }
