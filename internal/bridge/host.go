//go:build wasip1 && !tinygo

package bridge

import (
	"unsafe"

	_ "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm" // links the SDK's internal package
)

// hostABI has the method set of the SDK's internal ProxyWasmHost interface:
// the same names and argument layouts, with the SDK's uint32 enum types
// (LogLevel, MapType, BufferType, StreamType, MetricType, Status) spelled as
// uint32. Under upstream Go the SDK routes every host call through the value
// registered with RegisterMockWasmHost; an interface's method table is ordered
// by method name, so a wasmHost behind this interface serves the SDK's calls.
type hostABI interface {
	ProxyLog(logLevel uint32, messageData *byte, messageSize int) uint32
	ProxySetProperty(pathData *byte, pathSize int, valueData *byte, valueSize int) uint32
	ProxyGetProperty(pathData *byte, pathSize int, returnValueData **byte, returnValueSize *int) uint32
	ProxySendLocalResponse(statusCode uint32, statusCodeDetailData *byte, statusCodeDetailsSize int, bodyData *byte, bodySize int, headersData *byte, headersSize int, grpcStatus int32) uint32
	ProxyGetSharedData(keyData *byte, keySize int, returnValueData **byte, returnValueSize *int, returnCas *uint32) uint32
	ProxySetSharedData(keyData *byte, keySize int, valueData *byte, valueSize int, cas uint32) uint32
	ProxyRegisterSharedQueue(nameData *byte, nameSize int, returnID *uint32) uint32
	ProxyResolveSharedQueue(vmIDData *byte, vmIDSize int, nameData *byte, nameSize int, returnID *uint32) uint32
	ProxyDequeueSharedQueue(queueID uint32, returnValueData **byte, returnValueSize *int) uint32
	ProxyEnqueueSharedQueue(queueID uint32, valueData *byte, valueSize int) uint32
	ProxyGetHeaderMapValue(mapType uint32, keyData *byte, keySize int, returnValueData **byte, returnValueSize *int) uint32
	ProxyAddHeaderMapValue(mapType uint32, keyData *byte, keySize int, valueData *byte, valueSize int) uint32
	ProxyReplaceHeaderMapValue(mapType uint32, keyData *byte, keySize int, valueData *byte, valueSize int) uint32
	ProxyContinueStream(streamType uint32) uint32
	ProxyCloseStream(streamType uint32) uint32
	ProxyRemoveHeaderMapValue(mapType uint32, keyData *byte, keySize int) uint32
	ProxyGetHeaderMapPairs(mapType uint32, returnValueData **byte, returnValueSize *int) uint32
	ProxySetHeaderMapPairs(mapType uint32, mapData *byte, mapSize int) uint32
	ProxyGetBufferBytes(bufferType uint32, start int, maxSize int, returnBufferData **byte, returnBufferSize *int) uint32
	ProxySetBufferBytes(bufferType uint32, start int, maxSize int, bufferData *byte, bufferSize int) uint32
	ProxyHttpCall(upstreamData *byte, upstreamSize int, headerData *byte, headerSize int, bodyData *byte, bodySize int, trailersData *byte, trailersSize int, timeout uint32, calloutIDPtr *uint32) uint32
	ProxyCallForeignFunction(funcNamePtr *byte, funcNameSize int, paramPtr *byte, paramSize int, returnData **byte, returnSize *int) uint32
	ProxySetTickPeriodMilliseconds(period uint32) uint32
	ProxySetEffectiveContext(contextID uint32) uint32
	ProxyDone() uint32
	ProxyDefineMetric(metricType uint32, metricNameData *byte, metricNameSize int, returnMetricIDPtr *uint32) uint32
	ProxyIncrementMetric(metricID uint32, offset int64) uint32
	ProxyRecordMetric(metricID uint32, value uint64) uint32
	ProxyGetMetric(metricID uint32, returnMetricValue *uint64) uint32
}

//go:linkname registerHost github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.RegisterMockWasmHost
func registerHost(host hostABI) (release func())

// keepMethods is never true. The SDK calls the host through its own interface
// type, which the linker does not connect to wasmHost's methods; calling each
// one through hostABI on a path the compiler cannot remove keeps them linked
// (without it: "fatal error: unreachable method called. linker bug?").
var keepMethods bool

func init() {
	var h hostABI = wasmHost{}
	registerHost(h)
	if keepMethods {
		callEveryMethod(h)
	}
}

// ret holds the slots the host writes results into. It is a global, not a
// local, so its address stays valid while the host runs, whatever the Go
// runtime does with goroutine stacks meanwhile. Calls never overlap: the VM
// is single-threaded and the host re-enters the guest during a call only to
// allocate.
var ret struct {
	value uint64
	ptr   uint32
	size  uint32
	id    uint32
}

