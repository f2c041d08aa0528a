// Command ratelimitfail is the ratelimit package's test plugin for shared
// data that fails: the rate-limit filter, configured from JSON, over the
// always-failing store of package failing.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testdata/ratelimitfail/failing"
)

func main() {}

func init() { policy.Serve(failing.Plugin()) }
