package examples_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tidwall/sjson"
	"gopkg.in/yaml.v3"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/authz/jwt"
	"github.com/wasmpolicy/policy/bodymutate"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/deploy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/metrics/metricstest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// plugins are the examples' plugins, compiled into the test: each
// examples/NAME/main.go serves policy.Configured with these kinds.
var plugins = map[string][]policy.Kind{
	"authz":           {authz.Kind},
	"jwt":             {jwt.Kind, authz.Kind},
	"headerauth":      {headerauth.Kind},
	"headermutate":    {headermutate.Kind},
	"jsonbody":        {authz.Kind, bodymutate.Kind},
	"llmbudget":       {ratelimit.Kind},
	"metrics":         {metrics.Kind},
	"ratelimit":       {ratelimit.Kind},
	"globalratelimit": {ratelimit.Kind},
	"routes":          {headerauth.Kind, ratelimit.Kind},
	"chain":           {ratelimit.Kind, headerauth.Kind, headermutate.Kind, authz.Kind, metrics.Kind},
}

// wasmPlugin is the part of Istio's WasmPlugin the generated files use;
// decoding rejects any other field.
type wasmPlugin struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		URL          string         `yaml:"url"`
		Phase        string         `yaml:"phase"`
		Priority     *int           `yaml:"priority"`
		FailStrategy string         `yaml:"failStrategy"`
		PluginConfig map[string]any `yaml:"pluginConfig"`
	} `yaml:"spec"`
}

// The Envoy bootstrap, as far as the generated files use it.
type (
	bootstrap struct {
		StaticResources struct {
			Listeners []struct {
				Name         string  `yaml:"name"`
				Address      address `yaml:"address"`
				FilterChains []struct {
					Filters []struct {
						Name        string `yaml:"name"`
						TypedConfig hcm    `yaml:"typed_config"`
					} `yaml:"filters"`
				} `yaml:"filter_chains"`
			} `yaml:"listeners"`
			Clusters []struct {
				Name           string `yaml:"name"`
				ConnectTimeout string `yaml:"connect_timeout"`
				Type           string `yaml:"type"`
				LoadAssignment struct {
					ClusterName string `yaml:"cluster_name"`
					Endpoints   []struct {
						LbEndpoints []struct {
							Endpoint struct {
								Address address `yaml:"address"`
							} `yaml:"endpoint"`
						} `yaml:"lb_endpoints"`
					} `yaml:"endpoints"`
				} `yaml:"load_assignment"`
			} `yaml:"clusters"`
		} `yaml:"static_resources"`
		StatsConfig struct {
			StatsTags []struct {
				TagName string `yaml:"tag_name"`
				Regex   string `yaml:"regex"`
			} `yaml:"stats_tags"`
		} `yaml:"stats_config"`
		Admin struct {
			Address address `yaml:"address"`
		} `yaml:"admin"`
	}
	address struct {
		SocketAddress struct {
			Address   string `yaml:"address"`
			PortValue int    `yaml:"port_value"`
		} `yaml:"socket_address"`
	}
	hcm struct {
		Type          string `yaml:"@type"`
		StatPrefix    string `yaml:"stat_prefix"`
		NormalizePath bool   `yaml:"normalize_path"`
		MergeSlashes  bool   `yaml:"merge_slashes"`
		RouteConfig   struct {
			Name         string `yaml:"name"`
			VirtualHosts []struct {
				Name    string   `yaml:"name"`
				Domains []string `yaml:"domains"`
				Routes  []struct {
					Name  string `yaml:"name"`
					Match struct {
						Prefix        string `yaml:"prefix"`
						CaseSensitive *bool  `yaml:"case_sensitive"`
					} `yaml:"match"`
					Route struct {
						Cluster string `yaml:"cluster"`
					} `yaml:"route"`
				} `yaml:"routes"`
			} `yaml:"virtual_hosts"`
		} `yaml:"route_config"`
		HTTPFilters []struct {
			Name        string `yaml:"name"`
			TypedConfig struct {
				Type   string      `yaml:"@type"`
				Config *wasmConfig `yaml:"config"`
			} `yaml:"typed_config"`
		} `yaml:"http_filters"`
	}
	wasmConfig struct {
		Name     string `yaml:"name"`
		FailOpen bool   `yaml:"fail_open"`
		VMConfig struct {
			VMID    string `yaml:"vm_id"`
			Runtime string `yaml:"runtime"`
			Code    struct {
				Local struct {
					Filename string `yaml:"filename"`
				} `yaml:"local"`
			} `yaml:"code"`
		} `yaml:"vm_config"`
		Configuration struct {
			Type  string `yaml:"@type"`
			Value string `yaml:"value"`
		} `yaml:"configuration"`
	}
)

