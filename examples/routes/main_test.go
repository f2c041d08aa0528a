package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tidwall/sjson"
	"gopkg.in/yaml.v3"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

func native() types.VMContext { return Plugin() }

// envoyRoute is a route of envoy.yaml, as far as routing by path goes.
type envoyRoute struct {
	Name  string `yaml:"name"`
	Match struct {
		Prefix        string `yaml:"prefix"`
		CaseSensitive *bool  `yaml:"case_sensitive"`
	} `yaml:"match"`
}

// envoyRoutes reads the routes of envoy.yaml's one virtual host, in order.
func envoyRoutes(t *testing.T) []envoyRoute {
	t.Helper()
	var b struct {
		StaticResources struct {
			Listeners []struct {
				FilterChains []struct {
					Filters []struct {
						TypedConfig struct {
							RouteConfig struct {
								VirtualHosts []struct {
									Routes []envoyRoute `yaml:"routes"`
								} `yaml:"virtual_hosts"`
							} `yaml:"route_config"`
						} `yaml:"typed_config"`
					} `yaml:"filters"`
				} `yaml:"filter_chains"`
			} `yaml:"listeners"`
		} `yaml:"static_resources"`
	}
	if err := yaml.Unmarshal([]byte(wasmtest.ReadFile(t, "envoy.yaml")), &b); err != nil {
		t.Fatal(err)
	}
	routes := b.StaticResources.Listeners[0].FilterChains[0].Filters[0].TypedConfig.RouteConfig.VirtualHosts[0].Routes
	if len(routes) == 0 || routes[len(routes)-1].Match.Prefix != "/" {
		t.Fatalf("envoy.yaml's routes do not end with a catch-all: %+v", routes)
	}
	return routes
}

// routeName is the route_name Envoy gives a request for path with these
// routes: the name of the first route whose prefix the path starts with,
// ignoring case if the route says so.
func routeName(routes []envoyRoute, path string) string {
	for _, r := range routes {
		p, prefix := path, r.Match.Prefix
		if r.Match.CaseSensitive != nil && !*r.Match.CaseSensitive {
			p, prefix = strings.ToLower(p), strings.ToLower(prefix)
		}
		if strings.HasPrefix(p, prefix) {
			return r.Name
		}
	}
	return ""
}

// result is what one request came to.
type result struct {
	status   int
	body     string      // the local reply's
	headers  [][2]string // the local reply's
	upstream [][2]string // the request headers the upstream gets, when it gets the request
}

// send runs one request through the plugin as Envoy would, on route,
// from 192.0.2.7 at time at: a request the plugin lets through gets the
// backend's 200, and a local reply goes back through the response phase.
func send(t *testing.T, host proxytest.HostEmulator, route string, at time.Time, method, path string, headers ...[2]string) result {
	t.Helper()
	for _, p := range []wasmtest.Property{
		{Path: []string{"route_name"}, Value: []byte(route)},
		{Path: []string{"request", "time"}, Value: policy.EncodeTime(at)},
		{Path: []string{"source", "address"}, Value: []byte("192.0.2.7:51234")},
	} {
		if err := host.SetProperty(p.Path, p.Value); err != nil {
			t.Fatal(err)
		}
	}
	id := host.InitializeHttpContext()
	defer host.CompleteHttpContext(id)
	request := append([][2]string{{":authority", "shop.example.com"}, {":method", method}, {":path", path}}, headers...)
	action := host.CallOnRequestHeaders(id, request, true)
	if local := host.GetSentLocalResponse(id); local != nil {
		host.CallOnResponseHeaders(id, append([][2]string{{":status", "0"}}, local.Headers...), true)
		return result{status: int(local.StatusCode), body: string(local.Data), headers: local.Headers}
	}
	if action != types.ActionContinue {
		t.Fatalf("%s %s: request action %v without a local reply", method, path, action)
	}
	out := result{status: 200, upstream: host.GetCurrentRequestHeaders(id)}
	if a := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, true); a != types.ActionContinue {
		t.Fatalf("%s %s: response action %v", method, path, a)
	}
	return out
}

const key = "reports-demo-key"

