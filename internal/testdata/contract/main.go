// Command contract is a plugin of filters written as a user of the library
// writes them (see package contract), for the tests of the filter contract.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testdata/contract/contract"
)

func main() {}

func init() { policy.Serve(contract.Plugin()) }
