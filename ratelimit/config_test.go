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
	// The key.
	{`{"requests_per_unit": 2, "key": []}`, `key: must list at least one part (header:<name>, source_ip, path, path_segments:<n> or route); omit it for one bucket`},
	{`{"requests_per_unit": 2, "key": "source_ip"}`, `key: must be an array of strings, not a string`},
	{`{"requests_per_unit": 2, "key": ["cookie:session"]}`, `key[0]: unknown key part "cookie:session"; use header:<name>, source_ip, path, path_segments:<n> or route`},
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
	{`{"rules": [{"match": {"path": "/a"}}]}`, `rules[0].limit: is required`},
	{`{"rules": [{"limit": {"requests_per_unit": 1}}, {"limit": {"requests_per_unit": 1, "unit": "fortnight"}}]}`, `rules[1].limit.unit: must be "second", "minute", "hour" or "day", not "fortnight"`},
	{`{"rules": [{"limit": {"requests_per_unit": 1, "key": ["source_ip"], "max_keys": 0}}]}`, `rules[0].limit.max_keys: must be > 0, not 0`},
	{`{"rules": [{"limit": {"requests_per_unit": 1, "key": ["header:x", "bogus"]}}]}`, `rules[0].limit.key[1]: unknown key part "bogus"`},
	{`{"rules": [{"limit": {"requests_per_unit": -1}}]}`, `rules[0].limit.requests_per_unit: must be > 0, not -1`},
	{`{"rules": [{"match": {"path": "a"}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path: must start with "/", not "a"`},
	{`{"rules": [{"match": {"path": "/a", "path_prefix": "/"}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.path_prefix: cannot be combined with path`},
	{`{"rules": [{"match": {"methods": [""]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.methods[0]: must not be empty`},
	{`{"rules": [{"match": {"headers": [{"equals": "x"}]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.headers[0].name: is required`},
	{`{"rules": [{"match": {"headers": [{"name": "a", "equals": ""}]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.headers[0].equals: must not be empty`},
	{`{"rules": [{"match": {"headers": [{"name": "a", "equals": "b", "present": false}]}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.headers[0].equals: cannot be combined with "present": false`},
	{`{"rules": [{"match": {"host": "a"}, "limit": {"requests_per_unit": 1}}]}`, `rules[0].match.host: unknown field`},
	{`{"rules": [{"limit": {"requests_per_unit": 1, "status": 429}}]}`, `rules[0].limit.status: unknown field`},
	// The response and the rest.
	{`{"requests_per_unit": 1, "status": 200}`, `status: must be between 400 and 599, not 200`},
	{`{"requests_per_unit": 1, "status": 0}`, `status: must be between 400 and 599, not 0`},
	{`{"requests_per_unit": 1, "scope": "cluster"}`, `scope: must be "proxy" or "worker", not "cluster"`},
	{`{"requests_per_unit": 1, "failure_mode": "maybe"}`, `failure_mode: must be "open" or "closed", not "maybe"`},
	{`{"requests_per_unit": 1, "rate_limit_headers": "yes"}`, `rate_limit_headers: must be true or false, not a string`},
	{`{"requests_per_unit": 1, "per": "second"}`, `per: unknown field`},
}

func TestConfigErrorsFailThePluginStart(t *testing.T) {
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range configErrors {
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
