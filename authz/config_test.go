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
			`rules[0].match.cookies: unknown field (known fields: body, headers, hosts, methods, path, routes, source_ips)`},
		{"unknown path matcher", rule(`{"path": {"regex": "^/a"}}`),
			`rules[0].match.path.regex: unknown field (known fields: exact, glob, ignore_case, prefix)`},
		{"unknown header matcher", rule(`{"headers": [{"name": "a", "contains": "b"}]}`),
			`rules[0].match.headers[0].contains: unknown field`},
		{"unknown rule field", `{"rules": [{"action": "allow", "when": {}}]}`,
			`rules[0].when: unknown field (known fields: action, claims, match, name)`},
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
		{"bad method", rule(`{"methods": ["GET", "BAD METHOD"]}`),
			`rules[0].match.methods[1]: must be an HTTP method such as "GET", not "BAD METHOD"`},
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
		{"claims inside match", rule(`{"claims": [{"path": "role", "equals": "admin"}]}`),
			`rules[0].match.claims: moved: write it beside match, as rules[0].claims`},
		{"claim without condition", `{"rules": [{"action": "allow", "claims": [{"path": "role"}]}]}`,
			`rules[0].claims[0]: set exactly one of present and equals`},
		{"claim without path", `{"rules": [{"action": "allow", "claims": [{"equals": "admin"}]}]}`,
			`rules[0].claims[0].path: is required`},
		{"claim equals empty", `{"rules": [{"action": "allow", "claims": [{"path": "role", "equals": ""}]}]}`,
			`rules[0].claims[0].equals: must not be empty`},
		{"deny_response", `{"default": "deny", "deny_response": {"status": 401}}`,
			`deny_response: moved: write it as deny`},
		{"deny status", `{"default": "deny", "deny": {"status": 99}}`,
			`deny.status: must be an HTTP status code from 300 to 599, not 99`},
		{"deny status success", `{"default": "deny", "deny": {"status": 200}}`,
			`deny.status: must be an HTTP status code from 300 to 599, not 200`},
		{"deny header", `{"default": "deny", "deny": {"headers": {":status": "200"}}}`,
			`deny.headers: ":status" is not a header name`},
		{"deny header value", `{"default": "deny", "deny": {"headers": {"x-a": "b\r\nset-cookie: c"}}}`,
			`deny.headers.x-a: must not contain CR, LF, NUL or other control characters`},
		{"deny content type twice", `{"default": "deny", "deny": {"body": "no", "content_type": "text/html", "headers": {"Content-Type": "text/plain"}}}`,
			`deny.headers.Content-Type: cannot be combined with content_type; set one of them`},
		{"unknown deny field", `{"default": "deny", "deny": {"www_authenticate": "Basic"}}`,
			`deny.www_authenticate: unknown field (known fields: body, content_type, headers, status)`},
		{"remote without cluster", `{"remote": {}}`, `remote.cluster: is required`},
		{"remote timeout", `{"remote": {"cluster": "c", "timeout": "fast"}}`,
			`remote.timeout: must be a duration such as "200ms" or "1s", not "fast"`},
		{"remote zero timeout", `{"remote": {"cluster": "c", "timeout": "0s"}}`, `remote.timeout: must be positive, not 0s`},
		{"remote status_on_error", `{"remote": {"cluster": "c", "status_on_error": 1000}}`,
			`remote.status_on_error: must be an HTTP status code from 300 to 599, not 1000`},
		{"remote failure_mode", `{"remote": {"cluster": "c", "failure_mode": "allow"}}`,
			`remote.failure_mode: must be "open" or "closed", not "allow"`},
		{"remote path prefix", `{"remote": {"cluster": "c", "path_prefix": "check"}}`,
			`remote.path_prefix: must start with "/"`},
		{"remote header name", `{"remote": {"cluster": "c", "upstream_headers": ["x-user", ":path"]}}`,
			`remote.upstream_headers[1]: ":path" is not a header name`},
		{"remote unknown field", `{"remote": {"cluster": "c", "failure_mode_allow": true}}`,
			`remote.failure_mode_allow: unknown field`},
		{"remote fail_open", `{"remote": {"cluster": "c", "fail_open": true}}`,
			`remote.fail_open: moved: write it as failure_mode ("open" or "closed")`},
		{"unknown top-level field", `{"default": "allow", "action": "deny"}`,
			`action: unknown field (known fields: default, deny, remote, rules)`},
		{"duplicate key", `{"default": "allow", "default": "deny"}`, `default: is given twice`},
		{"path not in normal form", rule(`{"path": {"prefix": "/public/..;/"}}`),
			`rules[0].match.path.prefix: must be in normal form, without "." or ".." segments and ";" parameters, not "/public/..;/": requests are matched in normal form`},
		{"pseudo-header condition", rule(`{"headers": [{"name": ":path", "prefix": "/admin"}]}`),
			`rules[0].match.headers[0].name: ":path" is a pseudo-header; use methods, path or hosts, which normalize it`},
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
