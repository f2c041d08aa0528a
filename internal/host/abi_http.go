package host

import (
	"time"
)

// Header map types (proxy-wasm WasmHeaderMapType).
const (
	mapRequestHeaders   = 0
	mapRequestTrailers  = 1
	mapResponseHeaders  = 2
	mapResponseTrailers = 3
	mapCalloutHeaders   = 6
	mapCalloutTrailers  = 7
)

// headerMapOf returns the map the plugin names and its kind, or why it
// cannot have it: stream maps need a stream context (and response maps a
// response phase), callout maps exist while a callout's answer is being
// delivered.
func (vm *VM) headerMapOf(t uint64) (*headerMap, mapKind, status) {
	s := vm.cur
	switch t {
	case mapRequestHeaders, mapRequestTrailers, mapResponseHeaders, mapResponseTrailers:
		if s == nil || (t >= mapResponseHeaders && !s.respStarted) {
			return nil, 0, statusNotFound
		}
		m := [...]*headerMap{&s.reqHeaders, &s.reqTrailers, &s.respHeaders, &s.respTrailers}[t]
		return m, [...]mapKind{requestHeaderMap, requestTrailerMap, responseHeaderMap, responseTrailerMap}[t], statusOK
	case mapCalloutHeaders, mapCalloutTrailers:
		if vm.answer == nil {
			return nil, 0, statusNotFound
		}
		if t == mapCalloutTrailers {
			return (*headerMap)(&vm.answer.Trailers), responseTrailerMap, statusOK
		}
		return (*headerMap)(&vm.answer.Headers), responseHeaderMap, statusOK
	}
	return nil, 0, statusBadArgument
}

// proxy_get_header_map_value(map_type, key, key_size, return_value, return_value_size)
func proxyGetHeaderMapValue(vm *VM, a []uint64) status {
	m, k, st := vm.headerMapOf(a[0])
	if st != statusOK {
		return st
	}
	key, ok := vm.str(a[1], a[2])
	if !ok {
		return statusInvalidMemoryAccess
	}
	v, found := m.get(canonical(k, key))
	if !found {
		return statusNotFound
	}
	return vm.giveString(v, a[3], a[4])
}

// proxy_add_header_map_value(map_type, key, key_size, value, value_size)
func proxyAddHeaderMapValue(vm *VM, a []uint64) status {
	return vm.editHeader(a, (*headerMap).add)
}

// proxy_replace_header_map_value(map_type, key, key_size, value, value_size)
func proxyReplaceHeaderMapValue(vm *VM, a []uint64) status {
	return vm.editHeader(a, (*headerMap).replace)
}

func (vm *VM) editHeader(a []uint64, edit func(m *headerMap, k mapKind, key, value string)) status {
	m, k, st := vm.headerMapOf(a[0])
	if st != statusOK {
		return st
	}
	key, ok1 := vm.str(a[1], a[2])
	value, ok2 := vm.str(a[3], a[4])
	if !ok1 || !ok2 {
		return statusInvalidMemoryAccess
	}
	edit(m, k, key, value)
	return statusOK
}

// proxy_remove_header_map_value(map_type, key, key_size)
func proxyRemoveHeaderMapValue(vm *VM, a []uint64) status {
	m, k, st := vm.headerMapOf(a[0])
	if st != statusOK {
		return st
	}
	key, ok := vm.str(a[1], a[2])
	if !ok {
		return statusInvalidMemoryAccess
	}
	m.remove(k, key)
	return statusOK
}

// proxy_get_header_map_pairs(map_type, return_data, return_size)
func proxyGetHeaderMapPairs(vm *VM, a []uint64) status {
	m, _, st := vm.headerMapOf(a[0])
	if st != statusOK {
		return st
	}
	buf, st := vm.reserve(m.encodedSize(), a[1], a[2])
	if st == statusOK {
		m.encodeTo(buf)
	}
	return st
}

