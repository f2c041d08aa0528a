package host

import (
	"context"
	"strings"
	"testing"
)

// module assembles a wasm module with one memory and, for each export
// name, a function of type () -> ().
func module(exports ...string) []byte {
	vec := func(n int, items ...byte) []byte { return append([]byte{byte(n)}, items...) }
	section := func(id byte, payload []byte) []byte { return append([]byte{id, byte(len(payload))}, payload...) }
	var funcs, exps, code []byte
	for i, name := range exports {
		funcs = append(funcs, 0) // type 0
		exps = append(exps, byte(len(name)))
		exps = append(exps, name...)
		exps = append(exps, 0, byte(i)) // a function
		code = append(code, 2, 0, 0x0b) // body: no locals, end
	}
	exps = append(exps, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0)
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(out, section(1, vec(1, 0x60, 0, 0))...) // type 0: () -> ()
	out = append(out, section(3, vec(len(exports), funcs...))...)
	out = append(out, section(5, vec(1, 0, 1))...) // one memory, min 1 page
	out = append(out, section(7, vec(len(exports)+1, exps...))...)
	out = append(out, section(10, vec(len(exports), code...))...)
	return out
}

func TestModuleChecks(t *testing.T) {
	for _, c := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"not Wasm", []byte("{\"filters\": []}"), `not a WebAssembly module: a .wasm file starts with "\x00asm", this one with "{\"filter"`},
		{"empty", nil, `not a WebAssembly module: a .wasm file starts with "\x00asm", this one with ""`},
		{"no ABI marker", module("_initialize"), "a WebAssembly module, but not a proxy-wasm plugin: it exports no proxy-wasm ABI version marker (proxy_abi_version_0_2_0); " +
			"build a plugin with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, its package main calling policy.Serve from init"},
		{"other ABI", module("proxy_abi_version_0_2_1", "_initialize"), "ABI 0.2.0 only"},
		{"a command", module("proxy_abi_version_0_2_0", "_start"), "not a WASI reactor"},
		{"no allocator", module("proxy_abi_version_0_2_0", "_initialize"), "no allocator"},
		{"bad callback type", module("proxy_abi_version_0_2_0", "_initialize", "malloc", "proxy_on_tick"),
			"malloc has type >, want i>i; proxy_on_tick has type >, want i>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := New(context.Background(), c.wasm, Config{})
			if err == nil {
				h.Close(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New: %v; want an error containing %q", err, c.want)
			}
		})
	}
}

func TestHeaderMapWireFormat(t *testing.T) {
	m := headerMap{{":path", "/"}, {"x-a", ""}, {"x-a", "two"}, {"é", "ü"}}
	buf := make([]byte, m.encodedSize())
	m.encodeTo(buf)
	back, ok := decodeHeaders(buf)
	if !ok || len(back) != len(m) {
		t.Fatalf("decoded %q, %v; want %q", back, ok, m)
	}
	for i := range m {
		if back[i] != m[i] {
			t.Errorf("entry %d: %q, want %q", i, back[i], m[i])
		}
	}
	for _, bad := range [][]byte{buf[:3], buf[:len(buf)-1], {200, 0, 0, 0, 1, 0, 0, 0}} {
		if _, ok := decodeHeaders(bad); ok {
			t.Errorf("decodeHeaders(%v) accepted a malformed map", bad)
		}
	}
}

func TestHeaderMapEdits(t *testing.T) {
	m := headerMap{{"a", "1"}, {"b", "2"}, {"a", "3"}}
	m.replace(requestHeaderMap, "A", "x")
	if got := value(m, "a"); got != "x" || m[0] != [2]string{"a", "x"} {
		t.Errorf("replace kept %q (%q); want the first entry set and the others dropped", got, m)
	}
	m.add(requestHeaderMap, "C", "4")
	m.remove(requestHeaderMap, "b")
	if got, ok := m.get("c"); !ok || got != "4" || len(m) != 2 {
		t.Errorf("after add and remove: %q", m)
	}
	m.replace(requestHeaderMap, "d", "5")
	if got, _ := m.get("d"); got != "5" {
		t.Errorf("replace of a missing name did not add it: %q", m)
	}
}
