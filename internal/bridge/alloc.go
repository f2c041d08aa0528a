//go:build wasip1 && !tinygo

package bridge

import "unsafe"

// The host returns data to the guest by calling proxy_on_memory_allocate,
// copying into the buffer, and writing the buffer's address into a slot the
// guest passed. Between the allocation and the guest reading that address
// back, nothing in Go refers to the buffer, so the garbage collector could
// free it: pending holds it until then. Every host call that returns data
// takes its buffer out and drops the rest, so pending never outlives one host
// call and memory does not grow with the number of calls.
//
// A caller that decodes a small result at once (Uint64Property) arms the
// global buffer small instead, and no allocation is made.
var pending [][]byte

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(size uint32) uint32 {
	if small.armed && size <= uint32(len(small.buf)) {
		small.armed = false
		return uint32(uintptr(unsafe.Pointer(&small.buf[0])))
	}
	if size == 0 {
		size = 1
	}
	buf := make([]byte, size) // escapes into pending, so it is on the heap
	pending = append(pending, buf)
	return uint32(uintptr(unsafe.Pointer(&buf[0])))
}

// take returns the pending buffer at address ptr as the SDK expects it, and
// releases every pending buffer.
func take(ptr, size uint32) (*byte, int) {
	var data *byte
	for i, buf := range pending {
		if uint32(uintptr(unsafe.Pointer(&buf[0]))) == ptr && int(size) <= len(buf) {
			data = &buf[0]
		}
		pending[i] = nil
	}
	pending = pending[:0]
	if size == 0 || data == nil {
		return nil, 0
	}
	return data, int(size)
}
