// Command jsonbody is a ready plugin image that decides on and rewrites
// JSON bodies: an authz rule refuses requests by a field of their body,
// and a bodymutate filter stamps request bodies and strips internal fields
// from responses, all configured through pluginConfig. config.json is an
// example configuration; README.md shows the requests and what becomes of
// them.
//
// Build it with `make build/jsonbody.wasm`.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/bodymutate"
)

// main is never called: the module is a reactor built with
// -buildmode=c-shared, and the proxy calls the plugin through its exports.
func main() {}

func init() { policy.Serve(policy.Configured(authz.Kind, bodymutate.Kind)) }
