package bridge

import (
	"encoding/binary"
	"reflect"
	"testing"
)

// serialize lays out pairs as the ABI does: a count, the sizes, then each
// name and value with a NUL after it.
func serialize(pairs [][2]string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(pairs)))
	for _, p := range pairs {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p[0])))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p[1])))
	}
	for _, p := range pairs {
		b = append(append(b, p[0]...), 0)
		b = append(append(b, p[1]...), 0)
	}
	return b
}

func TestDecodeMap(t *testing.T) {
	for _, pairs := range [][][2]string{
		{{":path", "/x"}, {"x-empty", ""}, {"", "v"}, {"x-nul", "a\x00b"}},
		{{"k", "v"}},
		{},
	} {
		dst := [][2]string{{"stale", "entry"}}
		got, err := decodeMap(serialize(pairs), dst[:0])
		if err != nil || len(got) != len(pairs) || len(got) > 0 && !reflect.DeepEqual(got, pairs) {
			t.Errorf("decodeMap(%q) = %q, %v", pairs, got, err)
		}
	}
	if got, err := decodeMap(nil, nil); err != nil || len(got) != 0 {
		t.Errorf("no data: %q, %v", got, err)
	}
}

// TestDecodeMapMalformed feeds maps that do not fit in their bytes: each is
// an error, never a panic, since the bytes come from the host.
func TestDecodeMapMalformed(t *testing.T) {
	good := serialize([][2]string{{"name", "value"}, {"b", "c"}})
	cases := map[string][]byte{
		"short count":     {1, 0},
		"count too large": binary.LittleEndian.AppendUint32(nil, 1<<30),
		"count, no sizes": binary.LittleEndian.AppendUint32(nil, 2),
		"truncated data":  good[:len(good)-3],
		"no final NUL":    good[:len(good)-1],
		"huge name size":  append(append(binary.LittleEndian.AppendUint32(nil, 1), 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0), 'a', 0, 0),
		"size 2^32-1":     append(append(binary.LittleEndian.AppendUint32(nil, 1), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), 'a', 0, 0),
	}
	for name, data := range cases {
		if got, err := decodeMap(data, nil); err == nil {
			t.Errorf("%s: decoded %q without an error", name, got)
		}
	}
}

func TestAppendPath(t *testing.T) {
	for _, c := range []struct {
		path []string
		want string
	}{
		{[]string{"request", "time"}, "request\x00time"},
		{[]string{"source", "address"}, "source\x00address"},
		{[]string{"route_name"}, "route_name"},
		{nil, ""},
	} {
		if got := string(appendPath([]byte("stale"), c.path)[len("stale"):]); got != c.want {
			t.Errorf("appendPath(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}
