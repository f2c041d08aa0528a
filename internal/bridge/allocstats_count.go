//go:build wasip1 && policy_allocstats && !gc.custom

package bridge

import "runtime"

// allocCount is runtime.MemStats.Mallocs: heap objects allocated so far,
// which every collector but nottinygc counts (allocstats.go).
//
//go:wasmexport policy_alloc_count
func allocCount() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}
