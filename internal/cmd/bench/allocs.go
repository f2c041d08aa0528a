package main

// allocStats is one plugin's Go heap allocations per request in wasm, as
// the Go runtime counts them (runtime.MemStats Mallocs and TotalAlloc).
type allocStats struct {
	mallocs, bytes float64
}