const (
	hcmType    = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	wasmType   = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
	routerType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
	stringType = "type.googleapis.com/google.protobuf.StringValue"
)

// example is one examples/NAME directory with a config.json.
type example struct {
	name   string
	config []byte
}

func examples(t *testing.T) []example {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("*", "config.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples/*/config.json: %v", err)
	}
	var out []example
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, example{name: filepath.Dir(p), config: b})
	}
	return out
}

func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go generate ./examples writes it)", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v in %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// The committed files are what the generator writes from today's
// config.json files.
func TestDeployFilesUpToDate(t *testing.T) {
	files, err := deploy.Files("..", deploy.DefaultRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * len(examples(t)); len(files) != want {
		t.Errorf("generated %d files, want %d (two per example)", len(files), want)
	}
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join("..", path))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not up to date (%v): run go generate ./examples", path, err)
		}
	}
}

// pluginConfigJSON is the JSON Istio hands the plugin for a WasmPlugin's
// pluginConfig.
func pluginConfigJSON(t *testing.T, wp wasmPlugin) []byte {
	t.Helper()
	b, err := json.Marshal(wp.Spec.PluginConfig)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWasmPlugins(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex.name, func(t *testing.T) {
			var wp wasmPlugin
			decodeStrict(t, filepath.Join(ex.name, "wasmplugin.yaml"), &wp)
			if wp.APIVersion != "extensions.istio.io/v1alpha1" || wp.Kind != "WasmPlugin" || wp.Metadata.Name != ex.name || wp.Metadata.Namespace == "" {
				t.Errorf("header: %s %s %s/%s", wp.APIVersion, wp.Kind, wp.Metadata.Namespace, wp.Metadata.Name)
			}
			if len(wp.Spec.Selector.MatchLabels) != 1 {
				t.Errorf("selector = %v, want one label", wp.Spec.Selector.MatchLabels)
			}
			if want := "oci://" + deploy.DefaultRegistry + "/" + ex.name + ":latest"; wp.Spec.URL != want {
				t.Errorf("url = %q, want %q (the image make push writes)", wp.Spec.URL, want)
			}
			if !slices.Contains([]string{"", "AUTHN", "AUTHZ", "STATS"}, wp.Spec.Phase) {
				t.Errorf("phase = %q", wp.Spec.Phase)
			}
			if wp.Spec.Priority == nil || !slices.Contains([]string{"FAIL_CLOSE", "FAIL_OPEN"}, wp.Spec.FailStrategy) {
				t.Errorf("priority %v, failStrategy %q", wp.Spec.Priority, wp.Spec.FailStrategy)
			}
			if security := ex.name == "headerauth" || ex.name == "authz" || ex.name == "chain" || ex.name == "routes"; security && wp.Spec.FailStrategy != "FAIL_CLOSE" {
				t.Errorf("failStrategy %s: an authentication or authorization plugin must fail closed", wp.Spec.FailStrategy)
			}
			if got := pluginConfigJSON(t, wp); !sameJSON(t, got, ex.config) {
				t.Errorf("pluginConfig is not config.json:\n%s\n%s", got, ex.config)
			}
		})
	}
}

