package wasmtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// A minimal reader and editor of the wasm binary format: just enough to list
// imports, exports and the functions' names and sizes, and to add an export
// or a module name.

const (
	sectionCustom = 0
	sectionImport = 2
	sectionExport = 7
	sectionCode   = 10
)

// External kinds of imports and exports.
const (
	KindFunc   = 0
	KindTable  = 1
	KindMemory = 2
	KindGlobal = 3
)

type section struct {
	id      byte
	payload []byte
}

// Entry is one import or export.
type Entry struct {
	Module string // imports only
	Name   string
	Kind   byte
	Index  uint32 // exports only
}

func parseSections(wasm []byte) ([]section, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, errors.New("not a wasm binary")
	}
	var out []section
	r := &reader{b: wasm[8:]}
	for r.more() {
		id := r.byte()
		size := r.u32()
		payload := r.bytes(int(size))
		if r.err != nil {
			return nil, r.err
		}
		out = append(out, section{id, payload})
	}
	return out, nil
}

func encodeSections(secs []section) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range secs {
		out = append(out, s.id)
		out = binary.AppendUvarint(out, uint64(len(s.payload)))
		out = append(out, s.payload...)
	}
	return out
}

// Exports lists the module's exports.
func Exports(wasm []byte) ([]Entry, error) {
	secs, err := parseSections(wasm)
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		if s.id == sectionExport {
			return readExports(s.payload)
		}
	}
	return nil, nil
}

func readExports(p []byte) ([]Entry, error) {
	r := &reader{b: p}
	n := r.u32()
	var out []Entry
	for i := uint32(0); i < n && r.err == nil; i++ {
		e := Entry{Name: r.name(), Kind: r.byte()}
		e.Index = r.u32()
		out = append(out, e)
	}
	return out, r.err
}

// Imports lists the module's imports.
func Imports(wasm []byte) ([]Entry, error) {
	secs, err := parseSections(wasm)
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		if s.id != sectionImport {
			continue
		}
		r := &reader{b: s.payload}
		n := r.u32()
		var out []Entry
		for i := uint32(0); i < n && r.err == nil; i++ {
			e := Entry{Module: r.name(), Name: r.name(), Kind: r.byte()}
			switch e.Kind {
			case KindFunc:
				r.u32() // type index
			case KindTable:
				r.byte() // element type
				r.limits()
			case KindMemory:
				r.limits()
			case KindGlobal:
				r.byte() // value type
				r.byte() // mutability
			default:
				return nil, fmt.Errorf("import %q: unknown kind %d", e.Name, e.Kind)
			}
			out = append(out, e)
		}
		return out, r.err
	}
	return nil, nil
}

// Function is a function a module defines (not one it imports).
type Function struct {
	Index uint32 // in the module's function index space, after the imports
	Name  string // from the "name" custom section; "" without one
	Size  int    // of its body in the code section, in bytes
}

// Functions lists the functions the module defines, in code section order,
// with their names when the module has a name section (upstream Go writes
// one unless built with -ldflags=-s).
func Functions(wasm []byte) ([]Function, error) {
	imports, err := Imports(wasm)
	if err != nil {
		return nil, err
	}
	imported := uint32(0)
	for _, e := range imports {
		if e.Kind == KindFunc {
			imported++
		}
	}
	secs, err := parseSections(wasm)
	if err != nil {
		return nil, err
	}
	var out []Function
	var names map[uint32]string
	for _, s := range secs {
		r := &reader{b: s.payload}
		switch {
		case s.id == sectionCode: // a vector of bodies, each with its size first
			n := r.u32()
			for i := uint32(0); i < n && r.err == nil; i++ {
				size := int(r.u32())
				r.bytes(size)
				out = append(out, Function{Index: imported + i, Size: size})
			}
		case s.id == sectionCustom && r.name() == "name":
			names = functionNames(r)
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	for i := range out {
		out[i].Name = names[out[i].Index]
	}
	return out, nil
}

// functionNames reads the function names of a name section's contents:
// subsection 1 maps function indices to names; the others (module, locals)
// are skipped.
func functionNames(r *reader) map[uint32]string {
	names := map[uint32]string{}
	for r.more() {
		id := r.byte()
		sub := &reader{b: r.bytes(int(r.u32()))}
		if id != 1 {
			continue
		}
		n := sub.u32()
		for i := uint32(0); i < n && sub.err == nil; i++ {
			index := sub.u32()
			names[index] = sub.name()
		}
		if r.err == nil {
			r.err = sub.err
		}
	}
	return names
}

// withReactorStart returns a copy of wasm that also exports its _initialize
// function as _start, and is named name. Runtimes that only call _start on
// instantiation (as proxytest does) then initialize the reactor the way
// Envoy does, and the instance can be found by name.
func withReactorStart(wasm []byte, name string) ([]byte, error) {
	secs, err := parseSections(wasm)
	if err != nil {
		return nil, err
	}
	found := false
	for i, s := range secs {
		if s.id != sectionExport {
			continue
		}
		exports, err := readExports(s.payload)
		if err != nil {
			return nil, err
		}
		for _, e := range exports {
			if e.Name == "_initialize" && e.Kind == KindFunc {
				exports = append(exports, Entry{Name: "_start", Kind: KindFunc, Index: e.Index})
				found = true
				break
			}
		}
		var p []byte
		p = binary.AppendUvarint(p, uint64(len(exports)))
		for _, e := range exports {
			p = appendName(p, e.Name)
			p = append(p, e.Kind)
			p = binary.AppendUvarint(p, uint64(e.Index))
		}
		secs[i].payload = p
	}
	if !found {
		return nil, errors.New("module exports no _initialize function: build it with -buildmode=c-shared")
	}
	// A "name" custom section whose only subsection (id 0) is the module name.
	var sub []byte
	sub = appendName(sub, name)
	var names []byte
	names = appendName(names, "name")
	names = append(names, 0)
	names = binary.AppendUvarint(names, uint64(len(sub)))
	names = append(names, sub...)
	kept := secs[:0]
	for _, s := range secs {
		if s.id == sectionCustom && bytes.HasPrefix(s.payload, []byte("\x04name")) {
			continue // replaced below
		}
		kept = append(kept, s)
	}
	kept = append(kept, section{sectionCustom, names})
	return encodeSections(kept), nil
}

func appendName(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > 1<<32-1 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return uint32(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) name() string { return string(r.bytes(int(r.u32()))) }

func (r *reader) limits() {
	if r.byte()&1 == 1 {
		r.u32()
	}
	r.u32()
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errors.New("truncated or malformed wasm binary")
	}
}
