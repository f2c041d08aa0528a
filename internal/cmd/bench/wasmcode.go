package main

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// function is one function defined in a wasm module: its name from the
// module's name section and the size of its body in the code section.
type function struct {
	name string
	size int
}

// wasmCode is what a module's code says about its functions.
type wasmCode struct {
	imported int               // functions imported: the first indices
	sizes    []int             // each body's size, in code section order
	names    map[uint32]string // function names by index; nil without a name section
}

// readCode reads a module's import section (to count the imported
// functions), its code section and the function names of its "name"
// custom section, which an image built without -ldflags='-s -w' has.
func readCode(wasm []byte) (wasmCode, error) {
	var c wasmCode
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return c, errors.New("not a wasm binary")
	}
	imports, err := wasmtest.Imports(wasm)
	if err != nil {
		return c, err
	}
	for _, e := range imports {
		if e.Kind == wasmtest.KindFunc {
			c.imported++
		}
	}
	r := wasmReader{b: wasm[8:]}
	for r.more() {
		id := r.byte()
		payload := wasmReader{b: r.bytes(int(r.u32()))}
		switch id {
		case 10: // code: a vector of bodies, each with its size first
			n := payload.u32()
			for i := uint32(0); i < n && payload.err == nil; i++ {
				size := int(payload.u32())
				payload.bytes(size)
				c.sizes = append(c.sizes, size)
			}
		case 0: // custom: a name, then its contents
			if payload.name() == "name" {
				c.names = functionNames(&payload)
			}
		}
		if r.err == nil {
			r.err = payload.err
		}
	}
	return c, r.err
}

// codeBytes is the size of all function bodies.
func (c wasmCode) codeBytes() int {
	n := 0
	for _, s := range c.sizes {
		n += s
	}
	return n
}

// functions lists the functions the module defines with their names.
// Imported functions come first in a module's function index space, so
// body i is function imported+i.
func (c wasmCode) functions() ([]function, error) {
	if c.names == nil {
		return nil, errors.New("no function names: build the image without -ldflags='-s -w'")
	}
	out := make([]function, len(c.sizes))
	for i, size := range c.sizes {
		name, ok := c.names[uint32(c.imported+i)]
		if !ok {
			return nil, fmt.Errorf("function %d has no name", c.imported+i)
		}
		out[i] = function{name, size}
	}
	return out, nil
}

// functionNames reads the function names of a name section: subsection 1
// maps function indices to names; the others (module, locals) are skipped.
func functionNames(r *wasmReader) map[uint32]string {
	names := map[uint32]string{}
	for r.more() {
		id := r.byte()
		sub := wasmReader{b: r.bytes(int(r.u32()))}
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

// wasmReader reads the binary format's bytes, LEB128 integers and names;
// the first error sticks and every later read returns zero values.
type wasmReader struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated wasm binary")

func (r *wasmReader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *wasmReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wasmReader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail()
	return 0
}

func (r *wasmReader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.fail()
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *wasmReader) name() string { return string(r.bytes(int(r.u32()))) }

func (r *wasmReader) fail() {
	if r.err == nil {
		r.err = errTruncated
	}
	r.b = nil
}
