//go:build wasip1 && !tinygo

package bridge

import (
	"encoding/binary"
	"unsafe"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// The host calls a request makes, without the SDK's wrappers. Each wrapper
// passes the addresses of its own result variables through the SDK's host
// interface, and under upstream Go that makes every one of them escape to
// the heap: two or three allocations per call, on every request. These
// functions use the global result slots of ret instead, and hand back the
// data where the host put it.

// HeaderMap reads header map mt into dst[:0] and returns it. The names and
// values point into the one buffer the host filled; it was allocated for
// this call and is never reused, so they stay valid as long as they are
// referenced.
func HeaderMap(mt MapType, dst [][2]string) ([][2]string, error) {
	st := proxyGetHeaderMapPairs(uint32(mt), slot(&ret.ptr), slot(&ret.size))
	data := returnedBytes()
	if err := statusError(st); err != nil {
		return dst[:0], err
	}
	return decodeMap(data, dst[:0])
}

// HeaderValue reads the first value of header name from map mt. The value
// points into a buffer allocated for this call.
func HeaderValue(mt MapType, name string) (string, error) {
	st := proxyGetHeaderMapValue(uint32(mt), unsafe.Pointer(unsafe.StringData(name)), uint32(len(name)), slot(&ret.ptr), slot(&ret.size))
	data := returnedBytes()
	if err := statusError(st); err != nil {
		return "", err
	}
	return unsafe.String(unsafe.SliceData(data), len(data)), nil
}

// pathBuf holds the serialized path of the property being read: the host
// reads it only during the call, so one buffer serves every call.
var pathBuf []byte

// Property reads the property at path. The value is in a buffer allocated
// for this call.
func Property(path []string) ([]byte, error) {
	st := getProperty(path)
	data := returnedBytes()
	if err := statusError(st); err != nil {
		return nil, err
	}
	return data, nil
}

// small is where the host writes a result of a few bytes that the caller
// decodes at once (Uint64Property): onMemoryAllocate hands it out, instead
// of allocating, while armed is set. It is a global, so its address never
// changes while the host writes into it.
var small struct {
	buf   [16]byte
	armed bool
}

// Uint64Property reads a property that is an 8-byte little-endian integer
// (Envoy's request.time, for one) without allocating. ok is false when the
// proxy does not have it or it is not 8 bytes long.
func Uint64Property(path []string) (v uint64, ok bool) {
	small.armed = true
	st := getProperty(path)
	small.armed = false
	if ret.ptr == uint32(uintptr(unsafe.Pointer(&small.buf[0]))) {
		ok = st == 0 && ret.size == 8
		if ok {
			v = binary.LittleEndian.Uint64(small.buf[:8])
		}
		ret.ptr, ret.size = 0, 0
		clear(pending) // nothing was allocated; keep the invariant anyway
		pending = pending[:0]
		return v, ok
	}
	data := returnedBytes() // the host asked for more than small holds
	if st != 0 || len(data) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(data), true
}

func getProperty(path []string) uint32 {
	pathBuf = appendPath(pathBuf[:0], path)
	var p unsafe.Pointer
	if len(pathBuf) > 0 {
		p = unsafe.Pointer(&pathBuf[0])
	}
	return proxyGetProperty(p, uint32(len(pathBuf)), slot(&ret.ptr), slot(&ret.size))
}

// SharedData reads the value and CAS token of key from the proxy's shared
// data. The value is in a buffer allocated for this call.
func SharedData(key string) ([]byte, uint32, error) {
	ret.id = 0
	st := proxyGetSharedData(unsafe.Pointer(unsafe.StringData(key)), uint32(len(key)), slot(&ret.ptr), slot(&ret.size), slot(&ret.id))
	data := returnedBytes()
	if err := statusError(st); err != nil {
		return nil, 0, err
	}
	return data, ret.id, nil
}

// returnedBytes is the data the host wrote into ret.ptr and ret.size, and
// resets them.
func returnedBytes() []byte {
	p, n := take(ret.ptr, ret.size)
	ret.ptr, ret.size = 0, 0
	if p == nil {
		return nil
	}
	return unsafe.Slice(p, n)
}

// statusError is the SDK's error for a host status, so that callers test
// errors the same way whichever path made the call.
func statusError(st uint32) error {
	switch st {
	case 0:
		return nil
	case 1:
		return types.ErrorStatusNotFound
	case 2:
		return types.ErrorStatusBadArgument
	case 7:
		return types.ErrorStatusEmpty
	case 8:
		return types.ErrorStatusCasMismatch
	case 10:
		return types.ErrorInternalFailure
	case 12:
		return types.ErrorUnimplemented
	}
	return types.ErrorInternalFailure
}

// PropertyString is Property as a string, which points into the buffer the
// host filled.
func PropertyString(path []string) (string, error) {
	data, err := Property(path)
	return unsafe.String(unsafe.SliceData(data), len(data)), err
}

// DefineMetric defines a metric of the ABI's type mt (0 counter, 1 gauge,
// 2 histogram) and returns its id. The SDK's DefineCounterMetric and its
// siblings format their panic message with fmt, which is otherwise not
// linked into a plugin.
func DefineMetric(mt uint32, name string) (uint32, error) {
	st := proxyDefineMetric(mt, unsafe.Pointer(unsafe.StringData(name)), uint32(len(name)), slot(&ret.id))
	return ret.id, statusError(st)
}

// IncrementMetric adds delta to the counter or gauge id, and RecordMetric
// records v into the histogram id: as DefineMetric, without the SDK's
// wrappers, which panic with a message formatted by fmt.
func IncrementMetric(id uint32, delta int64) error {
	return statusError(proxyIncrementMetric(id, delta))
}

// RecordMetric records v into the histogram id.
func RecordMetric(id uint32, v uint64) error { return statusError(proxyRecordMetric(id, v)) }
