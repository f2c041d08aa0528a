package main

import (
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
	funcs []wasmtest.Function // in code section order
}

// readCode reads the functions a module defines, with the names of its
// "name" custom section, which an image built without -ldflags='-s -w'
// has.
func readCode(wasm []byte) (wasmCode, error) {
	fs, err := wasmtest.Functions(wasm)
	return wasmCode{funcs: fs}, err
}

// count is the number of functions the module defines.
func (c wasmCode) count() int { return len(c.funcs) }

// codeBytes is the size of all function bodies.
func (c wasmCode) codeBytes() int {
	n := 0
	for _, f := range c.funcs {
		n += f.Size
	}
	return n
}

// functions lists the functions the module defines with their names.
func (c wasmCode) functions() ([]function, error) {
	out := make([]function, len(c.funcs))
	for i, f := range c.funcs {
		if f.Name == "" {
			if i == 0 {
				return nil, errors.New("no function names: build the image without -ldflags='-s -w'")
			}
			return nil, fmt.Errorf("function %d has no name", f.Index)
		}
		out[i] = function{f.Name, f.Size}
	}
	return out, nil
}
