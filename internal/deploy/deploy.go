// Package deploy generates each example's deployment files from its
// config.json: examples/NAME/wasmplugin.yaml, an Istio WasmPlugin, and
// examples/NAME/envoy.yaml, a static Envoy configuration for local use.
// Both embed config.json unchanged, so the three cannot drift apart; run
// `go generate ./examples` after editing a config.json or Examples.
package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// DefaultRegistry is the registry the committed WasmPlugins name: a
// placeholder to replace with the one `make push REGISTRY=…` pushed to.
const DefaultRegistry = "registry.example.com/wasmpolicy"

// Example is how one example is deployed.
type Example struct {
	// Name is the example's directory under examples/ and its image's
	// repository name.
	Name string
	// Phase is where Istio inserts the plugin in the proxy's filter chain:
	// "AUTHN" (before Istio's authentication filters), "AUTHZ" (after them,
	// before Istio's authorization filters), "STATS" (after those, before
	// Istio's stats filters), or "" for Istio's default, the end of the
	// chain just before the router.
	Phase string
	// Why is the reason for Phase, written into the WasmPlugin.
	Why string
	// Priority orders plugins of the same phase on one workload: higher
	// runs first.
	Priority int
	// FailOpen lets traffic bypass the plugin when it cannot be fetched or
	// its VM fails (Istio's FAIL_OPEN, Envoy's fail_open); false fails
	// requests closed, as security filters must.
	FailOpen bool
	// Namespace and Selector choose the workloads the WasmPlugin applies
	// to: one label, Selector[0]=Selector[1].
	Namespace string
	Selector  [2]string
	// Clusters are the upstreams the configuration calls out to, which
	// envoy.yaml must define (the Istio mesh already has them as services).
	Clusters []Cluster
	// Routes are the named routes of envoy.yaml, in the order Envoy tries
	// them, before its catch-all route (then named "default"): the names
	// the configuration's "routes" conditions match (route_name). In Istio
	// they are the names of VirtualService http routes.
	Routes []Route
}

// Route is a named route of the Envoy configuration: the requests whose
// path starts with Prefix, compared ignoring case, go to the backend under
// the route name Name.
type Route struct {
	Name   string
	Prefix string
}

// Cluster is an upstream for the Envoy configuration, on loopback.
type Cluster struct {
	Name string
	Port int
}

var (
	gateway = [2]string{"istio", "ingressgateway"}
	httpbin = [2]string{"app", "httpbin"}
)

// Examples lists every example that has a config.json, with how it is
// deployed. The phases follow Istio's definitions; the README's table of
// filters and phases says the same.
var Examples = []Example{
	{
		Name: "headerauth", Phase: "AUTHN", Priority: 10, Namespace: "istio-system", Selector: gateway,
		Why: "it authenticates the caller by a header, so it runs with authentication, before Istio's own; at the ingress gateway, as in the managed-mesh tutorial",
	},
	{
		Name: "ratelimit", Phase: "AUTHZ", Priority: 20, FailOpen: true, Namespace: "default", Selector: httpbin,
		Why: "admitting a request now is an authorization decision; after authentication, so limits can key on the verified identity, and first in its phase so that excess load is shed before any other check; fails open like Envoy's rate limit filter, since a missing limiter must not take the service down",
	},
	{
		Name: "globalratelimit", Phase: "AUTHZ", Priority: 20, FailOpen: true, Namespace: "default", Selector: httpbin,
		Why:      "like the ratelimit example: a limit is an authorization decision, taken first in its phase so excess load is shed before other checks; fails open like Envoy's rate limit filter",
		Clusters: []Cluster{{Name: "ratelimit", Port: 8081}},
	},
	{
		Name: "jwt", Phase: "AUTHN", Priority: 10, Namespace: "default", Selector: httpbin,
		Why: "it authenticates the caller by verifying its token, so it runs with authentication, before Istio's own; its authz rules see only the claims it verified",
	},
	{
		Name: "authz", Phase: "AUTHZ", Priority: 10, Namespace: "default", Selector: httpbin,
		Why: "custom authorization runs after Istio's authentication, whose results it can use, and before Istio's authorization policies",
	},
	{
		Name: "metrics", Phase: "STATS", Priority: 10, FailOpen: true, Namespace: "default", Selector: httpbin,
		Why: "telemetry runs with Istio's stats filters, after the filters whose decisions it counts; it never blocks traffic, so it fails open",
	},
	{
		Name: "headermutate", Phase: "", Priority: 10, Namespace: "default", Selector: httpbin,
		Why: "header changes belong to no Istio phase: at the end of the chain, request headers are set after every check has seen the original ones, and response headers are set first on the way back",
	},
	{
		Name: "llmbudget", Phase: "AUTHZ", Priority: 20, FailOpen: true, Namespace: "default", Selector: httpbin,
		Why: "a token budget is a rate limit: an authorization decision taken after authentication, first in its phase; it fails open like Envoy's rate limit filter, since a missing limiter must not take the API down",
	},
	{
		Name: "jsonbody", Phase: "AUTHZ", Priority: 10, Namespace: "default", Selector: httpbin,
		Why: "its rule on the request body is an authorization decision, taken after Istio's authentication; its body rewrite then hands the backend the stamped body, and strips the response before any other filter sees it on the way back",
	},
	{
		Name: "routes", Phase: "AUTHN", Priority: 10, Namespace: "istio-system", Selector: gateway,
		Why:    "its first filter authenticates API callers, so the plugin runs with authentication; at the ingress gateway, whose routes are the VirtualService http routes the filters' matches name (a sidecar's inbound route is called default whatever the VirtualServices say)",
		Routes: []Route{{Name: "login", Prefix: "/login"}, {Name: "api", Prefix: "/api"}},
	},
	{
		Name: "chain", Phase: "AUTHN", Priority: 10, Namespace: "default", Selector: httpbin,
		Why: "one plugin holds all five filters and runs them in the configured order, so it goes where its first check, headerauth, belongs",
	},
}

// Lookup returns the deployment of the example called name.
func Lookup(name string) (Example, bool) {
	for _, e := range Examples {
		if e.Name == name {
			return e, true
		}
	}
	return Example{}, false
}

// Files returns every generated file, by path relative to root (the
// repository), with WasmPlugins naming images in registry. It fails if an
// example with a config.json has no entry in Examples, or the reverse.
func Files(root, registry string) (map[string][]byte, error) {
	configs, err := filepath.Glob(filepath.Join(root, "examples", "*", "config.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(configs)
	files := map[string][]byte{}
	seen := map[string]bool{}
	for _, path := range configs {
		name := filepath.Base(filepath.Dir(path))
		e, ok := Lookup(name)
		if !ok {
			return nil, fmt.Errorf("examples/%s has a config.json but no deployment settings: add it to deploy.Examples", name)
		}
		seen[name] = true
		config, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		wp, err := WasmPlugin(e, config, registry)
		if err != nil {
			return nil, fmt.Errorf("examples/%s: %w", name, err)
		}
		ev, err := Envoy(e, config)
		if err != nil {
			return nil, fmt.Errorf("examples/%s: %w", name, err)
		}
		files[filepath.Join("examples", name, "wasmplugin.yaml")] = wp
		files[filepath.Join("examples", name, "envoy.yaml")] = ev
	}
	for _, e := range Examples {
		if !seen[e.Name] {
			return nil, fmt.Errorf("deploy.Examples lists %q, but examples/%s/config.json does not exist", e.Name, e.Name)
		}
	}
	return files, nil
}
