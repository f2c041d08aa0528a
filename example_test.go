package policy_test

import (
	"fmt"
	"strings"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/wasmpolicy/policy/conf"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/match"
)

// adminOnly denies every path under /admin unless x-role is admin.
type adminOnly struct{ role string }

func (f adminOnly) OnRequestHeaders(x *policy.Exchange) policy.Result {
	if role, _ := x.RequestHeader("x-role"); strings.HasPrefix(x.Path(), "/admin") && role != f.role {
		return policy.Deny(policy.Response{Status: 403, Body: "admins only\n", Reason: "not an admin"})
	}
	return policy.Continue()
}

// stamp adds a header to every response, local replies included.
type stamp struct{}

func (stamp) OnResponseHeaders(x *policy.Exchange) policy.Result {
	x.SetResponseHeader("x-served-by", "policy")
	return policy.Continue()
}

// send runs one request through a plugin in the SDK's host emulator, as
// Envoy would, and prints the status and the stamped header.
func send(plugin *policy.Plugin, config string, headers [][2]string) {
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().
		WithVMContext(plugin).WithPluginConfiguration([]byte(config)))
	defer reset()
	if !host.StartPlugin() {
		fmt.Println(host.GetCriticalLogs())
		return
	}
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, headers, true)
	status := "200"
	if local := host.GetSentLocalResponse(id); local != nil {
		status = fmt.Sprint(local.StatusCode)
	}
	host.CallOnResponseHeaders(id, [][2]string{{":status", status}}, true)
	for _, h := range host.GetCurrentResponseHeaders(id) {
		if h[0] == "x-served-by" {
			fmt.Println(status, h[1])
		}
	}
}

// A chain built in Go. In a plugin's main package:
//
//	func init() { policy.Serve(plugin) }
func Example_static() {
	plugin := policy.Static(
		policy.Use("adminonly", adminOnly{role: "admin"}),
		policy.Use("stamp", stamp{}),
	)
	send(plugin, "", [][2]string{{":method", "GET"}, {":path", "/admin/users"}})
	send(plugin, "", [][2]string{{":method", "GET"}, {":path", "/admin/users"}, {"x-role", "admin"}})
	// Output:
	// 403 policy
	// 200 policy
}

// A chain chosen by the plugin configuration among the kinds the plugin
// links in. In a plugin's main package:
//
//	func init() { policy.Serve(policy.Configured(adminOnlyKind, stampKind)) }
func Example_configured() {
	adminOnlyKind := policy.Kind{Name: "adminonly", Build: func(config *conf.Object, env *policy.Env) (policy.Filter, error) {
		return adminOnly{role: config.RequiredString("role")}, nil
	}}
	stampKind := policy.Kind{Name: "stamp", Build: func(*conf.Object, *policy.Env) (policy.Filter, error) {
		return stamp{}, nil
	}}
	plugin := policy.Configured(adminOnlyKind, stampKind)
	config := `{"filters": [
		{"name": "adminonly", "config": {"role": "root"}},
		{"name": "stamp"}
	]}`
	send(plugin, config, [][2]string{{":method", "GET"}, {":path", "/admin"}, {"x-role", "admin"}})
	send(plugin, config, [][2]string{{":method", "GET"}, {":path", "/admin"}, {"x-role", "root"}})
	// Output:
	// 403 policy
	// 200 policy
}

// A filter on some requests only: the admin check runs on the host
// admin.example.com, and on no other. A path spelt another way ("/ADMIN",
// "/x/../admin") still matches a path condition of an entry, so that no
// spelling skips a check.
func ExampleSpec_WithMatch() {
	plugin := policy.Static(
		policy.Use("adminonly", adminOnly{role: "admin"}).WithMatch(match.Match{Hosts: []string{"admin.example.com"}}),
		policy.Use("stamp", stamp{}),
	)
	send(plugin, "", [][2]string{{":method", "GET"}, {":path", "/admin/users"}, {":authority", "admin.example.com"}})
	send(plugin, "", [][2]string{{":method", "GET"}, {":path", "/admin/users"}, {":authority", "www.example.com"}})
	// Output:
	// 403 policy
	// 200 policy
}

// tenantHeader notes the request's tenant, and returns it on the response.
type tenantHeader struct{}

type tenantState struct{ tenant string }

func (tenantHeader) OnRequestHeaders(x *policy.Exchange) policy.Result {
	policy.State[tenantState](x).tenant, _ = x.RequestHeader("x-tenant")
	x.Log().Debugf("tenant %q", policy.State[tenantState](x).tenant)
	return policy.Continue()
}

func (tenantHeader) OnResponseHeaders(x *policy.Exchange) policy.Result {
	x.SetResponseHeader("x-served-by", "tenant "+policy.State[tenantState](x).tenant)
	return policy.Continue()
}

// Per-request state: what a filter notes in one phase of a request, it
// reads in a later one, typed.
func ExampleState() {
	plugin := policy.Static(policy.Use("tenant", tenantHeader{}))
	send(plugin, "", [][2]string{{":method", "GET"}, {":path", "/"}, {"x-tenant", "acme"}})
	send(plugin, "", [][2]string{{":method", "GET"}, {":path", "/"}, {"x-tenant", "globex"}})
	// Output:
	// 200 tenant acme
	// 200 tenant globex
}
