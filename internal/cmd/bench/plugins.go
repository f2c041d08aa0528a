package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// The plugins the report names specially.
const (
	noopName  = "noop"  // the floor
	chainName = "chain" // the tutorial's scenario: all five filters
	jwtName   = "jwt"   // the verifier: measured once per signature algorithm
)

// plugin is one compiled image with the configuration it runs.
type plugin struct {
	name   string // the example's name; noopName for the floor
	label  string // how tables and the chart name it; name when empty
	path   string // the image file
	wasm   []byte
	config []byte // plugin configuration; nil for the no-op plugin
	// headers are the benchmark request's headers; requestHeaders when nil.
	headers [][2]string
}

// request returns the headers of p's benchmark request.
func (p plugin) request() [][2]string {
	if p.headers != nil {
		return p.headers
	}
	return requestHeaders
}

func (p plugin) String() string {
	if p.label != "" {
		return p.label
	}
	return p.name
}

// loadPlugins reads build/noop.wasm and, for every examples/NAME with a
// config.json, build/NAME.wasm: the no-op plugin first, the chain last.
func loadPlugins(root string) ([]plugin, error) {
	configs, err := filepath.Glob(filepath.Join(root, "examples", "*", "config.json"))
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, c := range configs {
		if n := filepath.Base(filepath.Dir(c)); n != chainName {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	names = append(append([]string{noopName}, names...), chainName)

	var out []plugin
	for _, n := range names {
		p := plugin{name: n, path: filepath.Join(root, "build", n+".wasm")}
		if p.wasm, err = os.ReadFile(p.path); err != nil {
			return nil, fmt.Errorf("%w (build the images first: make examples build/noop.wasm)", err)
		}
		if n != noopName {
			if p.config, err = os.ReadFile(filepath.Join(root, "examples", n, "config.json")); err != nil {
				return nil, err
			}
		}
		if n == jwtName {
			rs, es := p, p
			rs.label, rs.headers = jwtName+" (RS256)", withBearer(jwtRS256Token)
			es.label, es.headers = jwtName+" (ES256)", withBearer(jwtES256Token)
			out = append(out, rs, es)
			continue
		}
		out = append(out, p)
	}
	return out, nil
}
