// Command authz is a ready plugin image that authorizes requests with
// declarative rules and, optionally, a remote authorization service, all
// configured through pluginConfig. config.json is an example configuration;
// README.md shows the requests it allows and denies.
//
// Build it with `make build/authz.wasm`.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
)

// main is never called: the module is a reactor built with
// -buildmode=c-shared, and the proxy calls the plugin through its exports.
func main() {}

func init() { policy.Serve(policy.Configured(authz.Kind)) }
