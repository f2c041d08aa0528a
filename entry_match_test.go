package policy_test

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/match"
)

// matchedStep is a step of the test chain with an entry match.
func matchedStep(id, match, config string) string {
	if config == "" {
		config = "{}"
	}
	return `{"name":"step","id":"` + id + `","match":` + match + `,"config":` + config + `}`
}

// routed sends a GET of path to host on route, answers it with 200, and
// returns the request's and the response's x-trace and the local reply's
// status (0 without one). An empty route leaves route_name as it was (the
// emulator cannot remove a property): unset, before any request on a route.
func routed(t *testing.T, host proxytest.HostEmulator, route, authority, path string) (reqTrace, respTrace string, status uint32) {
	t.Helper()
	if route != "" {
		if err := host.SetProperty([]string{"route_name"}, []byte(route)); err != nil {
			t.Fatal(err)
		}
	}
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, [][2]string{{":method", "GET"}, {":path", path}, {":authority", authority}}, true)
	reqTrace = header(host.GetCurrentRequestHeaders(id), "x-trace")
	if local := host.GetSentLocalResponse(id); local != nil {
		status = local.StatusCode
		host.CallOnResponseHeaders(id, local.Headers, true)
	} else {
		host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, true)
	}
	respTrace = header(host.GetCurrentResponseHeaders(id), "x-trace")
	host.CompleteHttpContext(id)
	return reqTrace, respTrace, status
}

func TestEntryMatch(t *testing.T) {
	wasmtest.Both(t, "testchain", nativeChain, func(t *testing.T, r wasmtest.Runner) {
		t.Run("a filter runs on the routes and hosts its entry names", func(t *testing.T) {
			config := wasmtest.Chain(
				matchedStep("login", `{"routes": ["login"]}`, `{"phase": "headers"}`),
				matchedStep("api", `{"hosts": ["api.example.com"]}`, `{"phase": "headers"}`),
				step("all", `{"phase": "headers"}`),
			)
			host, reset := wasmtest.Start(t, r.VM, config)
			defer reset()
			for _, c := range []struct {
				route, host, req, resp string
			}{
				{"", "example.com", "all", "all"}, // no route: first, as the emulator cannot unset one
				{"login", "example.com", "loginall", "alllogin"},
				{"default", "API.example.com.", "apiall", "allapi"},
				{"login", "api.example.com:443", "loginapiall", "allapilogin"},
				{"default", "example.com", "all", "all"},
				{"Login", "api.example.com.evil", "all", "all"},
			} {
				req, resp, _ := routed(t, host, c.route, c.host, "/")
				if req != c.req || resp != c.resp {
					t.Errorf("route %q host %q: request trace %q, response trace %q; want %q, %q", c.route, c.host, req, resp, c.req, c.resp)
				}
			}
			for id, want := range map[string][2]uint64{"login": {2, 4}, "api": {2, 4}, "all": {6, 0}} {
				if got := wasmtest.Counter(t, host, seen(id)); got != want[0] {
					t.Errorf("%s: filter_requests_total = %d, want %d", id, got, want[0])
				}
				if id == "all" {
					continue // no match: no skipped counter
				}
				if got := wasmtest.Counter(t, host, "filter=.="+id+";.;policy_filter_skipped_total"); got != want[1] {
					t.Errorf("%s: filter_skipped_total = %d, want %d", id, got, want[1])
				}
			}
		})
		t.Run("a restricting filter runs on every spelling of its path", func(t *testing.T) {
			config := wasmtest.Chain(matchedStep("admin", `{"path": {"glob": "/admin/**"}}`, `{"action": "deny", "status": 403}`))
			host, reset := wasmtest.Start(t, r.VM, config)
			defer reset()
			for path, denied := range map[string]bool{
				"/admin":                 true,
				"/admin/users":           true,
				"/ADMIN/users":           true,
				"/admin;x/users":         true,
				"/public/..;/admin/x":    true,
				"/public/%2e%2e/admin/x": true,
				"//admin//x":             true,
				"/admin%2Fx":             true,
				"/admin./x":              true,
				"/%61dmin/x":             true,
				"/admin\x00/x":           true, // cannot be read: possibly anything
				"/public/x":              false,
				"/administrator":         false,
				"/":                      false,
			} {
				_, _, status := routed(t, host, "", "example.com", path)
				if got := status == 403; got != denied {
					t.Errorf("%q: denied = %v, want %v", path, got, denied)
				}
			}
		})
		t.Run("the match is decided as the request is when the chain comes to the filter", func(t *testing.T) {
			// The first step adds x-trace: first; the second runs only on
			// requests carrying it, which every request then does.
			config := wasmtest.Chain(step("first", ""), matchedStep("second", `{"headers": [{"name": "x-trace", "present": true}]}`, ""))
			host, reset := wasmtest.Start(t, r.VM, config)
			defer reset()
			if req, _, _ := routed(t, host, "", "example.com", "/"); req != "firstsecond" {
				t.Errorf("trace %q, want firstsecond", req)
			}
		})
		t.Run("a skipped filter sees neither the request nor its response", func(t *testing.T) {
			config := wasmtest.Chain(
				matchedStep("gate", `{"routes": ["gated"]}`, `{"action": "deny", "status": 401}`),
				matchedStep("stamp", `{"routes": ["stamped"]}`, `{"phase": "response_headers"}`),
			)
			host, reset := wasmtest.Start(t, r.VM, config)
			defer reset()
			if _, resp, status := routed(t, host, "gated", "example.com", "/"); status != 401 || resp != "" {
				t.Errorf("gated: status %d, response trace %q; want 401 and none", status, resp)
			}
			if _, resp, status := routed(t, host, "stamped", "example.com", "/"); status != 0 || resp != "stamp" {
				t.Errorf("stamped: status %d, response trace %q; want 0 and stamp", status, resp)
			}
		})
		t.Run("a skipped body reader does not hold the filters after it", func(t *testing.T) {
			config := wasmtest.Chain(
				matchedStep("reader", `{"routes": ["read"]}`, `{"reads_body": true}`),
				step("after", ""),
			)
			host, reset := wasmtest.Start(t, r.VM, config)
			defer reset()
			if err := host.SetProperty([]string{"route_name"}, []byte("other")); err != nil {
				t.Fatal(err)
			}
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, [][2]string{{":method", "POST"}, {":path", "/"}, {":authority", "example.com"}}, false)
			if got := header(host.GetCurrentRequestHeaders(id), "x-trace"); got != "after" {
				t.Errorf("trace after the headers %q, want after", got)
			}
		})
	})
}

