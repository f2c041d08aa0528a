package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/wasmpolicy/policy/internal/host"
)

// The plugins the report names specially.
const (
	noopName  = "noop"  // the floor
	chainName = "chain" // the tutorial's scenario: all five filters
	jwtName   = "jwt"   // the verifier: measured once per signature algorithm
	// llmBudgetName is the token budget: its cost's default is 0 in the
	// benchmark (benchConfig), and the token budgets section runs it.
	llmBudgetName = "llmbudget"
	// routesName checks an API key on the route "api", the route of the
	// benchmark request: the request carries the example's key
	// (routesRequest).
	routesName = "routes"
)

// The tutorial's peers: Istio's Wasm rate-limiting tutorial plugin written
// directly against the SDK (internal/testdata/tutorial), and the library
// doing the same two things, a rate limit of 2 requests per second with a
// 403 and two response headers (internal/testdata/tutoriallib, only those
// two filter kinds linked in). Each image runs in two configurations, one
// row each.
const (
	tutorialName    = "tutorial"
	tutorialLibName = "tutoriallib"

	tutorialLabel      = "tutorial"             // as written: a log line per request
	tutorialQuietLabel = "tutorial (no log)"    // configured "quiet"
	libProxyLabel      = "library (proxy-wide)" // buckets in the proxy's shared data
	libWorkerLabel     = "library (worker)"     // buckets in the VM's memory
)

// tutorialLibConfig is tutoriallib's configuration: the tutorial's headers,
// then its limit and denial. scope is "proxy" or "worker". Like the chain's
// limit it reads request.time, which moves a requestGap per benchmark
// request, so 2 per second admits every one.
func tutorialLibConfig(scope string) []byte {
	return []byte(`{"filters":[` +
		`{"name":"headermutate","config":{"response":{"set":{"who-am-i":"wasm-extension","injected-by":"istio-api!"}}}},` +
		`{"name":"ratelimit","config":{"requests_per_unit":2,"unit":"second","scope":"` + scope + `",` +
		`"deny":{"status":403,"body":"Access forbidden - token bucket empty"}}}]}`)
}

// plugin is one compiled image with the configuration it runs.
type plugin struct {
	name   string // the example's name; noopName for the floor
	label  string // how tables and the chart name it; name when empty
	path   string // the image file
	wasm   []byte
	config []byte // plugin configuration; nil for the no-op plugin
	// headers are the benchmark request's headers; requestHeaders when nil.
	headers [][2]string
	// peer marks the tutorial's peers, which are not examples: the targets
	// on examples, wasm-opt and the size breakdown leave them out.
	peer bool
	// allocPath is the image's allocstats variant (built with the
	// policy_allocstats tag), whose exports count the Go runtime's heap
	// allocations; "" when there is none.
	allocPath string
	// rev is the baseline revision the image was built from (its short
	// hash); "" for the current tree.
	rev string
	// deniedWith is the status a plugin that denies the benchmark request
	// answers it with (the hostile-path measure's unreadable paths); 0
	// when the request must reach the upstream, -1 when any answer will do
	// (an earlier revision's image, which may read a path otherwise).
	deniedWith int
	// body is the benchmark request's body; none when nil.
	body []byte
	// wasiClock marks a plugin that limits by the WASI clock (time.Now)
	// rather than request.time: its host's clock moves a requestGap per
	// reading (see steppingClock).
	wasiClock bool
	// toolchain is how the image was built: the zero value for upstream
	// Go, or one of the TinyGo builds.
	toolchain toolchain
	// response is the upstream's answer to the benchmark request;
	// upstreamResponse when nil.
	response *host.Response
}

