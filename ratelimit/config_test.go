package ratelimit_test

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// configErrors are filter configurations that must fail the plugin start,
// each with the error after "filters[0] (ratelimit): config.".
var configErrors = []struct{ config, err string }{
	// The rate.
	{`{}`, `requests_per_unit: must be > 0 (or give tokens_per_fill and fill_interval)`},
	{`{"requests_per_unit": 0}`, `requests_per_unit: must be > 0, not 0`},
	{`{"requests_per_unit": -2}`, `requests_per_unit: must be > 0, not -2`},
	{`{"requests_per_unit": 10000000000000}`, `requests_per_unit: must be at most 1000000000000, not 10000000000000`},
	{`{"requests_per_unit": "2"}`, `requests_per_unit: must be a number, not a string`},
	{`{"requests_per_unit": 1.5}`, `requests_per_unit: must be a whole number, not 1.5`},
	{`{"requests_per_unit": 2, "unit": "week"}`, `unit: must be "second", "minute", "hour" or "day", not "week"`},
	{`{"requests_per_unit": 2, "fill_interval": "1s"}`, `fill_interval: goes with tokens_per_fill; requests_per_unit takes unit`},
	{`{"tokens_per_fill": 0, "fill_interval": "1s"}`, `tokens_per_fill: must be > 0, not 0`},
	{`{"tokens_per_fill": 1}`, `fill_interval: must be a positive duration such as "1s" with tokens_per_fill, not 0s`},
	{`{"tokens_per_fill": 1, "fill_interval": "-1s"}`, `fill_interval: must be a positive duration such as "1s" with tokens_per_fill, not -1s`},
	{`{"tokens_per_fill": 1, "fill_interval": "soon"}`, `fill_interval: must be a duration such as "200ms" or "1s", not "soon"`},
	{`{"tokens_per_fill": 1, "fill_interval": "1s", "unit": "second"}`, `unit: goes with requests_per_unit; tokens_per_fill takes fill_interval`},
	{`{"tokens_per_fill": 1, "fill_interval": "1s", "requests_per_unit": 1}`, `tokens_per_fill: cannot be combined with requests_per_unit`},
	{`{"requests_per_unit": 1, "burst": 0}`, `burst: must be > 0, not 0`},
	{`{"requests_per_unit": 1, "burst": -1}`, `burst: must be > 0, not -1`},
	// The cost.
	{`{"requests_per_unit": 2, "cost": []}`, `cost: must be an object, not an array`},
	{`{"requests_per_unit": 2, "cost": {"field": "usage.#.total"}}`, `cost.field: must be object keys and array indexes separated by '.'`},
	{`{"requests_per_unit": 2, "cost": {"model_field": ""}}`, `cost.model_field: must not be empty; leave it out for the default`},
	{`{"requests_per_unit": 2, "cost": {"default": -1}}`, `cost.default: must be from 0 to 1000000000000, not -1`},
	{`{"requests_per_unit": 2, "cost": {"on_error": 10000000000000}}`, `cost.on_error: must be from 0 to 1000000000000, not 10000000000000`},
	{`{"requests_per_unit": 2, "cost": {"max_body": 0}}`, `cost.max_body: must be > 0, not 0`},
	{`{"requests_per_unit": 2, "cost": {"max_body": 100000000}}`, `cost.max_body: must be from 1 to 67108864 bytes, not 100000000`},
	{`{"requests_per_unit": 2, "cost": {"models": ["gpt-4.1", "gpt-4_1"]}}`, `cost.models[1]: "gpt-4_1" is counted as "gpt-4_1", as "gpt-4.1" is: name each model once, and not "other"`},
	{`{"requests_per_unit": 2, "cost": {"models": ["other"]}}`, `cost.models[0]: "other" is counted as "other", as "other" is`},
	{`{"requests_per_unit": 2, "cost": {"includeusage": true}}`, `cost.includeusage: unknown field`},
	// The key.
	{`{"requests_per_unit": 2, "key": []}`, `key: must list at least one part (header:<name>, source_ip, path, path_segments:<n>, route or body:<path>); omit it for one bucket`},
	{`{"requests_per_unit": 2, "key": "source_ip"}`, `key: must be an array of strings, not a string`},
	{`{"requests_per_unit": 2, "key": ["cookie:session"]}`, `key[0]: unknown key part "cookie:session"; use header:<name>, source_ip, path, path_segments:<n>, route or body:<path>`},
	{`{"requests_per_unit": 2, "key": ["path", "source_ip", "ip"]}`, `key[2]: unknown key part "ip"`},
	{`{"requests_per_unit": 2, "key": ["header:"]}`, `key[0]: needs a header name: "header:x-api-key"`},
	{`{"requests_per_unit": 2, "key": ["path_segments:0"]}`, `key[0]: path_segments needs a number from 1 to 64, not "0"`},
	{`{"requests_per_unit": 2, "key": ["path_segments"]}`, `key[0]: unknown key part "path_segments"`},
	{`{"requests_per_unit": 2, "key": ["route", "route"]}`, `key[1]: repeats key[0]`},
	{`{"requests_per_unit": 2, "key": ["route"], "missing_key": "deny"}`, `missing_key: must be "fallback" or "allow", not "deny"`},
	{`{"requests_per_unit": 2, "missing_key": "allow"}`, `missing_key: applies only with key`},
	{`{"requests_per_unit": 2, "key": ["route"], "max_keys": 0}`, `max_keys: must be > 0, not 0`},
	{`{"requests_per_unit": 2, "key": ["route"], "max_keys": -5}`, `max_keys: must be > 0, not -5`},
	{`{"requests_per_unit": 2, "key": ["route"], "max_keys": 2000000}`, `max_keys: must be at most 1000000, not 2000000`},
	{`{"requests_per_unit": 2, "max_keys": 10}`, `max_keys: applies only with key`},
	// Rules.
	{`{"rules": []}`, `requests_per_unit: must be > 0`},
	{`{"rules": [{"match": {"path": {"exact": "/a"}}}]}`, `rules[0].limit: is required`},
	{`{"rules": [{"limit": {"requests_per_unit": 1}}, {"limit": {"requests_per_unit": 1, "unit": "fortnight"}}]}`, `rules[1].limit.unit: must be "second", "minute", "hour" or "day", not "fortnight"`},
	{`{"rules": [{"limit": {"requests_per_unit": 1, "key": ["source_ip"], "max_keys": 0}}]}`, `rules[0].limit.max_keys: must be > 0, not 0`},
	{`{"rules": [{"limit": {"requests_per_unit": 1, "key": ["header:x", "bogus"]}}]}`, `rules[0].limit.key[1]: unknown key part "bogus"`},
	{`{"rules": [{"limit": {"requests_per_unit": -1}}]}`, `rules[0].limit.requests_per_unit: must be > 0, not -1`},
	{`{"rules": [{"limit": {"requests_per_unit": 1, "status": 429}}]}`, `rules[0].limit.status: unknown field`},
	{`{"rules": [{"limit": {"requests_per_unit": 1}, "deny": {"status": 503}}]}`, `rules[0].deny: unknown field`},
	{`{"rules": {"match": {}, "limit": {"requests_per_unit": 1}}}`, `rules: must be an array of objects, not an object`},
	// The match object of a rule.
	{`{"rules": [{"match": {"path": "/a"}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path: is now a path match object: "path": {"exact": ...} or {"prefix": ...}`},
	{`{"rules": [{"match": {"path_prefix": "/a/"}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path_prefix: is now a path match object: "path": {"exact": ...} or {"prefix": ...}`},
	{`{"rules": [{"match": {"path_prefix": {"prefix": "/a/"}}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path_prefix: is now a path match object`},
	{`{"rules": [{"match": {"path_prefix": 7}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path_prefix: is now a path match object`},
	{`{"rules": [{"match": {"path": 7}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path: must be an object, not a number`},
	{`{"rules": [{"match": {"path": {}}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path: set one of exact, prefix and glob`},
	{`{"rules": [{"match": {"path": {"exact": "/a", "prefix": "/"}}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path: set only one of exact, prefix and glob`},
	{`{"rules": [{"match": {"path": {"exact": "a"}}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path.exact: must start with "/", not "a"`},
	{`{"rules": [{"match": {"path": {"prefix": ""}}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path.prefix: must not be empty`},
	{`{"rules": [{"match": {"path": {"prefix": "/public/..;/"}}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path.prefix: must be in normal form, without "." or ".." segments and ";" parameters, not "/public/..;/": requests are matched in normal form`},
	{`{"rules": [{"match": {"path": {"prefix": "/Login//x"}}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path.prefix: must be in normal form ("/Login/x"), not "/Login//x"`},
	{`{"rules": [{"match": {"path": {"exact": "/login?x=1"}}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path.exact: must not contain '?' or '#'`},
	{`{"rules": [{"match": {"path": {"glob": "/a/**/b"}}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path.glob: "**" may only be the last segment, in "/a/**/b"`},
	{`{"rules": [{"match": {"methods": [""]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.methods[0]: must be an HTTP method such as "GET", not ""`},
	{`{"rules": [{"match": {"methods": []}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.methods: must list at least one method`},
	{`{"rules": [{"match": {"headers": [{"equals": "x"}]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.headers[0].name: is required`},
	{`{"rules": [{"match": {"headers": [{"name": "a", "equals": ""}]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.headers[0].equals: must not be empty`},
	{`{"rules": [{"match": {"headers": [{"name": "a"}]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.headers[0]: set exactly one of present, absent, equals and prefix`},
	{`{"rules": [{"match": {"headers": [{"name": "a", "present": false}]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.headers[0].present: must be true; for a header that must be missing, write "absent": true`},
	{`{"rules": [{"match": {"headers": [{"name": "a", "equals": "b", "present": false}]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.headers[0].present: must be true; for a header that must be missing, write "absent": true`},
	{`{"rules": [{"match": {"headers": [{"name": ":path", "prefix": "/login"}]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.headers[0].name: ":path" is a pseudo-header; use methods, path or hosts, which normalize it`},
	{`{"rules": [{"match": {"hosts": ["a.example.com:80"]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.hosts[0]: must be a host name`},
	{`{"rules": [{"match": {"source_ips": ["10.0.0.0/33"]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.source_ips[0]: must be an IP address ("192.0.2.7") or a CIDR range ("10.0.0.0/8"), not "10.0.0.0/33"`},
	{`{"rules": [{"match": {"host": "a"}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.host: unknown field`},
	// The reply.
	{`{"requests_per_unit": 1, "status": 429}`, `status: moved: write it as deny.status`},
	{`{"requests_per_unit": 1, "body": "slow down"}`, `body: moved: write it as deny.body`},
	{`{"requests_per_unit": 1, "content_type": "text/plain"}`, `content_type: moved: write it as deny.content_type`},
	{`{"requests_per_unit": 1, "deny": {"status": 200}}`, `deny.status: must be an HTTP status code from 300 to 599, not 200`},
	{`{"requests_per_unit": 1, "deny": {"status": 0}}`, `deny.status: must be an HTTP status code from 300 to 599, not 0`},
	{`{"requests_per_unit": 1, "deny": {"status": 600}}`, `deny.status: must be an HTTP status code from 300 to 599, not 600`},
	{`{"requests_per_unit": 1, "deny": {"status": "429"}}`, `deny.status: must be a number, not a string`},
	{`{"requests_per_unit": 1, "deny": {"content_type": "text/plain\r\nx-evil: 1"}}`, `deny.content_type: must not contain control characters`},
	{`{"requests_per_unit": 1, "deny": {"headers": {"x-a": "1\r\nx-evil: 1"}}}`, `deny.headers.x-a: must not contain CR, LF, NUL or other control characters`},
	{`{"requests_per_unit": 1, "deny": {"headers": {"bad name": "1"}}}`, `deny.headers: "bad name" is not a header name`},
	{`{"requests_per_unit": 1, "deny": {"headers": {"Content-Type": "text/html"}, "content_type": "text/plain"}}`, `deny.headers.Content-Type: cannot be combined with content_type; set one of them`},
	{`{"requests_per_unit": 1, "deny": {"headers": {"Retry-After": "60"}}}`, `deny.headers.Retry-After: is set by the filter`},
	{`{"requests_per_unit": 1, "deny": {"headers": {"x-ratelimit-remaining": "0"}}}`, `deny.headers.x-ratelimit-remaining: is set by the filter`},
	{`{"requests_per_unit": 1, "deny": {"www_authenticate": "x"}}`, `deny.www_authenticate: unknown field`},
	{`{"requests_per_unit": 1, "deny": 429}`, `deny: must be an object, not a number`},
	{`{"requests_per_unit": 1, "failure_mode": "maybe"}`, `failure_mode: must be "open" or "closed", not "maybe"`},
	{`{"requests_per_unit": 1, "failure_mode": "closed", "status_on_error": 200}`, `status_on_error: must be an HTTP status code from 300 to 599, not 200`},
	{`{"requests_per_unit": 1, "fail_open": true}`, `fail_open: unknown field`},
	// The rest.
	{`{"requests_per_unit": 1, "scope": "cluster"}`, `scope: must be "proxy" or "worker", not "cluster"`},
	{`{"requests_per_unit": 1, "rate_limit_headers": "yes"}`, `rate_limit_headers: must be true or false, not a string`},
	{`{"requests_per_unit": 1, "per": "second"}`, `per: unknown field`},
	{`{"requests_per_unit": 1, "requests_per_unit": 100}`, `requests_per_unit: is given twice`},
	{`{"requests_per_unit": 1, "rules": [{"limit": {"requests_per_unit": 1, "unit": "minute", "unit": "second"}}]}`, `rules[0].limit.unit: is given twice`},
}

func TestConfigErrorsFailThePluginStart(t *testing.T) { startFails(t, configErrors) }

// startFails starts the plugin with each case's filter configuration,
// natively and compiled: the start must fail with one critical line naming
// the case's error.
func startFails(t *testing.T, cases []struct{ config, err string }) {
	t.Helper()
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			started, logs := wasmtest.TryStart(r.VM, pluginConfig(c.config, ""))
			if started {
				t.Errorf("%s: plugin started", c.config)
				continue
			}
			want := "policy: invalid plugin configuration: filters[0] (ratelimit): config." + c.err
			if len(logs) != 1 || !strings.HasPrefix(logs[0], want) {
				t.Errorf("%s:\n got %q\nwant %q", c.config, logs, want)
			}
		}
	})
}
