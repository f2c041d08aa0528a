// Command deployfiles writes every example's deployment files
// (examples/NAME/wasmplugin.yaml and envoy.yaml) from its config.json; see
// package deploy. `go generate ./examples` runs it.
//
//	deployfiles [-root DIR] [-registry HOST/PATH]
//
// -registry changes the registry the WasmPlugins pull from (a placeholder by
// default); with it, write the files to a copy of the repository.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/wasmpolicy/policy/internal/deploy"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	registry := flag.String("registry", deploy.DefaultRegistry, "registry the WasmPlugins name")
	flag.Parse()
	if err := write(*root, *registry); err != nil {
		fmt.Fprintln(os.Stderr, "deployfiles:", err)
		os.Exit(1)
	}
}

func write(root, registry string) error {
	files, err := deploy.Files(root, registry)
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := os.WriteFile(filepath.Join(root, p), files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}
