package host

import (
	"encoding/binary"
	"strings"
)

// headerMap is one of a stream's header maps as the plugin sees it: ordered
// entries with lower-case names, a name possibly repeated (Envoy keeps the
// values added to a header as separate entries, unless the header is
// inline: see inline.go).
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

// push appends an entry, as the host builds the maps it hands the plugin:
// a header the request or the response carries twice is two entries.
func (m *headerMap) push(name, value string) {
	*m = append(*m, [2]string{lowerName(name), value})
}

// insert adds an entry where Envoy's header map puts a new one: at the
// end, or for a pseudo-header after the pseudo-headers, which Envoy keeps
// ahead of the others.
func (m *headerMap) insert(name, value string) {
	i := len(*m)
	if strings.HasPrefix(name, ":") {
		i = 0
		for i < len(*m) && strings.HasPrefix((*m)[i][0], ":") {
			i++
		}
	}
	*m = append(*m, [2]string{})
	copy((*m)[i+1:], (*m)[i:])
	(*m)[i] = [2]string{name, value}
}

// add adds value to name in a map of kind k, as Envoy does for
// proxy_add_header_map_value (its header map's addCopy): an inline header
// that is present keeps its one entry, with value appended after a comma
// (no comma after an empty value; an empty value appends nothing); any
// other header gets one more entry, the values already there staying
// separate entries.
func (m *headerMap) add(k mapKind, name, value string) {
	name = canonical(k, name)
	if inline(k, name) {
		for i := range *m {
			if e := &(*m)[i]; e[0] == name {
				switch {
				case value == "":
				case e[1] == "":
					e[1] = value
				default:
					e[1] += "," + value
				}
				return
			}
		}
	}
	m.insert(name, value)
}

// replace sets the first entry of name to value and drops the others, or
// adds the entry if there is none. (Current Envoy drops every entry and
// adds a new one, which puts the header last; the host keeps it in place.)
func (m *headerMap) replace(k mapKind, name, value string) {
	name = canonical(k, name)
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
		m.insert(name, value)
	}
}

// remove drops every entry of name, as Envoy does.
func (m *headerMap) remove(k mapKind, name string) {
	name = canonical(k, name)
	out := (*m)[:0]
	for _, h := range *m {
		if h[0] != name {
			out = append(out, h)
		}
	}
	*m = out
}

// set replaces the whole map with pairs, as Envoy does for
// proxy_set_header_map_pairs: it empties the map and adds each pair in
// turn, so that pairs naming one inline header twice leave one entry.
func (m *headerMap) set(k mapKind, pairs headerMap) {
	out := make(headerMap, 0, len(pairs))
	for _, h := range pairs {
		out.add(k, h[0], h[1])
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