// proxy_set_header_map_pairs(map_type, data, size)
func proxySetHeaderMapPairs(vm *VM, a []uint64) status {
	m, k, st := vm.headerMapOf(a[0])
	if st != statusOK {
		return st
	}
	data, ok := vm.mem.Read(u32(a[1]), u32(a[2]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	pairs, ok := decodeHeaders(data)
	if !ok {
		return statusBadArgument
	}
	m.set(k, pairs)
	return statusOK
}

// Buffer types (proxy-wasm WasmBufferType).
const (
	bufferRequestBody  = 0
	bufferResponseBody = 1
	bufferCalloutBody  = 4
	bufferVMConfig     = 6
	bufferPluginConfig = 7
)

// buffer returns the buffer the plugin names; a body can be written.
func (vm *VM) buffer(t uint64) (b *[]byte, writable bool, st status) {
	s := vm.cur
	switch t {
	case bufferRequestBody:
		if s != nil {
			return &s.reqBody, true, statusOK
		}
	case bufferResponseBody:
		if s != nil && s.respStarted {
			return &s.respBody, true, statusOK
		}
	case bufferCalloutBody:
		if vm.answer != nil {
			return &vm.answer.Body, false, statusOK
		}
	case bufferVMConfig:
		if vm.host.cfg.VMConfig != nil {
			return &vm.host.cfg.VMConfig, false, statusOK
		}
	case bufferPluginConfig:
		if vm.host.cfg.PluginConfig != nil {
			return &vm.host.cfg.PluginConfig, false, statusOK
		}
	default:
		return nil, false, statusBadArgument
	}
	return nil, false, statusNotFound
}

// proxy_get_buffer_bytes(buffer_type, start, max_size, return_data, return_size)
func proxyGetBufferBytes(vm *VM, a []uint64) status {
	b, _, st := vm.buffer(a[0])
	if st != statusOK {
		return st
	}
	start, n := u32(a[1]), u32(a[2])
	if int(start) > len(*b) {
		return statusBadArgument
	}
	data := (*b)[start:]
	if int(n) < len(data) {
		data = data[:n]
	}
	return vm.give(data, a[3], a[4])
}

// proxy_set_buffer_bytes(buffer_type, start, size, data, data_size) edits a
// body as Envoy does: start 0 and size 0 prepends, start 0 and any other
// size replaces the whole body, a start at or past the end appends;
// anything else is refused.
func proxySetBufferBytes(vm *VM, a []uint64) status {
	b, writable, st := vm.buffer(a[0])
	if st != statusOK {
		return st
	}
	if !writable {
		return statusBadArgument
	}
	data, ok := vm.bytes(a[3], a[4])
	if !ok {
		return statusInvalidMemoryAccess
	}
	start, size := int(u32(a[1])), u32(a[2])
	switch {
	case start == 0 && size == 0:
		*b = append(data, *b...)
	case start == 0:
		*b = data
	case start >= len(*b):
		*b = append(append([]byte(nil), *b...), data...)
	default:
		return statusBadArgument
	}
	return statusOK
}

// proxy_send_local_response(status, details, details_size, body, body_size,
// headers, headers_size, grpc_status). The reply is sent once the callback
// returns: from a request phase it goes through the response phase; from a
// response phase it replaces the response. A second reply is ignored.
func proxySendLocalResponse(vm *VM, a []uint64) status {
	s := vm.cur
	if s == nil {
		return statusNotFound
	}
	details, ok1 := vm.str(a[1], a[2])
	body, ok2 := vm.bytes(a[3], a[4])
	raw, ok3 := vm.mem.Read(u32(a[5]), u32(a[6]))
	if !ok1 || !ok2 || !ok3 {
		return statusInvalidMemoryAccess
	}
	headers, ok := decodeHeaders(raw)
	if !ok {
		return statusBadArgument
	}
	reply := localReply(int(u32(a[0])), details, headers, body)
	switch {
	case !s.respStarted && s.local == nil:
		s.local = reply
	case s.respStarted && !s.inLocal && s.replaced == nil:
		s.replaced = reply
	default:
		vm.log(LogWarn, "host: the plugin sent a second local reply for one stream; ignored")
	}
	s.wakeUp()
	return statusOK
}

// proxy_continue_stream(stream_type)
func proxyContinueStream(vm *VM, a []uint64) status {
	s := vm.cur
	if s == nil {
		return statusNotFound
	}
	if a[0] > dirResponse {
		return statusBadArgument
	}
	s.stopped[a[0]] = false
	s.wakeUp()
	return statusOK
}

// proxy_close_stream(stream_type): the proxy resets the stream.
func proxyCloseStream(vm *VM, a []uint64) status {
	s := vm.cur
	if s == nil {
		return statusNotFound
	}
	s.closed = true
	s.wakeUp()
	return statusOK
}

// proxy_http_call(upstream, upstream_size, headers, headers_size, body,
// body_size, trailers, trailers_size, timeout_ms, return_callout_id). The
// call is made once the callback returns.
func proxyHTTPCall(vm *VM, a []uint64) status {
	if vm.host.cfg.HTTPCall == nil {
		return statusBadArgument // no such cluster
	}
	cluster, ok1 := vm.str(a[0], a[1])
	rawHeaders, ok2 := vm.mem.Read(u32(a[2]), u32(a[3]))
	headers, ok3 := decodeHeaders(rawHeaders)
	body, ok4 := vm.bytes(a[4], a[5])
	rawTrailers, ok5 := vm.mem.Read(u32(a[6]), u32(a[7]))
	trailers, ok6 := decodeHeaders(rawTrailers)
	if !ok1 || !ok2 || !ok4 || !ok5 {
		return statusInvalidMemoryAccess
	}
	if !ok3 || !ok6 {
		return statusBadArgument
	}
	for _, required := range []string{":method", ":path", ":authority"} {
		if _, ok := headers.get(required); !ok {
			return statusBadArgument
		}
	}
	vm.lastCall++
	c := &callout{id: vm.lastCall, req: Callout{Cluster: cluster, Headers: headers, Body: body,
		Trailers: trailers, Timeout: time.Duration(u32(a[8])) * time.Millisecond}}
	vm.pending.callouts = append(vm.pending.callouts, c)
	return vm.putU32(a[9], c.id)
}
