package ratelimit_test

import (
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// Rules and keys on the JSON request body: a rule applies when some
// parser reads the field its way (a restricting rule), and a key is the
// field's value only when every parser reads the same one; otherwise the
// request shares the fallback bucket of requests without the key.
func TestBodyRulesAndKeys(t *testing.T) {
	wasmtest.Both(t, "ratelimit", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(`{"rules": [{
			"match": {"body": [{"path": "model", "prefix": "gpt-4"}]},
			"limit": {"requests_per_unit": 1, "unit": "minute", "key": ["body:tenant"]}}]}`, ""))
		defer reset()
		for i, c := range []struct {
			name, body string
			want       uint32
		}{
			{"tenant a", `{"model": "gpt-4o", "tenant": "a"}`, 200},
			{"tenant a again", `{"model": "gpt-4o", "tenant": "a"}`, 429},
			{"tenant b", `{"model": "gpt-4o", "tenant": "b"}`, 200},
			{"a model no rule limits", `{"model": "gpt-3.5", "tenant": "a"}`, 200},
			{"model given twice: possibly limited", `{"model": "gpt-3.5", "model": "gpt-4o", "tenant": "a"}`, 429},
			{"tenant read two ways: the fallback bucket", `{"model": "gpt-4o", "tenant": "c", "tenant": "d"}`, 200},
			{"the fallback bucket again", `{"model": "gpt-4o", "tenant": "e", "Tenant": "f"}`, 429},
			{"a number is a key", `{"model": "gpt-4o", "tenant": 7}`, 200},
			{"the same number", `{"model": "gpt-4o", "tenant": 7.0}`, 429},
			{"not JSON: possibly limited, no key", `model=gpt-4o`, 429},
		} {
			if got := send(t, host, r.Wasm, request{method: "POST", body: c.body}).status; got != c.want {
				t.Errorf("%d %s: status %d, want %d", i, c.name, got, c.want)
			}
		}
	})
}

func TestBodyKeyPathErrors(t *testing.T) {
	started, critical := wasmtest.TryStart(native(), pluginConfig(`{"requests_per_unit": 1, "unit": "minute", "key": ["body:items.#.sku"]}`, ""))
	if started || len(critical) != 1 || !wasmtest.AnyContains(critical, "key[0]: body: the field's path must be object keys and array indexes") {
		t.Errorf("started %v, critical %q", started, critical)
	}
}

// A global descriptor entry on a body field sends the value every parser
// reads, "(unreadable)" when they read it differently, and leaves the
// descriptor out when the field is missing; a header_value_match entry
// takes body conditions. The check is sent once the body is there.
func TestGlobalBodyEntries(t *testing.T) {
	const descriptors = `[
		{"entries": [{"body": {"key": "tenant", "path": "order.tenant"}}]},
		{"entries": [{"header_value_match": {"match": {"body": [{"path": "order.rush", "equals": true}]}, "value": "rush"}}]}]`
	check := func(descs string) string { return `{"domain":"api","descriptors":[` + descs + `],"hitsAddend":1}` }
	for _, c := range []struct{ name, body, want string }{
		{"a tenant", `{"order": {"tenant": "acme", "rush": false}}`, check(`{"entries":[{"key":"tenant","value":"acme"}]}`)},
		{"a rush order", `{"order": {"tenant": 7, "rush": true}}`, check(`{"entries":[{"key":"tenant","value":"7"}]},{"entries":[{"key":"header_match","value":"rush"}]}`)},
		{"a tenant read two ways", `{"order": {"tenant": "acme", "tenant": "evil"}}`, check(`{"entries":[{"key":"tenant","value":"(unreadable)"}]}`)},
		{"no tenant", `{"order": {"rush": true}}`, check(`{"entries":[{"key":"header_match","value":"rush"}]}`)},
		{"not JSON", `tenant=acme`, check(`{"entries":[{"key":"tenant","value":"(unreadable)"}]},{"entries":[{"key":"header_match","value":"rush"}]}`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			wasmtest.Both(t, "ratelimit", native, func(t *testing.T, r wasmtest.Runner) {
				host, reset := wasmtest.Start(t, r.VM, pluginConfig(globalConfig(descriptors, "", ""), ""))
				defer reset()
				id, calls := begin(t, host, request{method: "POST", path: "/orders", body: c.body})
				if len(calls) != 1 {
					t.Fatalf("%d checks, want 1", len(calls))
				}
				if string(calls[0].Body) != c.want {
					t.Errorf("check body\n got %s\nwant %s", calls[0].Body, c.want)
				}
				host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", "200"}}, nil, []byte(`{"overallCode":"OK"}`))
				if res := end(t, host, r.Wasm, id); res.status != 200 {
					t.Errorf("status %d, want 200", res.status)
				}
			})
		})
	}
}
