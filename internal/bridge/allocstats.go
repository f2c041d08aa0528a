//go:build wasip1 && !tinygo && policy_allocstats

package bridge

import "runtime"

// The Go heap's allocation counters, exported for the benchmark
// (internal/cmd/bench), which builds a variant of each image with the
// policy_allocstats tag and reads them before and after a run of requests:
// the difference is what the requests allocated in wasm, which neither the
// host nor a native benchmark can see. Images built without the tag do not
// have these exports.

// allocCount is runtime.MemStats.Mallocs: heap objects allocated so far.
//
//go:wasmexport policy_alloc_count
func allocCount() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// allocBytes is runtime.MemStats.TotalAlloc: bytes allocated so far.
//
//go:wasmexport policy_alloc_bytes
func allocBytes() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}