// The README's requests, and a few more, the way envoy.yaml routes them:
// one listener, each request on the envoy.yaml route its path takes. The
// login route admits 3 requests a minute from a client, in any case of
// its path; the api route asks for the key and is not limited; a path on
// the catch-all route, default, meets neither filter, /x/..;/login too
// (the README's reason for a path condition). The counters show which filter
// ran on how many requests and which was skipped.
func TestRequestsAsEnvoyRoutesThem(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	routes := envoyRoutes(t)
	withKey := [2]string{"x-api-key", key}
	steps := []struct {
		method, path string
		headers      [][2]string
		route        string // what envoy.yaml makes of the path
		status       int
		body         string
	}{
		{"POST", "/login", nil, "login", 200, ""},
		{"POST", "/login", nil, "login", 200, ""},
		{"POST", "/login", nil, "login", 200, ""},
		{"POST", "/login", nil, "login", 429, "too many login attempts, try again later\n"},
		{"POST", "/LOGIN/", nil, "login", 429, "too many login attempts, try again later\n"},
		{"GET", "/api/reports", nil, "api", 401, "a valid x-api-key is required\n"},
		{"GET", "/api/reports", [][2]string{withKey}, "api", 200, ""},
		{"GET", "/api/reports", [][2]string{withKey}, "api", 200, ""},
		{"GET", "/api/reports", [][2]string{withKey}, "api", 200, ""},
		{"GET", "/api/reports", [][2]string{withKey}, "api", 200, ""},
		{"GET", "/api/reports", [][2]string{withKey}, "api", 200, ""},
		{"GET", "/API/orders", [][2]string{withKey}, "api", 200, ""},
		{"POST", "/x/..;/login", nil, "default", 200, ""},
		{"GET", "/headers", nil, "default", 200, ""},
	}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	wasmtest.Both(t, "routes", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for i, s := range steps {
			if got := routeName(routes, s.path); got != s.route {
				t.Fatalf("envoy.yaml routes %s to %q, want %q", s.path, got, s.route)
			}
			got := send(t, host, s.route, t0.Add(time.Duration(i)*100*time.Millisecond), s.method, s.path, s.headers...)
			if got.status != s.status || got.body != s.body {
				t.Errorf("request %d, %s %s on route %q: %d %q, want %d %q", i+1, s.method, s.path, s.route, got.status, got.body, s.status, s.body)
			}
			switch got.status {
			case 429:
				if len(wasmtest.HeaderValues(got.headers, "retry-after")) != 1 {
					t.Errorf("request %d: 429 without one retry-after: %q", i+1, got.headers)
				}
			case 401:
				if v := wasmtest.HeaderValues(got.headers, "www-authenticate"); !slices.Equal(v, []string{`ApiKey realm="api"`}) {
					t.Errorf("request %d: www-authenticate %q", i+1, v)
				}
			case 200:
				consumer := wasmtest.HeaderValues(got.upstream, "x-consumer")
				if want := []string(nil); s.route == "api" {
					want = []string{"reports"}
					if !slices.Equal(consumer, want) {
						t.Errorf("request %d: the upstream got x-consumer %q, want %q", i+1, consumer, want)
					}
				} else if len(consumer) != 0 {
					t.Errorf("request %d: the upstream got x-consumer %q off the api route", i+1, consumer)
				}
				if k := wasmtest.HeaderValues(got.upstream, "x-api-key"); len(k) != 0 {
					t.Errorf("request %d: the upstream got the key %q", i+1, k)
				}
			}
		}
		for name, want := range map[string]uint64{
			"filter=.=headerauth;.;policy_filter_requests_total":                       7,
			"filter=.=headerauth;.;policy_filter_skipped_total":                        7,
			"filter=.=headerauth;.;decision=.=allowed;.;policy_filter_decisions_total": 6,
			"filter=.=headerauth;.;decision=.=denied;.;policy_filter_decisions_total":  1,
			"filter=.=ratelimit;.;policy_filter_requests_total":                        5,
			"filter=.=ratelimit;.;policy_filter_skipped_total":                         9,
			"filter=.=ratelimit;.;decision=.=allowed;.;policy_filter_decisions_total":  3,
			"filter=.=ratelimit;.;decision=.=denied;.;policy_filter_decisions_total":   2,
		} {
			if got := wasmtest.Counter(t, host, name); got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
	})
}