// answer is the upstream's answer to p's benchmark request.
func (p plugin) answer() *host.Response {
	if p.response != nil {
		return p.response
	}
	return upstreamResponse
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

// image names p's image, which entries running it share (the jwt
// example's two tokens, each peer's two configurations): the example's
// name, with the toolchain for a TinyGo build ("chain (TinyGo)").
func (p plugin) image() string { return p.toolchain.entry(p.name) }

// toolchain is how a set of images was built: with upstream Go, as the
// Makefile builds by default into build/, or with TinyGo and one of its
// collectors (make TOOLCHAIN=tinygo, into build/tinygo and
// build/tinygo-GC). The zero value is upstream Go.
type toolchain struct {
	// dir holds the images (dir/NAME.wasm) and their allocstats variants
	// (dir/allocstats/NAME.wasm), relative to the root.
	dir string
	// tinygo is the collector of a TinyGo build; nil for upstream Go.
	tinygo *tinygoCollector
}

// upstreamGo is the Makefile's default build: upstream Go, into build/.
var upstreamGo = toolchain{dir: "build"}

// entry is label, the label of an upstream-Go entry ("chain", "jwt
// (RS256)"), with the TinyGo build added: "chain (TinyGo)", "jwt (RS256,
// TinyGo)". It is label itself for upstream Go.
func (t toolchain) entry(label string) string {
	switch {
	case t.tinygo == nil:
		return label
	case strings.HasSuffix(label, ")"):
		return strings.TrimSuffix(label, ")") + ", " + t.tinygo.label + ")"
	}
	return label + " (" + t.tinygo.label + ")"
}

// makeCommand is the make command that builds targets with t.
func (t toolchain) makeCommand(targets ...string) string {
	cmd := "make " + strings.Join(targets, " ")
	if t.tinygo != nil {
		cmd += " TOOLCHAIN=tinygo TINYGO_GC=" + t.tinygo.gc
	}
	return cmd
}

// loadPlugins reads the upstream-Go images: build/noop.wasm and, for every
// examples/NAME with a config.json, build/NAME.wasm: the no-op plugin
// first, then the examples, the chain, and the tutorial's peers last.
func loadPlugins(root string) ([]plugin, error) {
	out, err := loadExamples(root, upstreamGo)
	if err != nil {
		return nil, err
	}
	peers, err := loadPeers(root)
	if err != nil {
		return nil, err
	}
	return append(out, peers...), nil
}

// loadExamples reads the images tc built: tc.dir/noop.wasm and, for every
// examples/NAME with a config.json, tc.dir/NAME.wasm: the no-op plugin
// first, then the examples, then the chain. A TinyGo build's entries are
// labelled with its toolchain (toolchain.entry).
func loadExamples(root string, tc toolchain) ([]plugin, error) {
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
		p := plugin{name: n, path: filepath.Join(root, tc.dir, n+".wasm"), allocPath: tc.allocPath(root, n), toolchain: tc}
		if p.wasm, err = os.ReadFile(p.path); err != nil {
			return nil, fmt.Errorf("%w (build the images first: %s)", err,
				tc.makeCommand("examples", filepath.ToSlash(filepath.Join(tc.dir, noopName+".wasm"))))
		}
		if n != noopName {
			if p.config, err = os.ReadFile(filepath.Join(root, "examples", n, "config.json")); err != nil {
				return nil, err
			}
			if p.config, err = benchConfig(n, p.config); err != nil {
				return nil, err
			}
		}
		if n == routesName {
			if p.headers, err = routesRequest(p.config); err != nil {
				return nil, err
			}
		}
		entries := []plugin{p}
		if n == jwtName {
			rs, es := p, p
			rs.label, rs.headers = jwtName+" (RS256)", withBearer(jwtRS256Token)
			es.label, es.headers = jwtName+" (ES256)", withBearer(jwtES256Token)
			entries = []plugin{rs, es}
		}
		for _, e := range entries {
			if tc.tinygo != nil {
				e.label = tc.entry(e.String())
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// llmBudgetDefault is the JSON path of the llmbudget example's default
// cost, what a response that reports no usage is charged.
const llmBudgetDefault = "filters.0.config.cost.default"

// benchConfig is the configuration example name runs with in the
// benchmark: config, its config.json, except for llmbudget, whose default
// cost is 0. The benchmark request is a GET answered by a 3-byte text/plain
// body, which reports no usage, so each would be charged the default, 1000
// tokens: the budget of 10,000 an hour would refuse the requests, a second
// apart, within a dozen, and the run would fail. At 0 every request is
// admitted, and the filter does all its work but the draw from the budget,
// which a cost of 0 skips. A config.json without the default there is an
// error rather than given one.
func benchConfig(name string, config []byte) ([]byte, error) {
	if name != llmBudgetName {
		return config, nil
	}
	if !gjson.GetBytes(config, llmBudgetDefault).Exists() {
		return nil, fmt.Errorf("examples/%s/config.json has no %s: the benchmark sets it to 0", name, llmBudgetDefault)
	}
	return sjson.SetBytes(config, llmBudgetDefault, 0)
}

// The header and key of the routes example's key check, in its config.json.
const (
	routesHeader = "filters.0.config.header"
	routesKey    = "filters.0.config.keys.reports"
)

// routesRequest is the benchmark request with the key the routes example
// asks for on its route "api", which every benchmark request is on: the
// check runs and admits it, and the limit on the route "login" is skipped.
func routesRequest(config []byte) ([][2]string, error) {
	header, key := gjson.GetBytes(config, routesHeader), gjson.GetBytes(config, routesKey)
	if header.Type != gjson.String || key.Type != gjson.String {
		return nil, fmt.Errorf("examples/%s/config.json has no %s and %s: the benchmark request sends that key", routesName, routesHeader, routesKey)
	}
	return append(append([][2]string{}, requestHeaders...), [2]string{header.Str, key.Str}), nil
}

// loadPeers reads build/tutorial.wasm and build/tutoriallib.wasm, and
// returns their four rows.
func loadPeers(root string) ([]plugin, error) {
	wasms := map[string][]byte{}
	for _, n := range []string{tutorialName, tutorialLibName} {
		wasm, err := os.ReadFile(filepath.Join(root, "build", n+".wasm"))
		if err != nil {
			return nil, fmt.Errorf("%w (build it first: make build/%s.wasm)", err, n)
		}
		wasms[n] = wasm
	}
	peer := func(name, label string, config []byte) plugin {
		return plugin{name: name, label: label, path: filepath.Join(root, "build", name+".wasm"), wasm: wasms[name],
			allocPath: upstreamGo.allocPath(root, name), config: config, peer: true, wasiClock: name == tutorialName}
	}
	return []plugin{
		peer(tutorialName, tutorialLabel, nil),
		peer(tutorialName, tutorialQuietLabel, []byte("quiet")),
		peer(tutorialLibName, libProxyLabel, tutorialLibConfig("proxy")),
		peer(tutorialLibName, libWorkerLabel, tutorialLibConfig("worker")),
	}, nil
}

// images is the first entry of each image of ps (plugin.image), in
// order: the entries that run one image (the jwt example's two tokens,
// each peer's two configurations) share its size, code and compile time,
// which are measured and listed once.
func images(ps []plugin) []plugin {
	var out []plugin
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p.image()] {
			seen[p.image()] = true
			out = append(out, p)
		}
	}
	return out
}

// allocPath is where make bench builds the allocstats variant of NAME.wasm
// built with t.
func (t toolchain) allocPath(root, name string) string {
	return filepath.Join(root, t.dir, "allocstats", name+".wasm")
}
