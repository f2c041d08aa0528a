package headerauth_test

import (
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestConfigErrors checks that a bad configuration fails the plugin start
// with one critical line naming the field's path and the reason.
func TestConfigErrors(t *testing.T) {
	const prefix = "policy: invalid plugin configuration: filters[0] (headerauth): "
	cases := []struct {
		name, plugin, want string
	}{
		{"no config at all", `{"filters": [{"name": "headerauth"}]}`,
			`config: must have a rule: "header" for one header rule, or "rules" (all must pass), "all_of" or "any_of" for several`},
		{"no rule", pluginConfig(`{"deny": {"status": 401}}`, ""),
			`config: must have a rule`},
		{"empty group", pluginConfig(`{"all_of": []}`, ""),
			`config.all_of: must list at least one rule`},
		{"empty rule list", pluginConfig(`{"rules": []}`, ""),
			`config.rules: must list at least one rule`},
		{"rule without a header", pluginConfig(`{"rules": [{"header": "allow"}, {"values": ["true"]}]}`, ""),
			`config.rules[1].header: is required`},
		{"empty header name", pluginConfig(`{"header": "", "values": ["true"]}`, ""),
			`config.header: must not be empty`},
		{"empty header name in a group", pluginConfig(`{"any_of": [{"header": "a"}, {"header": ""}]}`, ""),
			`config.any_of[1].header: must not be empty`},
		{"invalid header name", pluginConfig(`{"header": "x api"}`, ""),
			`config.header: "x api" is not a valid header name`},
		{"status below 300", pluginConfig(`{"header": "allow", "deny": {"status": 200}}`, ""),
			`config.deny.status: must be an HTTP status code from 300 to 599, not 200`},
		{"status above 599", pluginConfig(`{"header": "allow", "deny": {"status": 600}}`, ""),
			`config.deny.status: must be an HTTP status code from 300 to 599, not 600`},
		{"status zero", pluginConfig(`{"header": "allow", "deny": {"status": 0}}`, ""),
			`config.deny.status: must be an HTTP status code from 300 to 599, not 0`},
		{"status that would wrap", pluginConfig(`{"header": "allow", "deny": {"status": 4294967699}}`, ""),
			`config.deny.status: must be an HTTP status code from 300 to 599, not 4294967699`},
		{"www_authenticate", pluginConfig(`{"header": "allow", "deny": {"status": 401, "www_authenticate": "Basic"}}`, ""),
			`config.deny.www_authenticate: moved: write it as a "www-authenticate" entry of deny.headers`},
		{"bypass object", pluginConfig(`{"header": "allow", "bypass": {"path_prefixes": ["/public/"]}}`, ""),
			`config.bypass: is now a list of match objects: [{"path": {"exact": "/healthz"}}, {"path": {"prefix": "/public/"}}, {"methods": ["OPTIONS"]}]`},
		{"bypass path not in normal form", pluginConfig(`{"header": "allow", "bypass": [{"path": {"exact": "/healthz/"}}, {"path": {"glob": "/a//*"}}]}`, ""),
			`config.bypass[1].path.glob: must be in normal form ("/a/*"), not "/a//*": requests are matched in normal form`},
		{"empty bypass entry", pluginConfig(`{"header": "allow", "bypass": [{"path": {"exact": "/healthz"}}, {}]}`, ""),
			`config.bypass[1]: must set a condition`},
		{"unknown bypass field", pluginConfig(`{"header": "allow", "bypass": [{"path": {"exact": "/healthz", "query": "x"}}]}`, ""),
			`config.bypass[0].path.query: unknown field`},
		{"unknown field", pluginConfig(`{"header": "allow", "value": ["true"]}`, ""),
			`config.value: unknown field`},
		{"wrong type", pluginConfig(`{"header": "allow", "values": "true"}`, ""),
			`config.values: must be an array of strings, not a string`},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				started, logs := wasmtest.TryStart(r.VM, c.plugin)
				if started {
					t.Fatal("plugin started, want failed")
				}
				if len(logs) != 1 || !wasmtest.AnyContains(logs, prefix+c.want) {
					t.Errorf("critical logs = %q, want one line starting %q", logs, prefix+c.want)
				}
			})
		}
	})
}
