package bridge

import (
	"encoding/binary"
	"unsafe"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// MapType is a header map of the ABI.
type MapType uint32

// The header maps the request path reads.
const (
	RequestHeaders  MapType = 0
	ResponseHeaders MapType = 2
)

// appendPath appends path serialized as the ABI wants a property path: the
// segments separated by NUL bytes.
func appendPath(dst []byte, path []string) []byte {
	for i, seg := range path {
		if i > 0 {
			dst = append(dst, 0)
		}
		dst = append(dst, seg...)
	}
	return dst
}

// decodeMap appends the pairs of a serialized header map to dst. The ABI's
// layout is a count, then a name size and a value size per pair, then each
// name and value followed by a NUL byte. The strings point into data. A map
// that does not fit in data is an error, not a panic: the bytes come from
// the host.
func decodeMap(data []byte, dst [][2]string) ([][2]string, error) {
	if len(data) == 0 {
		return dst, nil
	}
	if len(data) < 4 {
		return dst, types.ErrorInternalFailure
	}
	n := int(binary.LittleEndian.Uint32(data))
	sizes := 4
	at := 4 + 8*n
	if n < 0 || n > len(data)/8 || at > len(data) {
		return dst, types.ErrorInternalFailure
	}
	for i := 0; i < n; i++ {
		var kv [2]string
		for j := range kv {
			size := int(binary.LittleEndian.Uint32(data[sizes:]))
			sizes += 4
			if size < 0 || size >= len(data)-at {
				return dst, types.ErrorInternalFailure
			}
			kv[j] = unsafe.String(&data[at], size)
			at += size + 1
		}
		dst = append(dst, kv)
	}
	return dst, nil
}

// ReadOnly returns the bytes of s without a copy, for a call that only
// reads them (the host copies what it is given): they must not be
// changed.
func ReadOnly(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
