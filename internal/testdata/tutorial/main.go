// Command tutorial is the rate-limiting plugin of Istio's Wasm tutorial
// written directly against the SDK (package tutorial), built the same way
// as the examples: the benchmark's hand-written peer of the library.
package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	_ "github.com/wasmpolicy/policy/internal/bridge"
	"github.com/wasmpolicy/policy/internal/testdata/tutorial/tutorial"
)

// A -buildmode=c-shared module never runs main; Envoy calls _initialize,
// which runs init.
func main() {}

func init() { proxywasm.SetVMContext(&tutorial.VM{}) }
