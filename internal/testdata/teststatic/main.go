// Command teststatic is a test plugin whose chain is built in Go.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testfilters"
)

func main() {}

func init() { policy.Serve(testfilters.Static()) }
