// Command llmbudget is a ready plugin image that limits the clients of an
// OpenAI-compatible API by the tokens they use rather than by requests: a
// token budget per API key and model, charged by the usage each response
// reports, streamed answers included. config.json is an example
// configuration; README.md shows a plain and a streamed exchange and what
// each costs.
//
// Build it with `make build/llmbudget.wasm`.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/ratelimit"
)

// main is never called: the module is a reactor built with
// -buildmode=c-shared, and the proxy calls the plugin through its exports.
func main() {}

func init() { policy.Serve(policy.Configured(ratelimit.Kind)) }
