// Command mutatechain is the headermutate package's test plugin: header
// mutation next to the dispatcher's test filters (to deny requests) and
// probes (to show headers as the chain holds them).
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/testdata/mutatechain/probe"
	"github.com/wasmpolicy/policy/internal/testfilters"
)

func main() {}

func init() { policy.Serve(policy.Configured(headermutate.Kind, testfilters.Kind, probe.Kind)) }