func TestEntryMatchErrors(t *testing.T) {
	for config, want := range map[string]string{
		wasmtest.Chain(matchedStep("a", `{"paths": ["/a"]}`, "")):             `filters[0].match.paths: unknown field (known fields: headers, hosts, methods, path, routes, source_ips)`,
		wasmtest.Chain(matchedStep("a", `{"routes": []}`, "")):                `filters[0].match.routes: must list at least one route name; leave it out to match any route`,
		wasmtest.Chain(matchedStep("a", `{"path": {"glob": "/a/**/b"}}`, "")): `filters[0].match.path.glob: `,
		wasmtest.Chain(matchedStep("a", `{"body": []}`, "")):                  `filters[0].match.body: unknown field`,
		wasmtest.Chain(matchedStep("a", `["login"]`, "")):                     `filters[0].match: must be an object, not an array`,
	} {
		err := startErr(t, config)
		if !strings.Contains(err, want) {
			t.Errorf("%s:\n got %q\nwant it to contain %q", config, err, want)
		}
	}
}

// startErr starts the test chain natively with config and returns what the
// failed start logged.
func startErr(t *testing.T, config string) string {
	t.Helper()
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(nativeChain()).WithPluginConfiguration([]byte(config)))
	defer reset()
	if host.StartPlugin() != types.OnPluginStartStatusFailed {
		t.Fatalf("%s: the plugin started", config)
	}
	return strings.Join(host.GetCriticalLogs(), "\n")
}

func TestSpecWithMatch(t *testing.T) {
	admin := match.Match{Path: match.Path{Glob: "/admin/**"}}
	plugin := policy.Static(policy.Use("gate", denyAll{}).WithMatch(admin))
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(plugin))
	defer reset()
	if host.StartPlugin() != types.OnPluginStartStatusOK {
		t.Fatalf("start: %q", host.GetCriticalLogs())
	}
	for path, want := range map[string]uint32{"/admin/x": 403, "/Admin;a/x": 403, "/public": 0} {
		if _, _, got := routed(t, host, "", "example.com", path); got != want {
			t.Errorf("%s: status %d, want %d", path, got, want)
		}
	}
}

func TestSpecWithMatchError(t *testing.T) {
	bad := policy.Static(policy.Use("gate", denyAll{}).WithMatch(match.Match{Routes: []string{}}))
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(bad))
	defer reset()
	if host.StartPlugin() != types.OnPluginStartStatusFailed {
		t.Fatal("a spec with an empty routes list started")
	}
	want := "filters[0] (gate): Spec.Match.routes: must list at least one route name"
	if got := strings.Join(host.GetCriticalLogs(), "\n"); !strings.Contains(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}