// envoyConfig returns the parsed envoy.yaml and its Wasm filter.
func envoyConfig(t *testing.T, name string) (bootstrap, *wasmConfig) {
	t.Helper()
	var b bootstrap
	decodeStrict(t, filepath.Join(name, "envoy.yaml"), &b)
	ls := b.StaticResources.Listeners
	if len(ls) != 1 || len(ls[0].FilterChains) != 1 || len(ls[0].FilterChains[0].Filters) != 1 {
		t.Fatalf("want one listener with one filter chain of one filter: %+v", ls)
	}
	h := ls[0].FilterChains[0].Filters[0].TypedConfig
	if h.Type != hcmType || len(h.HTTPFilters) != 2 {
		t.Fatalf("want the HTTP connection manager with two HTTP filters, got %s with %d", h.Type, len(h.HTTPFilters))
	}
	wasm, router := h.HTTPFilters[0], h.HTTPFilters[1]
	if wasm.Name != "envoy.filters.http.wasm" || wasm.TypedConfig.Type != wasmType || wasm.TypedConfig.Config == nil {
		t.Fatalf("first HTTP filter = %s (%s), want the Wasm filter", wasm.Name, wasm.TypedConfig.Type)
	}
	if router.Name != "envoy.filters.http.router" || router.TypedConfig.Type != routerType {
		t.Errorf("last HTTP filter = %s (%s), want the router", router.Name, router.TypedConfig.Type)
	}
	return b, wasm.TypedConfig.Config
}

func TestEnvoyConfigs(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex.name, func(t *testing.T) {
			b, w := envoyConfig(t, ex.name)
			if w.Name != ex.name || w.VMConfig.VMID != ex.name || w.VMConfig.Runtime != "envoy.wasm.runtime.v8" {
				t.Errorf("plugin %q, vm %q, runtime %q", w.Name, w.VMConfig.VMID, w.VMConfig.Runtime)
			}
			if want := "build/" + ex.name + ".wasm"; w.VMConfig.Code.Local.Filename != want {
				t.Errorf("code = %q, want %q (what make builds)", w.VMConfig.Code.Local.Filename, want)
			}
			if w.Configuration.Type != stringType || !sameJSON(t, []byte(w.Configuration.Value), ex.config) {
				t.Errorf("configuration (%s) is not config.json:\n%s", w.Configuration.Type, w.Configuration.Value)
			}
			var wp wasmPlugin
			decodeStrict(t, filepath.Join(ex.name, "wasmplugin.yaml"), &wp)
			if w.FailOpen != (wp.Spec.FailStrategy == "FAIL_OPEN") {
				t.Errorf("fail_open %v but the WasmPlugin's failStrategy is %s", w.FailOpen, wp.Spec.FailStrategy)
			}

			// Every cluster a route or the plugin's configuration names exists.
			clusters := map[string]bool{}
			for _, c := range b.StaticResources.Clusters {
				clusters[c.Name] = c.LoadAssignment.ClusterName == c.Name && len(c.LoadAssignment.Endpoints) == 1
			}
			named := clusterNames(t, ex.config)
			for _, vh := range b.StaticResources.Listeners[0].FilterChains[0].Filters[0].TypedConfig.RouteConfig.VirtualHosts {
				for _, r := range vh.Routes {
					named = append(named, r.Route.Cluster)
				}
			}
			for _, c := range named {
				if !clusters[c] {
					t.Errorf("cluster %q is used but not defined, or has no endpoint", c)
				}
			}

			// Every route name the configuration matches is the name of a
			// route: a match on a route Envoy does not have skips its
			// filter on every request.
			routes := map[string]bool{}
			for _, vh := range b.StaticResources.Listeners[0].FilterChains[0].Filters[0].TypedConfig.RouteConfig.VirtualHosts {
				for _, r := range vh.Routes {
					if r.Name != "" && routes[r.Name] {
						t.Errorf("two routes are called %q", r.Name)
					}
					routes[r.Name] = true
				}
			}
			for _, r := range routeNames(t, ex.config) {
				if r == "" || !routes[r] {
					t.Errorf("the configuration matches the route %q, which envoy.yaml does not name", r)
				}
			}

			// The stats tags turn the library's encoded names into labels.
			var tags []metrics.StatsTag
			for _, st := range b.StatsConfig.StatsTags {
				tags = append(tags, metrics.StatsTag{TagName: st.TagName, Regex: st.Regex})
			}
			for name, want := range map[string]string{
				"filter=.=ratelimit;.;decision=.=denied;.;policy_filter_decisions_total":     `policy_filter_decisions_total{filter="ratelimit",decision="denied"}`,
				"filter=.=metrics;.;method=.=GET;.;code_class=.=2xx;.;policy_requests_total": `policy_requests_total{filter="metrics",method="GET",code_class="2xx"}`,
				"filter=.=authz;.;rule=.=admin;.;policy_authz_rule_matches_total":            `policy_authz_rule_matches_total{filter="authz",rule="admin"}`,
				"filter=.=authz;.;reason=.=timeout;.;policy_authz_remote_errors_total":       `policy_authz_remote_errors_total{filter="authz",reason="timeout"}`,
			} {
				if got, err := metricstest.Series(name, tags); err != nil || got != want {
					t.Errorf("%s is exported as %s (%v), want %s", name, got, err, want)
				}
			}
		})
	}
}

