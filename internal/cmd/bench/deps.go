package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The size breakdown groups each image's function code by the dependency
// it belongs to, read from the function names of an unstripped build of the
// image (build/names/NAME.wasm: the same code with a name section). Go's
// wasm linker writes a function's symbol with '_' for every character that
// is not a letter, a digit or '.' ("github.com/tidwall/gjson.parseArray" is
// "github.com_tidwall_gjson.parseArray", "proxy-wasm-go-sdk" is
// "proxy_wasm_go_sdk", "(*decodeState)" is "__decodeState_"), so package
// paths are matched in that spelling.

// The rows of the breakdown that are not packages of this module, in table
// order.
const (
	depRuntime   = "runtime (with internal/runtime/…)"
	depReflect   = "reflect (with internal/reflectlite)"
	depFmt       = "fmt (with internal/fmtsort)"
	depJSON      = "encoding/json"
	depTime      = "time"
	depStrconv   = "strconv (with internal/strconv)"
	depSlices    = "slices"
	depNetip     = "net/netip and unique"
	depCrypto    = "crypto/…"
	depOtherStd  = "other standard library"
	depGenerated = "type equality and hash functions (generated)"
	depSDK       = "github.com/tetratelabs/proxy-wasm-go-sdk"
	depBridge    = "internal/bridge"
	depGjson     = "github.com/tidwall/gjson"
	depSjson     = "github.com/tidwall/sjson"
	depPretty    = "github.com/tidwall/pretty"
	depMatch     = "github.com/tidwall/match"
	depMain      = "main (the image's own package)"
	depOther     = "other modules"
)

// depGroups maps packages, in the linker's spelling, to their rows: a
// package counts for the first group it is in or under.
var depGroups = []struct {
	dep  string
	pkgs []string
}{
	{depRuntime, []string{"runtime", "internal_runtime"}},
	{depReflect, []string{"reflect", "internal_reflectlite"}},
	{depFmt, []string{"fmt", "internal_fmtsort"}},
	{depJSON, []string{"encoding_json"}},
	{depTime, []string{"time"}},
	{depStrconv, []string{"strconv", "internal_strconv"}},
	{depSlices, []string{"slices"}},
	{depNetip, []string{"net_netip", "unique"}},
	{depCrypto, []string{"crypto", "vendor_golang.org_x_crypto"}},
	{depSDK, []string{"github.com_tetratelabs_proxy_wasm_go_sdk"}},
	{depBridge, []string{modulePkg + "_internal_bridge"}},
	{depGjson, []string{"github.com_tidwall_gjson"}},
	{depSjson, []string{"github.com_tidwall_sjson"}},
	{depPretty, []string{"github.com_tidwall_pretty"}},
	{depMatch, []string{"github.com_tidwall_match"}},
	{depMain, []string{"main"}},
}

// modulePkg is this module's path as the linker writes it.
const modulePkg = "github.com_wasmpolicy_policy"

// hostPart matches the host at the start of a package path outside the
// standard library ("github.com_", "golang.org_"), vendored or not: the
// first element of a standard library path has no dot.
var hostPart = regexp.MustCompile(`^(vendor_)?[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|org|net|io|in|dev)_`)

// packageOf returns the package path of a function symbol, in the
// linker's spelling: everything up to the first '.' after the host part.
// It is "" for a function outside any package (the runtime's assembly,
// the stubs of go:wasmexport functions).
func packageOf(symbol string) string {
	host := 0
	if m := hostPart.FindStringIndex(symbol); m != nil {
		host = m[1]
	}
	i := strings.IndexByte(symbol[host:], '.')
	if i < 0 {
		return ""
	}
	return symbol[:host+i]
}

// depOf returns the row of the breakdown a function counts for. This
// module's packages other than the bridge get a row each, named by their
// path: "policy" for the root, "policy/ratelimit".
func depOf(symbol string) string {
	if strings.HasPrefix(symbol, "type_.") {
		return depGenerated // type_.eq.T, type_.hash.T: the compiler's, for type T
	}
	pkg := packageOf(symbol)
	if pkg == "" {
		return depRuntime
	}
	for _, g := range depGroups {
		for _, p := range g.pkgs {
			if within(pkg, p) {
				return g.dep
			}
		}
	}
	switch {
	case pkg == modulePkg:
		return "policy"
	case within(pkg, modulePkg):
		return "policy/" + strings.ReplaceAll(strings.TrimPrefix(pkg, modulePkg+"_"), "_", "/")
	case hostPart.MatchString(pkg):
		return depOther
	}
	return depOtherStd
}

// within reports whether pkg is p or a package below it.
func within(pkg, p string) bool {
	return pkg == p || strings.HasPrefix(pkg, p+"_")
}

// codeByDep sums the function code of each row.
func codeByDep(fs []function) map[string]int {
	out := map[string]int{}
	for _, f := range fs {
		out[depOf(f.name)] += f.size
	}
	return out
}

// depOrder sorts rows in table order: the standard library, the SDK and the
// bridge, the tidwall modules, this module's packages by path, the image's
// own package, other modules.
func depOrder(deps []string) []string {
	rank := map[string]int{}
	for i, d := range []string{depRuntime, depReflect, depFmt, depJSON, depTime, depStrconv, depSlices, depNetip, depCrypto,
		depOtherStd, depGenerated, depSDK, depBridge, depGjson, depSjson, depPretty, depMatch} {
		rank[d] = i + 1
	}
	last := len(rank) + 2
	rank[depMain], rank[depOther] = last, last+1
	out := append([]string(nil), deps...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank[out[i]], rank[out[j]]
		if ri == 0 {
			ri = last - 1 // this module's packages
		}
		if rj == 0 {
			rj = last - 1
		}
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

// imageCode is one image's function code by row, and all of it.
type imageCode struct {
	byDep map[string]int
	code  int
}

// measureDeps reads the unstripped build of each image the size table
// lists, except the tutorial's peers (not examples), and checks that its
// code is the image's own.
func measureDeps(root string, ps []plugin) (map[string]imageCode, error) {
	out := map[string]imageCode{}
	for _, p := range images(ps) {
		if p.peer {
			continue
		}
		path := namesPath(root, p.name)
		wasm, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%w (make bench builds it: make %s)", err, filepath.ToSlash(filepath.Join("build", "names", p.name+".wasm")))
		}
		if out[p.name], err = namedCode(path, wasm, p.path, p.wasm); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// namesPath is where make bench builds the unstripped variant of NAME.wasm.
func namesPath(root, name string) string {
	return filepath.Join(root, "build", "names", name+".wasm")
}
