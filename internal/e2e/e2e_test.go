//go:build e2e

package e2e_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/oci"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestPullBack pulls every example's image from $E2E_REGISTRY (tag
// $E2E_TAG), as an Istio WasmPlugin with url oci://$E2E_REGISTRY/NAME:TAG
// would, and checks that the module is build/NAME.wasm, byte for byte, that
// it meets what Envoy requires of a module (wasmtest.CheckConformance), and
// that it starts with the example's config.json.
func TestPullBack(t *testing.T) {
	registry, tag := os.Getenv("E2E_REGISTRY"), os.Getenv("E2E_TAG")
	if registry == "" || tag == "" {
		t.Fatal("E2E_REGISTRY and E2E_TAG are not set: run this test with `make e2e`")
	}
	root := wasmtest.Root()
	mains, err := filepath.Glob(filepath.Join(root, "examples", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, main := range mains {
		name := filepath.Base(filepath.Dir(main))
		t.Run(name, func(t *testing.T) {
			local, _, err := oci.ReadLayout(filepath.Join(root, "build", "oci", name))
			if err != nil {
				t.Fatalf("%v (make images builds it)", err)
			}
			want, err := local.Digest()
			if err != nil {
				t.Fatal(err)
			}
			built := wasmtest.Image(t, name)

			byTag, digest, err := oci.Fetch(ctx, registry+"/"+name+":"+tag)
			if err != nil {
				t.Fatal(err)
			}
			if digest != want {
				t.Errorf("pulled by tag: digest %s, local image %s", digest, want)
			}
			byDigest, digest, err := oci.Fetch(ctx, registry+"/"+name+"@"+want.String())
			if err != nil {
				t.Fatal(err)
			}
			if digest != want {
				t.Errorf("pulled by digest: digest %s, want %s", digest, want)
			}
			for how, wasm := range map[string][]byte{"tag": byTag, "digest": byDigest} {
				if !bytes.Equal(wasm, built) {
					t.Fatalf("module pulled by %s (%d bytes) differs from build/%s.wasm (%d bytes)", how, len(wasm), name, len(built))
				}
			}
			violations, err := wasmtest.CheckConformance(byDigest)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range violations {
				t.Errorf("pulled module: %v", v)
			}
			starts(t, byDigest, filepath.Join(root, "examples", name, "config.json"))
		})
	}
}

// starts loads wasm in wazero, as Envoy would, and starts the plugin with
// the configuration in file.
func starts(t *testing.T, wasm []byte, file string) {
	t.Helper()
	cfg, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	vm := wasmtest.NewVM(t, wasm)
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(vm).WithPluginConfiguration(cfg))
	defer reset()
	if s := host.StartPlugin(); s != types.OnPluginStartStatusOK {
		t.Errorf("the pulled plugin refused %s: %v", file, host.GetCriticalLogs())
	}
}
