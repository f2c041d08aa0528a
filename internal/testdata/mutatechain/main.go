// Command mutatechain is the test plugin of the headermutate and bodymutate
// packages: header and body rewrites next to the dispatcher's test filters
// (to deny requests, publish claims) and probes (to show headers as the
// chain holds them).
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/bodymutate"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/testdata/mutatechain/probe"
	"github.com/wasmpolicy/policy/internal/testfilters"
)

func main() {}

func init() {
	policy.Serve(policy.Configured(headermutate.Kind, bodymutate.Kind, testfilters.Kind, probe.Kind))
}
