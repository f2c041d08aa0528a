// Command headermutate is a plugin that adds, sets and removes request and
// response headers, as its plugin configuration says (see config.json).
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
)

func main() {}

func init() { policy.Serve(policy.Configured(headermutate.Kind)) }
