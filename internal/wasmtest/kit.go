package wasmtest

import (
	"testing"

	"github.com/wasmpolicy/policy/policytest"
)

// Plugin starts build/<image>.wasm with the plugin configuration config in
// the public test kit's proxy-wasm host (package policytest), which runs it
// as Envoy does where the SDK's emulator does not: added header values
// stay separate entries, a local reply goes through the response phases,
// several worker VMs share one shared-data store, and the clock is the
// test's. A missing image fails the test with the command that builds it.
func Plugin(t testing.TB, image, config string, opts ...policytest.Option) *policytest.Plugin {
	t.Helper()
	return policytest.Start(t, Image(t, image), config, opts...)
}
