//go:build wasip1 && policy_allocstats

package bridge

import "runtime"

// The heap's allocation counters, exported for the benchmark
// (internal/cmd/bench), which builds a variant of each image with the
// policy_allocstats tag and reads them before and after a run of requests:
// the difference is what the requests allocated in wasm, which neither the
// host nor a native benchmark can see. Images built without the tag do not
// have these exports.
//
// runtime.ReadMemStats is the collector's: upstream Go's and TinyGo's own
// count bytes and allocations; nottinygc (TinyGo's -gc=custom) fills
// TotalAlloc, the bytes it handed out, but not Mallocs, so the count is
// exported only where it is kept (allocstats_count.go) and the bench
// reports it as not available for nottinygc.

// allocBytes is runtime.MemStats.TotalAlloc: bytes allocated so far.
//
//go:wasmexport policy_alloc_bytes
func allocBytes() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}
