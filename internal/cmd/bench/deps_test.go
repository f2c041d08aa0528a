package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

func TestDependencyOfASymbol(t *testing.T) {
	for symbol, want := range map[string]string{
		"runtime.mallocgc":                                           depRuntime,
		"runtime.memequal_varlen":                                    depRuntime, // not a host "runtime.memequal"
		"internal_runtime_maps.__Map_.getWithKey":                    depRuntime,
		"gcWriteBarrier":                                             depRuntime, // assembly: no package
		"proxy_on_request_headers":                                   depRuntime, // an export's stub
		"encoding_json.__decodeState_.value":                         depJSON,
		"reflect.Value.Field":                                        depReflect,
		"internal_reflectlite.TypeOf":                                depReflect,
		"fmt.Sprintf":                                                depFmt,
		"internal_fmtsort.Sort.func1":                                depFmt,
		"internal_strconv.ParseFloat":                                depStrconv,
		"slices.pdqsortCmpFunc_go.shape.string_":                     depSlices,
		"unique.Make_go.shape.string_":                               depNetip,
		"net_netip.AddrFrom16":                                       depNetip,
		"crypto_internal_fips140_sha256.__Digest_.Sum":               depCrypto,
		"vendor_golang.org_x_crypto_chacha20.__Cipher_.XORKeyStream": depCrypto,
		"strings.Index":                                              depOtherStd,
		"type_.eq.internal_abi.UncommonType":                         depGenerated,
		"type_.hash.net_netip.addrDetail":                            depGenerated,
		"github.com_tetratelabs_proxy_wasm_go_sdk_proxywasm_internal.proxyOnLog": depSDK,
		"github.com_wasmpolicy_policy_internal_bridge.wasmHost.ProxyLog":         depBridge,
		"github.com_tidwall_gjson.parseArray":                                    depGjson,
		"github.com_tidwall_gjsonx.parse":                                        depOther, // not below gjson
		"github.com_tidwall_sjson.appendStringify":                               depSjson,
		"github.com_golang_jwt_jwt_v5.Parse":                                     depOther,
		"github.com_wasmpolicy_policy.__Exchange_.Header":                        "policy",
		"github.com_wasmpolicy_policy_authz_jwt.verify":                          "policy/authz/jwt",
		"github.com_wasmpolicy_policy_internal_httptoken.Check":                  "policy/internal/httptoken",
		"main.init.0": depMain,
	} {
		if got := depOf(symbol); got != want {
			t.Errorf("depOf(%q) = %q, want %q", symbol, got, want)
		}
	}
}

func TestDependencyOrder(t *testing.T) {
	got := depOrder([]string{depOther, "policy/ratelimit", depGjson, depMain, "policy", depRuntime, depSDK, depOtherStd})
	want := []string{depRuntime, depOtherStd, depSDK, depGjson, "policy", "policy/ratelimit", depMain, depOther}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("order %q, want %q", got, want)
	}
}

// The breakdown of the no-op plugin, built here both ways: the unstripped
// build has the stripped one's code and names for it, the runtime is most
// of it, the SDK and the bridge are in it and the library is not.
func TestSizeBreakdownOfTheNoopImage(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "build", "names"), 0o755); err != nil {
		t.Fatal(err)
	}
	named, err := os.ReadFile(buildVariant(t, noopName, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(namesPath(root, noopName), named, 0o644); err != nil {
		t.Fatal(err)
	}
	stripped, err := os.ReadFile(buildVariant(t, noopName, false))
	if err != nil {
		t.Fatal(err)
	}

	c, err := readCode(stripped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.functions(); err == nil {
		t.Error("the stripped image has function names")
	}
	nc, err := readCode(named)
	if err != nil {
		t.Fatal(err)
	}
	if imported := nc.funcs[0].Index; imported < 10 || nc.count() < 1000 {
		t.Errorf("%d imported functions, %d defined: want the proxy-wasm and WASI imports and the runtime's functions", imported, nc.count())
	}
	fs, err := nc.functions()
	if err != nil {
		t.Fatal(err)
	}
	mallocgc := false
	for _, f := range fs {
		mallocgc = mallocgc || (f.name == "runtime.mallocgc" && f.size > 100)
	}
	if !mallocgc {
		t.Error("no runtime.mallocgc among the functions: names and bodies do not line up")
	}

	got, err := measureDeps(root, []plugin{{name: noopName, path: "noop.wasm", wasm: stripped}})
	if err != nil {
		t.Fatal(err)
	}
	n := got[noopName]
	t.Logf("%d bytes of code in %d bytes: %v", n.code, len(stripped), n.byDep)
	sum := 0
	for _, v := range n.byDep {
		sum += v
	}
	if sum != n.code || n.code != c.codeBytes() || n.code >= len(stripped) {
		t.Errorf("code %d, by dependency %d, in the stripped image %d, file %d", n.code, sum, c.codeBytes(), len(stripped))
	}
	if rt := n.byDep[depRuntime]; rt < n.code/2 {
		t.Errorf("runtime %d of %d bytes of code", rt, n.code)
	}
	for _, d := range []string{depSDK, depBridge} {
		if n.byDep[d] == 0 {
			t.Errorf("no code of %s", d)
		}
	}
	for d := range n.byDep {
		if strings.HasPrefix(d, "policy") || d == depGjson || d == depOther {
			t.Errorf("the no-op plugin has code of %s", d)
		}
	}

	// Another image's code is not the unstripped build's.
	if _, err := measureDeps(root, []plugin{{name: noopName, path: "chain.wasm", wasm: wasmtest.Image(t, chainName)}}); err == nil ||
		!strings.Contains(err.Error(), "same tree") {
		t.Errorf("unstripped noop against the chain's image: error %v", err)
	}
	if _, err := readCode(named[:len(named)/2]); err == nil {
		t.Error("a truncated image reads without error")
	}
}
