package host

import (
	"encoding/binary"
	"strings"
)

// headerMap is one of a stream's header maps as the plugin sees it: ordered
// entries with lower-case names, a name possibly repeated (Envoy keeps added
// values as separate entries).
type headerMap [][2]string

func lowerName(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// get returns the first value of name, as Envoy's get_header_map_value does.
func (m headerMap) get(name string) (string, bool) {
	name = lowerName(name)
	for _, h := range m {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

func (m *headerMap) add(name, value string) {
	*m = append(*m, [2]string{lowerName(name), value})
}

// replace sets the first entry of name to value and drops the others, or
// adds the entry if there is none.
func (m *headerMap) replace(name, value string) {
	name = lowerName(name)
	out, found := (*m)[:0], false
	for _, h := range *m {
		if h[0] != name {
			out = append(out, h)
		} else if !found {
			out = append(out, [2]string{name, value})
			found = true
		}
	}
	*m = out
	if !found {
		m.add(name, value)
	}
}

func (m *headerMap) remove(name string) {
	name = lowerName(name)
	out := (*m)[:0]
	for _, h := range *m {
		if h[0] != name {
			out = append(out, h)
		}
	}
	*m = out
}

func (m headerMap) clone() headerMap { return append(headerMap(nil), m...) }

// The wire format of a header map between host and plugin: the number of
// entries, then each entry's name and value sizes, then each name and value
// followed by a NUL byte; integers are 32-bit little-endian.

func (m headerMap) encodedSize() int {
	n := 4
	for _, h := range m {
		n += 8 + len(h[0]) + len(h[1]) + 2
	}
	return n
}

// encodeTo writes m into dst, which is encodedSize() long.
func (m headerMap) encodeTo(dst []byte) {
	binary.LittleEndian.PutUint32(dst, uint32(len(m)))
	sizes, data := dst[4:], dst[4+8*len(m):]
	for _, h := range m {
		binary.LittleEndian.PutUint32(sizes, uint32(len(h[0])))
		binary.LittleEndian.PutUint32(sizes[4:], uint32(len(h[1])))
		sizes = sizes[8:]
		data = data[copy(data, h[0]):]
		data[0] = 0
		data = data[1+copy(data[1:], h[1]):]
		data[0] = 0
		data = data[1:]
	}
}

// decodeHeaders reads the wire format; ok is false if b is malformed.
func decodeHeaders(b []byte) (m headerMap, ok bool) {
	if len(b) == 0 {
		return nil, true
	}
	if len(b) < 4 {
		return nil, false
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > (len(b)-4)/10 {
		return nil, false
	}
	sizes, data := b[4:], b[4+8*n:]
	m = make(headerMap, 0, n)
	for i := 0; i < n; i++ {
		k := int(binary.LittleEndian.Uint32(sizes))
		v := int(binary.LittleEndian.Uint32(sizes[4:]))
		sizes = sizes[8:]
		if k+v+2 > len(data) || k < 0 || v < 0 {
			return nil, false
		}
		m = append(m, [2]string{lowerName(string(data[:k])), string(data[k+1 : k+1+v])})
		data = data[k+v+2:]
	}
	return m, true
}
