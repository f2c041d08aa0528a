// Command tutoriallib is the library doing what the tutorial's plugin
// (internal/testdata/tutorial) does: a rate limit and two response headers,
// with only those two filter kinds linked in. The benchmark configures it
// both proxy-wide and per worker.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/ratelimit"
)

// A -buildmode=c-shared module never runs main; Envoy calls _initialize,
// which runs init.
func main() {}

func init() { policy.Serve(policy.Configured(ratelimit.Kind, headermutate.Kind)) }
