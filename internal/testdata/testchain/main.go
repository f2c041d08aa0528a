// Command testchain is the dispatcher's test plugin: a chain of configurable
// test filters, built from the plugin configuration.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testfilters"
)

func main() {}

func init() { policy.Serve(policy.Configured(testfilters.Kind)) }