func slot[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

// returned hands the data the host wrote into ret.ptr/ret.size to the SDK.
func returned(data **byte, size *int) {
	*data, *size = take(ret.ptr, ret.size)
	ret.ptr, ret.size = 0, 0
}

// wasmHost implements hostABI with the imported host functions.
type wasmHost struct{}

func (wasmHost) ProxyLog(level uint32, msg *byte, msgSize int) uint32 {
	return proxyLog(level, unsafe.Pointer(msg), uint32(msgSize))
}

func (wasmHost) ProxySetProperty(path *byte, pathSize int, value *byte, valueSize int) uint32 {
	return proxySetProperty(unsafe.Pointer(path), uint32(pathSize), unsafe.Pointer(value), uint32(valueSize))
}

func (wasmHost) ProxyGetProperty(path *byte, pathSize int, data **byte, size *int) uint32 {
	st := proxyGetProperty(unsafe.Pointer(path), uint32(pathSize), slot(&ret.ptr), slot(&ret.size))
	returned(data, size)
	return st
}

func (wasmHost) ProxySendLocalResponse(status uint32, details *byte, detailsSize int, body *byte, bodySize int, headers *byte, headersSize int, grpcStatus int32) uint32 {
	return proxySendLocalResponse(status, unsafe.Pointer(details), uint32(detailsSize),
		unsafe.Pointer(body), uint32(bodySize), unsafe.Pointer(headers), uint32(headersSize), uint32(grpcStatus))
}

func (wasmHost) ProxyGetSharedData(key *byte, keySize int, data **byte, size *int, cas *uint32) uint32 {
	ret.id = 0
	st := proxyGetSharedData(unsafe.Pointer(key), uint32(keySize), slot(&ret.ptr), slot(&ret.size), slot(&ret.id))
	returned(data, size)
	*cas = ret.id
	return st
}

func (wasmHost) ProxySetSharedData(key *byte, keySize int, value *byte, valueSize int, cas uint32) uint32 {
	return proxySetSharedData(unsafe.Pointer(key), uint32(keySize), unsafe.Pointer(value), uint32(valueSize), cas)
}

func (wasmHost) ProxyRegisterSharedQueue(name *byte, nameSize int, id *uint32) uint32 {
	st := proxyRegisterSharedQueue(unsafe.Pointer(name), uint32(nameSize), slot(&ret.id))
	*id = ret.id
	return st
}

func (wasmHost) ProxyResolveSharedQueue(vmID *byte, vmIDSize int, name *byte, nameSize int, id *uint32) uint32 {
	st := proxyResolveSharedQueue(unsafe.Pointer(vmID), uint32(vmIDSize), unsafe.Pointer(name), uint32(nameSize), slot(&ret.id))
	*id = ret.id
	return st
}

func (wasmHost) ProxyDequeueSharedQueue(queueID uint32, data **byte, size *int) uint32 {
	st := proxyDequeueSharedQueue(queueID, slot(&ret.ptr), slot(&ret.size))
	returned(data, size)
	return st
}

func (wasmHost) ProxyEnqueueSharedQueue(queueID uint32, value *byte, valueSize int) uint32 {
	return proxyEnqueueSharedQueue(queueID, unsafe.Pointer(value), uint32(valueSize))
}

func (wasmHost) ProxyGetHeaderMapValue(mapType uint32, key *byte, keySize int, data **byte, size *int) uint32 {
	st := proxyGetHeaderMapValue(mapType, unsafe.Pointer(key), uint32(keySize), slot(&ret.ptr), slot(&ret.size))
	returned(data, size)
	return st
}

func (wasmHost) ProxyAddHeaderMapValue(mapType uint32, key *byte, keySize int, value *byte, valueSize int) uint32 {
	return proxyAddHeaderMapValue(mapType, unsafe.Pointer(key), uint32(keySize), unsafe.Pointer(value), uint32(valueSize))
}

func (wasmHost) ProxyReplaceHeaderMapValue(mapType uint32, key *byte, keySize int, value *byte, valueSize int) uint32 {
	return proxyReplaceHeaderMapValue(mapType, unsafe.Pointer(key), uint32(keySize), unsafe.Pointer(value), uint32(valueSize))
}

func (wasmHost) ProxyContinueStream(streamType uint32) uint32 { return proxyContinueStream(streamType) }

func (wasmHost) ProxyCloseStream(streamType uint32) uint32 { return proxyCloseStream(streamType) }

func (wasmHost) ProxyRemoveHeaderMapValue(mapType uint32, key *byte, keySize int) uint32 {
	return proxyRemoveHeaderMapValue(mapType, unsafe.Pointer(key), uint32(keySize))
}

func (wasmHost) ProxyGetHeaderMapPairs(mapType uint32, data **byte, size *int) uint32 {
	st := proxyGetHeaderMapPairs(mapType, slot(&ret.ptr), slot(&ret.size))
	returned(data, size)
	return st
}

func (wasmHost) ProxySetHeaderMapPairs(mapType uint32, data *byte, size int) uint32 {
	return proxySetHeaderMapPairs(mapType, unsafe.Pointer(data), uint32(size))
}

func (wasmHost) ProxyGetBufferBytes(bufferType uint32, start, maxSize int, data **byte, size *int) uint32 {
	st := proxyGetBufferBytes(bufferType, uint32(start), uint32(maxSize), slot(&ret.ptr), slot(&ret.size))
	returned(data, size)
	return st
}

func (wasmHost) ProxySetBufferBytes(bufferType uint32, start, maxSize int, data *byte, size int) uint32 {
	return proxySetBufferBytes(bufferType, uint32(start), uint32(maxSize), unsafe.Pointer(data), uint32(size))
}

func (wasmHost) ProxyHttpCall(upstream *byte, upstreamSize int, headers *byte, headersSize int, body *byte, bodySize int, trailers *byte, trailersSize int, timeout uint32, calloutID *uint32) uint32 {
	ret.id = 0
	st := proxyHttpCall(unsafe.Pointer(upstream), uint32(upstreamSize), unsafe.Pointer(headers), uint32(headersSize),
		unsafe.Pointer(body), uint32(bodySize), unsafe.Pointer(trailers), uint32(trailersSize), timeout, slot(&ret.id))
	*calloutID = ret.id
	return st
}

func (wasmHost) ProxyCallForeignFunction(name *byte, nameSize int, param *byte, paramSize int, data **byte, size *int) uint32 {
	st := proxyCallForeignFunction(unsafe.Pointer(name), uint32(nameSize), unsafe.Pointer(param), uint32(paramSize), slot(&ret.ptr), slot(&ret.size))
	returned(data, size)
	return st
}

func (wasmHost) ProxySetTickPeriodMilliseconds(period uint32) uint32 {
	return proxySetTickPeriodMilliseconds(period)
}

func (wasmHost) ProxySetEffectiveContext(contextID uint32) uint32 {
	return proxySetEffectiveContext(contextID)
}

func (wasmHost) ProxyDone() uint32 { return proxyDone() }

func (wasmHost) ProxyDefineMetric(metricType uint32, name *byte, nameSize int, id *uint32) uint32 {
	st := proxyDefineMetric(metricType, unsafe.Pointer(name), uint32(nameSize), slot(&ret.id))
	*id = ret.id
	return st
}

func (wasmHost) ProxyIncrementMetric(metricID uint32, offset int64) uint32 {
	return proxyIncrementMetric(metricID, offset)
}

func (wasmHost) ProxyRecordMetric(metricID uint32, value uint64) uint32 {
	return proxyRecordMetric(metricID, value)
}

func (wasmHost) ProxyGetMetric(metricID uint32, value *uint64) uint32 {
	st := proxyGetMetric(metricID, slot(&ret.value))
	*value = ret.value
	return st
}

// callEveryMethod is reached only when keepMethods is true (never); see
// keepMethods.
func callEveryMethod(h hostABI) {
	var b *byte
	var n int
	var u uint32
	var v uint64
	h.ProxyLog(0, nil, 0)
	h.ProxySetProperty(nil, 0, nil, 0)
	h.ProxyGetProperty(nil, 0, &b, &n)
	h.ProxySendLocalResponse(0, nil, 0, nil, 0, nil, 0, 0)
	h.ProxyGetSharedData(nil, 0, &b, &n, &u)
	h.ProxySetSharedData(nil, 0, nil, 0, 0)
	h.ProxyRegisterSharedQueue(nil, 0, &u)
	h.ProxyResolveSharedQueue(nil, 0, nil, 0, &u)
	h.ProxyDequeueSharedQueue(0, &b, &n)
	h.ProxyEnqueueSharedQueue(0, nil, 0)
	h.ProxyGetHeaderMapValue(0, nil, 0, &b, &n)
	h.ProxyAddHeaderMapValue(0, nil, 0, nil, 0)
	h.ProxyReplaceHeaderMapValue(0, nil, 0, nil, 0)
	h.ProxyContinueStream(0)
	h.ProxyCloseStream(0)
	h.ProxyRemoveHeaderMapValue(0, nil, 0)
	h.ProxyGetHeaderMapPairs(0, &b, &n)
	h.ProxySetHeaderMapPairs(0, nil, 0)
	h.ProxyGetBufferBytes(0, 0, 0, &b, &n)
	h.ProxySetBufferBytes(0, 0, 0, nil, 0)
	h.ProxyHttpCall(nil, 0, nil, 0, nil, 0, nil, 0, 0, &u)
	h.ProxyCallForeignFunction(nil, 0, nil, 0, &b, &n)
	h.ProxySetTickPeriodMilliseconds(0)
	h.ProxySetEffectiveContext(0)
	h.ProxyDone()
	h.ProxyDefineMetric(0, nil, 0, &u)
	h.ProxyIncrementMetric(0, 0)
	h.ProxyRecordMetric(0, 0)
	h.ProxyGetMetric(0, &v)
}