// clusterNames lists the values of every "cluster" key in a JSON document:
// the upstreams a configuration calls out to.
func clusterNames(t *testing.T, doc []byte) []string {
	var out []string
	for _, v := range valuesOf(t, doc, "cluster") {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// routeNames lists the route names of every "routes" condition in a JSON
// document: the Envoy routes a configuration's matches name.
func routeNames(t *testing.T, doc []byte) []string {
	var out []string
	for _, v := range valuesOf(t, doc, "routes") {
		list, _ := v.([]any)
		for _, r := range list {
			s, _ := r.(string)
			out = append(out, s)
		}
	}
	return out
}

// valuesOf lists the values of every member named key in a JSON
// document, at any depth.
func valuesOf(t *testing.T, doc []byte, key string) []any {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var out []any
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if k == key {
					out = append(out, e)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// The configuration each deployment file gives the plugin starts it, native
// and compiled; a configuration naming a filter the plugin lacks does not,
// so the check can fail.
func TestDeployedConfigStartsPlugin(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex.name, func(t *testing.T) {
			kinds, ok := plugins[ex.name]
			if !ok {
				t.Fatalf("no plugin for examples/%s in this test's plugins table", ex.name)
			}
			var wp wasmPlugin
			decodeStrict(t, filepath.Join(ex.name, "wasmplugin.yaml"), &wp)
			_, w := envoyConfig(t, ex.name)
			broken, err := sjson.SetBytes(ex.config, "filters.0.name", "nosuchfilter")
			if err != nil {
				t.Fatal(err)
			}
			configs := []struct {
				from   string
				config []byte
				want   types.OnPluginStartStatus
			}{
				{"wasmplugin.yaml", pluginConfigJSON(t, wp), types.OnPluginStartStatusOK},
				{"envoy.yaml", []byte(w.Configuration.Value), types.OnPluginStartStatusOK},
				{"an unknown filter", broken, types.OnPluginStartStatusFailed},
			}
			native := func() types.VMContext { return policy.Configured(kinds...) }
			wasmtest.Both(t, ex.name, native, func(t *testing.T, r wasmtest.Runner) {
				for _, c := range configs {
					started, logs := wasmtest.TryStart(r.VM, string(c.config))
					if got := types.OnPluginStartStatus(started); got != c.want {
						t.Errorf("config from %s: start = %v, want %v (logs %q)", c.from, got, c.want, logs)
					}
					if c.want == types.OnPluginStartStatusFailed && !wasmtest.AnyContains(logs, "nosuchfilter") {
						t.Errorf("config from %s: refused without naming the filter: %q", c.from, logs)
					}
				}
			})
		})
	}
}
