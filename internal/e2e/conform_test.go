//go:build e2e

package e2e_test

import (
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// conforms checks what Envoy requires of a module before it calls it: a
// reactor (exports _initialize, not _start) that exports its memory, the
// proxy-wasm ABI version and the allocator the host writes through, and
// imports only the proxy-wasm host functions ("env") and WASI.
func conforms(t *testing.T, wasm []byte) {
	t.Helper()
	exports, err := wasmtest.Exports(wasm)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]byte{}
	for _, e := range exports {
		have[e.Name] = e.Kind
	}
	for name, kind := range map[string]byte{
		"_initialize":              wasmtest.KindFunc,
		"memory":                   wasmtest.KindMemory,
		"proxy_abi_version_0_2_0":  wasmtest.KindFunc,
		"proxy_on_memory_allocate": wasmtest.KindFunc,
		"proxy_on_context_create":  wasmtest.KindFunc,
		"proxy_on_configure":       wasmtest.KindFunc,
		"proxy_on_request_headers": wasmtest.KindFunc,
	} {
		if k, ok := have[name]; !ok || k != kind {
			t.Errorf("export %s missing or of kind %d, want kind %d", name, k, kind)
		}
	}
	if _, ok := have["_start"]; ok {
		t.Error("exports _start: a command module, Envoy needs a reactor (-buildmode=c-shared)")
	}
	imports, err := wasmtest.Imports(wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range imports {
		if i.Module != "env" && i.Module != "wasi_snapshot_preview1" {
			t.Errorf("imports %s.%s: Envoy provides only env and wasi_snapshot_preview1", i.Module, i.Name)
		}
	}
}
