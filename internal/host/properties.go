package host

import (
	"encoding/binary"
	"net"
	"strconv"
	"strings"
)

// property resolves a property path ("source.address") for the current
// context: the stream's Request.Properties, what the plugin set on the
// stream, the attributes Envoy derives from the stream, then what the plugin
// set on the VM, Config.Properties, and the plugin's own attributes.
// Integers and times are 8-byte little-endian, as Envoy encodes them.
func (vm *VM) property(path string) ([]byte, bool) {
	if s := vm.cur; s != nil {
		if v, ok := s.req.Properties[path]; ok {
			return v, true
		}
		if v, ok := s.props[path]; ok {
			return v, true
		}
		if v, ok := s.attribute(path); ok {
			return v, true
		}
	}
	if v, ok := vm.props[path]; ok {
		return v, true
	}
	if v, ok := vm.host.cfg.Properties[path]; ok {
		return v, true
	}
	if path == "plugin_name" {
		name := vm.host.cfg.Name
		if name == "" {
			name = "plugin"
		}
		return []byte(name), true
	}
	return nil, false
}

func int64Bytes(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }

// attribute returns the Envoy attributes of a stream.
func (s *stream) attribute(path string) ([]byte, bool) {
	text := func(v string, ok bool) ([]byte, bool) { return []byte(v), ok && v != "" }
	header := func(name string) ([]byte, bool) { return text(s.reqHeaders.get(canonical(requestHeaderMap, name))) }
	switch path {
	case "source.address":
		return text(s.req.Source, true)
	case "source.port":
		return port(s.req.Source)
	case "destination.address":
		return text(s.req.Destination, true)
	case "destination.port":
		return port(s.req.Destination)
	case "request.time":
		return int64Bytes(s.time.UnixNano()), true
	case "request.path":
		return header(":path")
	case "request.url_path":
		p, ok := s.reqHeaders.get(":path")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return text(p, ok)
	case "request.host":
		return header(":authority")
	case "request.method":
		return header(":method")
	case "request.scheme":
		return header(":scheme")
	case "request.id":
		return header("x-request-id")
	case "request.useragent":
		return header("user-agent")
	case "request.referer":
		return header("referer")
	case "request.protocol":
		return []byte("HTTP/1.1"), true
	case "route_name":
		return text(s.req.Route, true)
	case "response.code":
		if v, ok := s.respHeaders.get(":status"); ok && s.respStarted {
			n, err := strconv.Atoi(v)
			return int64Bytes(int64(n)), err == nil
		}
	case "response.code_details":
		return text(s.details, s.respStarted)
	}
	if name, ok := strings.CutPrefix(path, "request.headers."); ok {
		return header(name)
	}
	if name, ok := strings.CutPrefix(path, "response.headers."); ok && s.respStarted {
		return text(s.respHeaders.get(name))
	}
	return nil, false
}

func port(addr string) ([]byte, bool) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, false
	}
	n, err := strconv.Atoi(p)
	return int64Bytes(int64(n)), err == nil
}
