package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

const gjsonInit = `package gjson

import (
	"github.com/tidwall/match"
	"github.com/tidwall/pretty"
)

func init() {
	stockModifiers = map[string]func(json, arg string) string{
		"pretty":  modPretty,
		"ugly":    modUgly,
		"reverse": modReverse,
	}
}
`

func TestPatchGjsonRemovesTheTwoEntries(t *testing.T) {
	src := gjsonInit + "\nfunc modPretty(json, arg string) string { return pretty.Pretty(json) }\n"
	got, err := patchGjson([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(src, "\t\t\"pretty\":  modPretty,\n\t\t\"ugly\":    modUgly,\n", "", 1)
	if string(got) != want {
		t.Errorf("patched:\n%s\nwant:\n%s", got, want)
	}

	// Without a use of pretty left, its import is made blank.
	got, err = patchGjson([]byte(gjsonInit))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "\t_ \"github.com/tidwall/pretty\"\n") {
		t.Errorf("pretty's import is not blank:\n%s", got)
	}
}

func TestPatchGjsonFailsWhenGjsonChanged(t *testing.T) {
	for name, src := range map[string]string{
		"no init":        strings.Replace(gjsonInit, "func init() {", "func setup() {", 1),
		"no ugly":        strings.Replace(gjsonInit, "\t\t\"ugly\":    modUgly,\n", "", 1),
		"pretty renamed": strings.Replace(gjsonInit, "modPretty", "modIndent", 1),
		"outside init":   strings.Replace(gjsonInit, "\t\t\"pretty\":  modPretty,\n", "", 1) + "var m = map[string]any{\n\t\"pretty\": modPretty,\n}\n",
	} {
		if _, err := patchGjson([]byte(src)); err == nil || !strings.HasPrefix(err.Error(), "gjson changed: ") {
			t.Errorf("%s: error %v, want one saying gjson changed", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// On the real module: the copy go.mod's version gives has the two entries,
// loses them, still builds, and the chain built against it is smaller than
// the chain as built.
func TestChainWithoutGjsonModifiersBuildsSmaller(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the chain twice")
	}
	root, dir := wasmtest.Root(), t.TempDir()
	gowork, module, err := gjsonWorkspace(root, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(module, gjsonModule+"@v") {
		t.Errorf("module %q", module)
	}
	patched, err := os.ReadFile(filepath.Join(dir, "gjson", "gjson.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range gjsonModifierLines {
		if m.line.Match(patched) {
			t.Errorf("the copy still has %s", m.entry)
		}
	}
	if !bytes.Contains(patched, []byte(`"reverse":`)) {
		t.Error("the copy lost the other modifiers")
	}
	work, err := os.ReadFile(gowork)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(work), "go 1.26\n") || !strings.Contains(string(work), "replace "+strings.Replace(module, "@", " ", 1)+" => ") {
		t.Errorf("go.work:\n%s", work)
	}

	built := buildVariant(t, chainName, false)
	without := filepath.Join(dir, "chain.wasm")
	if err := goBuildEnv(root, []string{"GOWORK=" + gowork}, []string{"-buildmode=c-shared", "-trimpath", "-ldflags=-s -w"}, without, "./examples/chain"); err != nil {
		t.Fatal(err)
	}
	a, b := fileSize(t, built), fileSize(t, without)
	t.Logf("chain %d bytes as built, %d without gjson's @pretty and @ugly", a, b)
	if b >= a {
		t.Errorf("the chain without the modifiers is %d bytes, as built %d", b, a)
	}
	// The image still serves: the modifiers it lost are not the library's.
	p := plugin{name: chainName, wasm: mustRead(t, without), config: mustRead(t, filepath.Join(root, "examples", chainName, "config.json"))}
	ctx := context.Background()
	r, err := newRunner(ctx, p, host.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close(ctx)
	if _, _, _, err := r.serveN(ctx, 3); err != nil {
		t.Error(err)
	}
}

func fileSize(t *testing.T, path string) int {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Size())
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
