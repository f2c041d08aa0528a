// Command probe is a test-only plugin that exercises every host call and
// callback of the upstream-Go bridge; see package probe. It uses the SDK
// directly, so it imports the bridge itself (plugins built on the policy
// package get it through that package).
package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	_ "github.com/wasmpolicy/policy/internal/bridge"
	"github.com/wasmpolicy/policy/internal/testdata/probe/probe"
)

func main() {}

func init() { proxywasm.SetVMContext(probe.New()) }
