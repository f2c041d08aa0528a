package wasmtest

import (
	"encoding/binary"
	"testing"
)

// nameSection is a "name" custom section whose function-names subsection
// maps each index of names to its name.
func nameSection(names map[uint32]string) section {
	var entries [][]byte
	for i := uint32(0); i < uint32(len(names)+8); i++ {
		if n, ok := names[i]; ok {
			entries = append(entries, appendName(binary.AppendUvarint(nil, uint64(i)), n))
		}
	}
	sub := vector(entries)
	payload := appendName(nil, "name")
	payload = append(payload, 0x00, 0x01, 'm') // a module-name subsection, skipped
	payload = append(payload, 0x01)
	payload = binary.AppendUvarint(payload, uint64(len(sub)))
	return section{sectionCustom, append(payload, sub...)}
}

func TestFunctions(t *testing.T) {
	spec := moduleSpec{
		imports: []fn{{module: "env", name: "a"}, {module: "env", name: "b", params: "i"}},
		exports: []fn{{name: "f"}, {name: "g", results: "i"}, {name: "h", results: "I"}},
	}
	plain := spec.encode()
	secs, err := parseSections(plain)
	if err != nil {
		t.Fatal(err)
	}
	named := encodeSections(append(secs, nameSection(map[uint32]string{2: "main.f", 3: "main.g", 4: "runtime.h"})))

	for _, c := range []struct {
		wasm  []byte
		names []string
	}{{plain, []string{"", "", ""}}, {named, []string{"main.f", "main.g", "runtime.h"}}} {
		fs, err := Functions(c.wasm)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 3 {
			t.Fatalf("%d functions, want 3: %+v", len(fs), fs)
		}
		for i, f := range fs {
			// The bodies: no locals and end (f), or a const first (g, h).
			want := []int{2, 4, 4}[i]
			if f.Index != uint32(2+i) || f.Name != c.names[i] || f.Size != want {
				t.Errorf("function %d = %+v, want index %d, name %q, size %d", i, f, 2+i, c.names[i], want)
			}
		}
	}
	if _, err := Functions(named[:len(named)-3]); err == nil {
		t.Error("a truncated name section reads without error")
	}
}
