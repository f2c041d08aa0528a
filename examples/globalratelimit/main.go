// Command globalratelimit is the fleet-wide rate limit as a ready plugin
// image: the ratelimit filter checking each request with Envoy's global rate
// limit service (github.com/envoyproxy/ratelimit, backed by Redis), so that
// one limit holds across every proxy that asks the same service.
// config.json limits each client, named by its x-client header; the limit
// itself (3 a minute) is in the service's configuration, ratelimit.yaml.
//
// Build it with `make build/globalratelimit.wasm`.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/ratelimit"
)

// A -buildmode=c-shared module never runs main; Envoy calls _initialize,
// which runs init.
func main() {}

func init() { policy.Serve(policy.Configured(ratelimit.Kind)) }
