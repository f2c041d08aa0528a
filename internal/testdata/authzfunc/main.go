// Command authzfunc is the test plugin for authz's Go API: a chain built in
// Go from authz.Func predicates and a typed authz.Config (see package chain).
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testdata/authzfunc/chain"
)

func main() {}

func init() { policy.Serve(chain.Plugin()) }
