// Command testchain is the dispatcher's test plugin: a chain of configurable
// test filters, built from the plugin configuration. config.json beside it
// is a chain with a step of every kind, which the tests of the hosts that
// run this image (internal/host, policyrun) share.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testfilters"
)

func main() {}

func init() { policy.Serve(policy.Configured(testfilters.Kind)) }
