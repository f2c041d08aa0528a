// Command headerauth is the allow-header check as a ready plugin image.
// Its chain comes entirely from the plugin configuration, which may name
// the "headerauth" filter; config.json reproduces the managed-mesh tutorial:
// a request without "allow: true" gets 403 and a short body.
//
// Build it with `make build/headerauth.wasm`.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headerauth"
)

// A -buildmode=c-shared module never runs main; Envoy calls _initialize,
// which runs init.
func main() {}

func init() { policy.Serve(policy.Configured(headerauth.Kind)) }
