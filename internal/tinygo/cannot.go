// Package tinygo is what the tests know of TinyGo builds: whether the
// images under test are TinyGo's, and the one list of tests those images
// cannot pass, with the reason. install.sh, beside it, installs the TinyGo
// the Makefile builds with.
package tinygo

import (
	"os"
	"testing"
)

// Images reports whether the images under test were built with TinyGo:
// `make test TOOLCHAIN=tinygo` sets POLICY_TOOLCHAIN=tinygo beside
// POLICY_BUILD_DIR=build/tinygo.
func Images() bool { return os.Getenv("POLICY_TOOLCHAIN") == "tinygo" }

// Collector is the collector TinyGo's images were built with, the
// Makefile's TINYGO_GC (POLICY_TINYGO_GC): nottinygc, or TinyGo's own
// precise, conservative or leaking.
func Collector() string { return os.Getenv("POLICY_TINYGO_GC") }

// Why TinyGo images cannot pass a test.
const (
	// TinyGo does not implement recover: a panic traps the VM, and every
	// request in flight on it fails (in Envoy, as the plugin's fail_open
	// decides; the VM is then reloaded).
	cannotRecover = "TinyGo cannot recover from a panic: the panic traps the VM instead of failing one request"
	// The SDK's TinyGo allocator returns &buf[0] of a buffer of the asked
	// size, so a 0-byte allocation traps. Envoy never asks for one: it copies
	// nothing for empty data.
	zeroAllocation = "under TinyGo the SDK's proxy_on_memory_allocate traps on a 0-byte allocation, which Envoy never asks for"
)

// cannot is every test the TinyGo images cannot pass, by its full
// name, with the reason. It is the one list: a test in it calls
// SkipIfCannot where the part TinyGo cannot do begins, and that is
// skipped only for TinyGo images, never natively nor for upstream Go images.
var cannot = map[string]string{
	"TestChainPauseResume/wasm/a_panic_in_the_callback_fails_closed":                                 cannotRecover,
	"TestChainPanicRecovery/wasm":                                                                    cannotRecover,
	"TestPanicsOutsideRequests/wasm":                                                                 cannotRecover,
	"TestGoAPI/wasm/panicking_predicate_fails_closed":                                                cannotRecover,
	"TestCountersAfterTraffic/wasm/a_panic_is_an_error,_answered_with_500":                           cannotRecover,
	"TestCountersAfterTraffic/wasm/a_panic_in_shadow_mode_is_an_error_that_lets_the_request_through": cannotRecover,
	"TestRunnerThroughTestchain/panicking_filter":                                                    cannotRecover,
	"TestDispatcherThroughHost/panicking_filter":                                                     cannotRecover,
	"TestProbeMemory/zero_bytes":                                                                     zeroAllocation,
}

// SkipIfCannot skips t when the images are TinyGo's and t is in
// tinyGoCannot, with the reason the list gives.
func SkipIfCannot(t testing.TB) {
	t.Helper()
	if !Images() {
		return
	}
	if why, ok := cannot[t.Name()]; ok {
		t.Skip(why)
	}
}