// The README's alternative for a limit that must hold on every spelling:
// with a path condition instead of the route, /x/..;/login (Tomcat's
// /login, on Envoy's catch-all route) counts against the login limit.
func TestPathConditionHoldsOffTheRoute(t *testing.T) {
	config, err := sjson.SetRaw(wasmtest.ReadFile(t, "config.json"), "filters.1.match", `{"path": {"prefix": "/login"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(wasmtest.ReadFile(t, "README.md"), `"match": {"path": {"prefix": "/login"}}`) {
		t.Fatal("the README no longer shows this path condition")
	}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	wasmtest.Both(t, "routes", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		for i, path := range []string{"/login", "/login", "/Login", "/x/..;/login"} {
			want := 200
			if i == 3 {
				want = 429
			}
			if got := send(t, host, "default", t0.Add(time.Duration(i)*time.Second), "POST", path); got.status != want {
				t.Errorf("POST %s: %d, want %d", path, got.status, want)
			}
		}
	})
}

// The README shows config.json, and a VirtualService whose http routes
// give Envoy the route names config.json matches: the routes of
// envoy.yaml, by name, prefix and case, with match blocks left unnamed
// (a named one would make the Envoy route "<route>.<match>").
func TestReadmeConfigAndVirtualService(t *testing.T) {
	readme := wasmtest.ReadFile(t, "README.md")
	blocks := wasmtest.FencedBlocks(readme, "json")
	if len(blocks) != 1 || !sameJSON(t, blocks[0], wasmtest.ReadFile(t, "config.json")) {
		t.Fatalf("the README's JSON blocks are not config.json: %q", blocks)
	}
	var config struct {
		Filters []struct {
			Match struct {
				Routes []string `json:"routes"`
			} `json:"match"`
		} `json:"filters"`
	}
	if err := json.Unmarshal([]byte(blocks[0]), &config); err != nil {
		t.Fatal(err)
	}
	var matched []string
	for _, f := range config.Filters {
		matched = append(matched, f.Match.Routes...)
	}

	var vs struct {
		Kind string `yaml:"kind"`
		Spec struct {
			HTTP []struct {
				Name  string `yaml:"name"`
				Match []struct {
					Name string `yaml:"name"`
					URI  struct {
						Prefix string `yaml:"prefix"`
					} `yaml:"uri"`
					IgnoreURICase bool `yaml:"ignoreUriCase"`
				} `yaml:"match"`
			} `yaml:"http"`
		} `yaml:"spec"`
	}
	yamls := wasmtest.FencedBlocks(readme, "yaml")
	if len(yamls) != 1 {
		t.Fatalf("the README has %d YAML blocks, want the VirtualService", len(yamls))
	}
	if err := yaml.Unmarshal([]byte(yamls[0]), &vs); err != nil || vs.Kind != "VirtualService" {
		t.Fatalf("the README's YAML is not a VirtualService (%v)", err)
	}
	type route struct {
		name, prefix string
	}
	var fromVS, fromEnvoy []route
	for _, h := range vs.Spec.HTTP {
		for _, m := range h.Match {
			if m.Name != "" {
				t.Errorf("http route %q: match %q is named, which makes the Envoy route %q", h.Name, m.Name, h.Name+"."+m.Name)
			}
			if !m.IgnoreURICase {
				t.Errorf("http route %q: the match heeds case, and envoy.yaml's route does not", h.Name)
			}
			fromVS = append(fromVS, route{h.Name, m.URI.Prefix})
		}
	}
	routes := envoyRoutes(t)
	for _, r := range routes[:len(routes)-1] { // but the catch-all, default
		fromEnvoy = append(fromEnvoy, route{r.Name, r.Match.Prefix})
	}
	if !reflect.DeepEqual(fromVS, fromEnvoy) {
		t.Errorf("the VirtualService's named routes %v are not envoy.yaml's %v", fromVS, fromEnvoy)
	}
	for _, name := range matched {
		if !slices.ContainsFunc(fromVS, func(r route) bool { return r.name == name }) {
			t.Errorf("config.json matches the route %q, which the VirtualService does not name", name)
		}
	}
	if len(matched) != 2 {
		t.Errorf("config.json matches the routes %q, want login and api", matched)
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}
