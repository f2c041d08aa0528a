package wasmtest

import "encoding/binary"

// A tiny assembler for the crafted modules of the conformance tests: enough
// of the binary format to declare imports, exported functions (whose bodies
// just return zeros) and one memory.

// fn is a function by name and type; params and results are written one
// letter per value, i for i32 and I for i64 ("ii" is (i32, i32)).
type fn struct {
	module, name    string // module only for imports
	params, results string
}

type moduleSpec struct {
	imports      []fn     // function imports
	globals      []string // names of globals imported from env
	importMemory bool     // import env.memory
	importTable  bool     // import env.table
	exports      []fn     // functions defined and exported
	memory       bool     // define a memory
	memoryPages  uint64   // its initial size; 0 means 1
	exportMemory bool     // export it as "memory"
}

func (s moduleSpec) encode() []byte {
	var types [][]byte
	typeIndex := func(f fn) uint32 {
		t := []byte{0x60}
		t = appendValueTypes(t, f.params)
		t = appendValueTypes(t, f.results)
		for i, u := range types {
			if string(u) == string(t) {
				return uint32(i)
			}
		}
		types = append(types, t)
		return uint32(len(types) - 1)
	}

	var imports [][]byte
	for _, f := range s.imports {
		e := appendName(appendName(nil, f.module), f.name)
		imports = append(imports, binary.AppendUvarint(append(e, KindFunc), uint64(typeIndex(f))))
	}
	for _, g := range s.globals {
		imports = append(imports, append(appendName(appendName(nil, "env"), g), KindGlobal, 0x7f, 0x00))
	}
	if s.importMemory {
		imports = append(imports, append(appendName(appendName(nil, "env"), "memory"), KindMemory, 0x00, 0x01))
	}
	if s.importTable {
		imports = append(imports, append(appendName(appendName(nil, "env"), "table"), KindTable, 0x70, 0x00, 0x01))
	}

	var funcs, exports, bodies [][]byte
	for i, f := range s.exports {
		funcs = append(funcs, binary.AppendUvarint(nil, uint64(typeIndex(f))))
		index := uint64(len(s.imports) + i)
		exports = append(exports, binary.AppendUvarint(append(appendName(nil, f.name), KindFunc), index))
		body := []byte{0x00} // no locals
		for _, r := range f.results {
			if r == 'I' {
				body = append(body, 0x42, 0x00) // i64.const 0
			} else {
				body = append(body, 0x41, 0x00) // i32.const 0
			}
		}
		body = append(body, 0x0b) // end
		bodies = append(bodies, binary.AppendUvarint(nil, uint64(len(body))), body)
	}
	var memories [][]byte
	if s.memory {
		pages := max(s.memoryPages, 1)
		memories = append(memories, binary.AppendUvarint([]byte{0x00}, pages)) // no maximum
		if s.exportMemory {
			exports = append(exports, append(appendName(nil, "memory"), KindMemory, 0x00))
		}
	}

	secs := []section{
		{1, vector(types)},
		{sectionImport, vector(imports)},
		{3, vector(funcs)},
		{5, vector(memories)},
		{sectionExport, vector(exports)},
		{10, codeVector(bodies)},
	}
	return encodeSections(secs)
}

func appendValueTypes(b []byte, letters string) []byte {
	b = binary.AppendUvarint(b, uint64(len(letters)))
	for _, l := range letters {
		if l == 'I' {
			b = append(b, 0x7e)
		} else {
			b = append(b, 0x7f)
		}
	}
	return b
}

func vector(items [][]byte) []byte {
	out := binary.AppendUvarint(nil, uint64(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

// codeVector joins bodies given as size, body pairs.
func codeVector(parts [][]byte) []byte {
	out := binary.AppendUvarint(nil, uint64(len(parts)/2))
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
