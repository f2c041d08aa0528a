//go:build wasip1 && !tinygo

package random

import "syscall"

// Read fills b with random bytes from WASI random_get, which proxy-wasm
// hosts back with their operating system's generator.
func Read(b []byte) error { return syscall.RandomGet(b) }
