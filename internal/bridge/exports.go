//go:build wasip1 && !tinygo

package bridge

import (
	_ "unsafe" // for go:linkname

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// The SDK implements each callback as an unexported function of its internal
// package, marked with TinyGo's //export. Upstream Go ignores that marker, so
// each one is reached with go:linkname and exported here with
// go:wasmexport. Wasm has no 64-bit int or bool in these signatures: Go's int
// is 64 bits on wasm, so every value crosses the boundary as uint32.

func fromBool(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

//go:wasmexport proxy_abi_version_0_2_0
func abiVersion() {}

//go:linkname sdkOnVMStart github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnVMStart
func sdkOnVMStart(rootContextID uint32, vmConfigurationSize int) types.OnVMStartStatus

//go:wasmexport proxy_on_vm_start
func onVMStart(rootContextID, vmConfigurationSize uint32) uint32 {
	return fromBool(bool(sdkOnVMStart(rootContextID, int(vmConfigurationSize))))
}

//go:linkname sdkOnConfigure github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnConfigure
func sdkOnConfigure(pluginContextID uint32, pluginConfigurationSize int) types.OnPluginStartStatus

//go:wasmexport proxy_on_configure
func onConfigure(pluginContextID, pluginConfigurationSize uint32) uint32 {
	return fromBool(bool(sdkOnConfigure(pluginContextID, int(pluginConfigurationSize))))
}

//go:linkname sdkOnContextCreate github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnContextCreate
func sdkOnContextCreate(contextID, parentContextID uint32)

//go:wasmexport proxy_on_context_create
func onContextCreate(contextID, parentContextID uint32) {
	sdkOnContextCreate(contextID, parentContextID)
}

//go:linkname sdkOnLog github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnLog
func sdkOnLog(contextID uint32)

//go:wasmexport proxy_on_log
func onLog(contextID uint32) { sdkOnLog(contextID) }

//go:linkname sdkOnDone github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnDone
func sdkOnDone(contextID uint32) bool

//go:wasmexport proxy_on_done
func onDone(contextID uint32) uint32 { return fromBool(sdkOnDone(contextID)) }

//go:linkname sdkOnDelete github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnDelete
func sdkOnDelete(contextID uint32)

//go:wasmexport proxy_on_delete
func onDelete(contextID uint32) { sdkOnDelete(contextID) }

//go:linkname sdkOnRequestHeaders github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnRequestHeaders
func sdkOnRequestHeaders(contextID uint32, numHeaders int, endOfStream bool) types.Action

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(contextID, numHeaders, endOfStream uint32) uint32 {
	return uint32(sdkOnRequestHeaders(contextID, int(numHeaders), endOfStream != 0))
}

//go:linkname sdkOnRequestBody github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnRequestBody
func sdkOnRequestBody(contextID uint32, bodySize int, endOfStream bool) types.Action

//go:wasmexport proxy_on_request_body
func onRequestBody(contextID, bodySize, endOfStream uint32) uint32 {
	return uint32(sdkOnRequestBody(contextID, int(bodySize), endOfStream != 0))
}

//go:linkname sdkOnRequestTrailers github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnRequestTrailers
func sdkOnRequestTrailers(contextID uint32, numTrailers int) types.Action

//go:wasmexport proxy_on_request_trailers
func onRequestTrailers(contextID, numTrailers uint32) uint32 {
	return uint32(sdkOnRequestTrailers(contextID, int(numTrailers)))
}

//go:linkname sdkOnResponseHeaders github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnResponseHeaders
func sdkOnResponseHeaders(contextID uint32, numHeaders int, endOfStream bool) types.Action

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(contextID, numHeaders, endOfStream uint32) uint32 {
	return uint32(sdkOnResponseHeaders(contextID, int(numHeaders), endOfStream != 0))
}

//go:linkname sdkOnResponseBody github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnResponseBody
func sdkOnResponseBody(contextID uint32, bodySize int, endOfStream bool) types.Action

//go:wasmexport proxy_on_response_body
func onResponseBody(contextID, bodySize, endOfStream uint32) uint32 {
	return uint32(sdkOnResponseBody(contextID, int(bodySize), endOfStream != 0))
}

//go:linkname sdkOnResponseTrailers github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnResponseTrailers
func sdkOnResponseTrailers(contextID uint32, numTrailers int) types.Action

//go:wasmexport proxy_on_response_trailers
func onResponseTrailers(contextID, numTrailers uint32) uint32 {
	return uint32(sdkOnResponseTrailers(contextID, int(numTrailers)))
}

//go:linkname sdkOnHttpCallResponse github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnHttpCallResponse
func sdkOnHttpCallResponse(pluginContextID, calloutID uint32, numHeaders, bodySize, numTrailers int)

//go:wasmexport proxy_on_http_call_response
func onHttpCallResponse(pluginContextID, calloutID, numHeaders, bodySize, numTrailers uint32) {
	sdkOnHttpCallResponse(pluginContextID, calloutID, int(numHeaders), int(bodySize), int(numTrailers))
}

//go:linkname sdkOnTick github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnTick
func sdkOnTick(pluginContextID uint32)

//go:wasmexport proxy_on_tick
func onTick(pluginContextID uint32) { sdkOnTick(pluginContextID) }

//go:linkname sdkOnQueueReady github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnQueueReady
func sdkOnQueueReady(pluginContextID, queueID uint32)

//go:wasmexport proxy_on_queue_ready
func onQueueReady(pluginContextID, queueID uint32) { sdkOnQueueReady(pluginContextID, queueID) }

//go:linkname sdkOnNewConnection github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnNewConnection
func sdkOnNewConnection(contextID uint32) types.Action

//go:wasmexport proxy_on_new_connection
func onNewConnection(contextID uint32) uint32 { return uint32(sdkOnNewConnection(contextID)) }

//go:linkname sdkOnDownstreamData github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnDownstreamData
func sdkOnDownstreamData(contextID uint32, dataSize int, endOfStream bool) types.Action

//go:wasmexport proxy_on_downstream_data
func onDownstreamData(contextID, dataSize, endOfStream uint32) uint32 {
	return uint32(sdkOnDownstreamData(contextID, int(dataSize), endOfStream != 0))
}

//go:linkname sdkOnDownstreamConnectionClose github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnDownstreamConnectionClose
func sdkOnDownstreamConnectionClose(contextID uint32, peer types.PeerType)

//go:wasmexport proxy_on_downstream_connection_close
func onDownstreamConnectionClose(contextID, peer uint32) {
	sdkOnDownstreamConnectionClose(contextID, types.PeerType(peer))
}

//go:linkname sdkOnUpstreamData github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnUpstreamData
func sdkOnUpstreamData(contextID uint32, dataSize int, endOfStream bool) types.Action

//go:wasmexport proxy_on_upstream_data
func onUpstreamData(contextID, dataSize, endOfStream uint32) uint32 {
	return uint32(sdkOnUpstreamData(contextID, int(dataSize), endOfStream != 0))
}

//go:linkname sdkOnUpstreamConnectionClose github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnUpstreamConnectionClose
func sdkOnUpstreamConnectionClose(contextID uint32, peer types.PeerType)

//go:wasmexport proxy_on_upstream_connection_close
func onUpstreamConnectionClose(contextID, peer uint32) {
	sdkOnUpstreamConnectionClose(contextID, types.PeerType(peer))
}
