package authz_test

import (
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestInvalidConfig checks that a bad configuration fails the plugin's
// start with one critical line naming the field's path and the reason.
func TestInvalidConfig(t *testing.T) {
	const prefix = "policy: invalid plugin configuration: filters[0] (authz): config."
	rule := func(match string) string {
		return `{"rules": [{"action": "allow", "match": ` + match + `}]}`
	}
	cases := []struct{ name, config, want string }{
		{"no rules and no default", `{}`,
			`rules: must list at least one rule, or set "default" ("allow" or "deny") or a "remote" service`},
		{"empty rule list and no default", `{"rules": []}`,
			`rules: must list at least one rule, or set "default"`},
		{"rules not a list", `{"rules": {"action": "allow"}}`,
			`rules: must be an array of objects, not an object`},
		{"bad CIDR", rule(`{"source_ips": ["10.0.0.0/8", "10.0.0.0/33"]}`),
			`rules[0].match.source_ips[1]: must be an IP address ("192.0.2.7") or a CIDR range ("10.0.0.0/8"), not "10.0.0.0/33"`},
		{"bad address", rule(`{"source_ips": ["10.0.0.300"]}`),
			`rules[0].match.source_ips[0]: must be an IP address`},
		{"no source ips", rule(`{"source_ips": []}`),
			`rules[0].match.source_ips: must list at least one address or CIDR range`},
		{"unknown matcher", rule(`{"methods": ["GET"], "cookies": {"a": "b"}}`),
			`rules[0].match.cookies: unknown field (known fields: claims, headers, hosts, methods, path, source_ips)`},
		{"unknown path matcher", rule(`{"path": {"regex": "^/a"}}`),
			`rules[0].match.path.regex: unknown field (known fields: exact, glob, prefix)`},
		{"unknown header matcher", rule(`{"headers": [{"name": "a", "contains": "b"}]}`),
			`rules[0].match.headers[0].contains: unknown field`},
		{"unknown rule field", `{"rules": [{"action": "allow", "when": {}}]}`,
			`rules[0].when: unknown field (known fields: action, match, name)`},
		{"missing action", `{"rules": [{"match": {}}]}`, `rules[0].action: is required`},
		{"unknown action", `{"rules": [{"action": "permit"}]}`,
			`rules[0].action: must be "allow", "deny" or "remote", not "permit"`},
		{"remote action without a service", `{"rules": [{"action": "remote"}]}`,
			`rules[0].action: "remote" needs a "remote" service to ask`},
		{"unknown default", `{"default": "maybe"}`, `default: must be "allow", "deny" or "remote", not "maybe"`},
		{"duplicate rule name", `{"rules": [{"name": "a", "action": "allow"}, {"name": "a", "action": "deny"}]}`,
			`rules[1].name: "a" is already the name of rules[0]`},
		{"rule name unfit for a metric", `{"rules": [{"name": "a b", "action": "allow"}]}`,
			`rules[0].name: must be letters, digits, '_', '-' and '/' only (it names a metric), not "a b"`},
		{"lower-case method", rule(`{"methods": ["get"]}`),
			`rules[0].match.methods[0]: must be an upper-case HTTP method such as "GET", not "get"`},
		{"path without slash", rule(`{"path": {"prefix": "api/"}}`),
			`rules[0].match.path.prefix: must start with "/", not "api/"`},
		{"two path matchers", rule(`{"path": {"exact": "/a", "prefix": "/b"}}`),
			`rules[0].match.path: set only one of exact, prefix and glob`},
		{"inner **", rule(`{"path": {"glob": "/a/**/b"}}`),
			`rules[0].match.path.glob: "**" may only be the last segment, in "/a/**/b"`},
		{"partial-segment *", rule(`{"path": {"glob": "/a/b*"}}`),
			`rules[0].match.path.glob: '*' must be a whole segment`},
		{"host with port", rule(`{"hosts": ["example.com:443"]}`),
			`rules[0].match.hosts[0]: must be a host name`},
		{"header without condition", rule(`{"headers": [{"name": "x-a"}]}`),
			`rules[0].match.headers[0]: set exactly one of present, absent, equals and prefix`},
		{"header with two conditions", rule(`{"headers": [{"name": "x-a", "present": true, "equals": "b"}]}`),
			`rules[0].match.headers[0]: set exactly one of present, absent, equals and prefix`},
		{"header equals empty", rule(`{"headers": [{"name": "x-a", "equals": ""}]}`),
			`rules[0].match.headers[0].equals: must not be empty`},
		{"bad header name", rule(`{"headers": [{"name": "x role", "present": true}]}`),
			`rules[0].match.headers[0].name: "x role" is not a header name`},
		{"header without name", rule(`{"headers": [{"present": true}]}`),
			`rules[0].match.headers[0].name: is required`},
		{"claim without condition", rule(`{"claims": [{"path": "role"}]}`),
			`rules[0].match.claims[0]: set exactly one of present and equals`},
		{"claim without path", rule(`{"claims": [{"equals": "admin"}]}`),
			`rules[0].match.claims[0].path: is required`},
		{"deny status", `{"default": "deny", "deny_response": {"status": 99}}`,
			`deny_response.status: must be an HTTP status code (200-599), not 99`},
		{"deny header", `{"default": "deny", "deny_response": {"headers": {":status": "200"}}}`,
			`deny_response.headers: ":status" is not a header name`},
		{"remote without cluster", `{"remote": {}}`, `remote.cluster: is required`},
		{"remote timeout", `{"remote": {"cluster": "c", "timeout": "fast"}}`,
			`remote.timeout: must be a duration such as "200ms" or "1s", not "fast"`},
		{"remote zero timeout", `{"remote": {"cluster": "c", "timeout": "0s"}}`, `remote.timeout: must be positive, not 0s`},
		{"remote status_on_error", `{"remote": {"cluster": "c", "status_on_error": 1000}}`,
			`remote.status_on_error: must be an HTTP status code (200-599), not 1000`},
		{"remote path prefix", `{"remote": {"cluster": "c", "path_prefix": "check"}}`,
			`remote.path_prefix: must start with "/"`},
		{"remote header name", `{"remote": {"cluster": "c", "upstream_headers": ["x-user", ":path"]}}`,
			`remote.upstream_headers[1]: ":path" is not a header name`},
		{"remote unknown field", `{"remote": {"cluster": "c", "failure_mode_allow": true}}`,
			`remote.failure_mode_allow: unknown field`},
		{"remote fail_open type", `{"remote": {"cluster": "c", "fail_open": "yes"}}`,
			`remote.fail_open: must be true or false, not a string`},
		{"unknown top-level field", `{"default": "allow", "action": "deny"}`,
			`action: unknown field (known fields: default, deny_response, remote, rules)`},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				started, logs := wasmtest.TryStart(r.VM, pluginConfig(c.config, ""))
				if started {
					t.Fatal("plugin started, want failed")
				}
				if len(logs) != 1 || !wasmtest.AnyContains(logs, prefix+c.want) {
					t.Errorf("critical logs %q,\nwant one line containing %q", logs, prefix+c.want)
				}
			})
		}
	})
}
