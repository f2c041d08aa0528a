package bodymutate_test

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/bodymutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// Each invalid configuration fails the plugin start with one critical log
// line naming the field and the reason.
var invalidConfigs = []struct {
	name, config string
	want         string // the log line after "filters[0] (bodymutate): config"
}{
	// Paths.
	{"an empty path to set", `{"request": {"set": {"": "v"}}}`,
		`.request.set: field path must not be empty`},
	{"an empty path to remove", `{"request": {"remove": [""]}}`,
		`.request.remove[0]: is required`},
	{"an empty element", `{"request": {"set": {"a..b": "v"}}}`,
		`.request.set.a..b: has an empty element in "a..b"`},
	{"a trailing dot", `{"response": {"remove": ["a."]}}`,
		`.response.remove[0]: has an empty element in "a."`},
	{"a gjson query", `{"request": {"remove": ["a.#"]}}`,
		`.request.remove[0]: must be object keys and array indexes separated by '.' ("user.roles.0"), not "a.#": gjson's modifiers, queries and wildcards are not field paths, and "#" may not appear`},
	{"a gjson modifier", `{"response": {"remove": ["@this"]}}`,
		`.response.remove[0]: must be object keys and array indexes separated by '.' ("user.roles.0"), not "@this": gjson's modifiers, queries and wildcards are not field paths, and "@" may not appear`},
	{"a gjson pipe", `{"request": {"copy": [{"from": "a|b", "to": "c"}]}}`,
		`.request.copy[0].from: must be object keys and array indexes separated by '.' ("user.roles.0"), not "a|b": gjson's modifiers, queries and wildcards are not field paths, and "|" may not appear`},
	{"a gjson wildcard", `{"request": {"copy": [{"from": "a", "to": "b*"}]}}`,
		`.request.copy[0].to: must be object keys and array indexes separated by '.' ("user.roles.0"), not "b*": gjson's modifiers, queries and wildcards are not field paths, and "*" may not appear`},
	{"an escaped dot", `{"response": {"set": {"a\\.b": 1}}}`,
		`.response.set.a\.b: must be object keys and array indexes separated by '.' ("user.roles.0"), not "a\\.b": gjson's modifiers, queries and wildcards are not field paths, and "\\" may not appear`},

	// Values.
	{"an unknown placeholder", `{"request": {"set": {"caller.host": "from %HOST%"}}}`,
		`.request.set.caller.host: at offset 5: unknown placeholder "%HOST%"; known: %REQ(header)%, %CLAIM(path)%, %DOWNSTREAM_REMOTE_ADDRESS%, %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%, %ROUTE_NAME%, %REQUEST_ID%; write %% for a literal '%'`},
	{"an unclosed %CLAIM(", `{"request": {"set": {"caller.id": "%CLAIM(sub"}}}`,
		`.request.set.caller.id: at offset 0: %CLAIM( must be closed by )%, as in %CLAIM(sub)%`},
	{"a lone percent sign", `{"response": {"set": {"note": "50% off"}}}`,
		`.response.set.note: at offset 2: '%' starts a placeholder that never ends; write %% for a literal '%'`},
	{"an integer beyond 2^53", `{"request": {"set": {"a": 9007199254740993}}}`,
		`.request.set.a: is not a JSON value the filter can set: an integer beyond ±2^53, which parsers read differently at offset 16`},
	{"an integer beyond 2^53 inside an object", `{"request": {"set": {"a": {"n": [-9007199254740993]}}}}`,
		`.request.set.a: is not a JSON value the filter can set: an integer beyond ±2^53, which parsers read differently at offset 24`},

	// Invalid bodies.
	{"an unknown invalid_body", `{"request": {"set": {"a": "v"}}, "invalid_body": "drop"}`,
		`.invalid_body: must be "pass" or "deny", not "drop"`},
	{"deny without invalid_body", `{"request": {"set": {"a": "v"}}, "deny": {"status": 400}}`,
		`.deny: is only used with "invalid_body": "deny"`},
	{"deny with pass", `{"request": {"set": {"a": "v"}}, "invalid_body": "pass", "deny": {"body": "no\n"}}`,
		`.deny: is only used with "invalid_body": "deny"`},
	{"a deny status that is not an error", `{"response": {"remove": ["a"]}, "invalid_body": "deny", "deny": {"status": 200}}`,
		`.deny.status: must be an HTTP status code from 300 to 599, not 200`},
	{"an unknown deny field", `{"response": {"remove": ["a"]}, "invalid_body": "deny", "deny": {"code": 400}}`,
		`.deny.code: unknown field (known fields: body, content_type, headers, status)`},

	// Structure.
	{"no operations", `{}`,
		`: has no operations: give "request" or "response" operations (copy, set, remove)`},
	{"empty operations", `{"request": {}, "response": {"set": {}, "copy": [], "remove": []}}`,
		`: has no operations: give "request" or "response" operations (copy, set, remove)`},
	{"an unknown operation", `{"request": {"sett": {"a": "v"}}}`,
		`.request.sett: unknown field (known fields: copy, remove, set)`},
	{"an unknown side", `{"requests": {"set": {"a": "v"}}}`,
		`.requests: unknown field (known fields: deny, invalid_body, request, response)`},
	{"a side that is not an object", `{"request": ["set"]}`,
		`.request: must be an object, not an array`},
	{"set is not an object", `{"response": {"set": ["a"]}}`,
		`.response.set: must be an object, not an array`},
	{"a copy without from", `{"request": {"copy": [{"to": "b"}]}}`,
		`.request.copy[0].from: is required`},
	{"a copy without to", `{"request": {"copy": [{"from": "a", "to": "b"}, {"from": "a"}]}}`,
		`.request.copy[1].to: is required`},
	{"a copy from an empty path", `{"request": {"copy": [{"from": "", "to": "b"}]}}`,
		`.request.copy[0].from: must not be empty`},
	{"a copy with an unknown field", `{"request": {"copy": [{"from": "a", "to": "b", "move": true}]}}`,
		`.request.copy[0].move: unknown field (known fields: from, to)`},
	{"copy is not an array", `{"request": {"copy": {"from": "a", "to": "b"}}}`,
		`.request.copy: must be an array of objects, not an object`},
	{"a copy entry that is not an object", `{"response": {"copy": ["a"]}}`,
		`.response.copy[0]: must be an object, not a string`},
	{"remove with a non-string", `{"request": {"remove": ["a", 1]}}`,
		`.request.remove[1]: must be a string, not a number`},
	{"remove is not an array", `{"request": {"remove": "a"}}`,
		`.request.remove: must be an array of strings, not a string`},
}

// Every configuration of invalidConfigs fails the plugin start, natively
// and compiled, with its one critical line.
func TestInvalidConfigFailsStart(t *testing.T) {
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range invalidConfigs {
			t.Run(c.name, func(t *testing.T) {
				started, logs := wasmtest.TryStart(r.VM, wasmtest.Chain(mutate(c.config)))
				if started {
					t.Fatal("plugin started, want failed")
				}
				want := "policy: invalid plugin configuration: filters[0] (bodymutate): config" + c.want
				if got := strings.Join(logs, "\n"); got != want {
					t.Errorf("critical log:\n got  %s\n want %s", got, want)
				}
			})
		}
	})
}

// A JSON value nested deeper than the plugin configuration may nest is
// refused before the filter reads it, with the path to the value too deep.
func TestDeeplyNestedValueFailsStart(t *testing.T) {
	deep := strings.Repeat("[", 60) + strings.Repeat("]", 60)
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		started, logs := wasmtest.TryStart(r.VM, wasmtest.Chain(mutate(`{"request": {"set": {"a": `+deep+`}}}`)))
		if started {
			t.Fatal("plugin started, want failed")
		}
		want := "policy: invalid plugin configuration: filters[0].config.request.set.a" + strings.Repeat("[0]", 58) +
			": nests objects and arrays deeper than 64 levels (at offset 138)"
		if got := strings.Join(logs, "\n"); got != want {
			t.Errorf("critical log:\n got  %s\n want %s", got, want)
		}
	})
}

// New validates a Go Config with the same paths as its JSON form.
func TestNewReportsPaths(t *testing.T) {
	valid := bodymutate.Ops{Remove: []string{"debug"}}
	set := func(f ...bodymutate.Field) bodymutate.Ops { return bodymutate.Ops{Set: f} }
	cases := []struct {
		name string
		cfg  bodymutate.Config
		want string
	}{
		{"zero config", bodymutate.Config{},
			`has no operations: give "request" or "response" operations (copy, set, remove)`},
		{"empty set path", bodymutate.Config{Request: set(bodymutate.Field{Value: "v"})},
			`request.set: field path must not be empty`},
		{"bad set path", bodymutate.Config{Response: set(bodymutate.Field{Path: "a.b.", Value: "v"})},
			`response.set.a.b.: has an empty element in "a.b."`},
		{"bad copy source", bodymutate.Config{Request: bodymutate.Ops{Copy: []bodymutate.Copy{{From: "a", To: "b"}, {From: "", To: "c"}}}},
			`request.copy[1].from: is required`},
		{"bad copy target", bodymutate.Config{Response: bodymutate.Ops{Copy: []bodymutate.Copy{{From: "a", To: "b.#"}}}},
			`response.copy[0].to: must be object keys and array indexes separated by '.' ("user.roles.0"), not "b.#": gjson's modifiers, queries and wildcards are not field paths, and "#" may not appear`},
		{"bad remove path", bodymutate.Config{Request: bodymutate.Ops{Remove: []string{"a", "b", "c..d"}}},
			`request.remove[2]: has an empty element in "c..d"`},
		{"bad template", bodymutate.Config{Request: set(bodymutate.Field{Path: "caller.id", Value: "%CLAIM(sub"})},
			`request.set.caller.id: at offset 0: %CLAIM( must be closed by )%, as in %CLAIM(sub)%`},
		{"both Value and JSON", bodymutate.Config{Request: set(bodymutate.Field{Path: "a", Value: "v", JSON: "1"})},
			`request.set.a: has both a Value and JSON; set one of them`},
		{"JSON that is not JSON", bodymutate.Config{Request: set(bodymutate.Field{Path: "a", JSON: "{'a': 1}"})},
			`request.set.a: is not a JSON value the filter can set: an object member must start with a string key at offset 1`},
		{"JSON beyond 2^53", bodymutate.Config{Response: set(bodymutate.Field{Path: "n", JSON: "9007199254740993"})},
			`response.set.n: is not a JSON value the filter can set: an integer beyond ±2^53, which parsers read differently at offset 16`},
		{"JSON nested too deeply", bodymutate.Config{Request: set(bodymutate.Field{Path: "a", JSON: strings.Repeat("[", 65) + strings.Repeat("]", 65)})},
			`request.set.a: is not a JSON value the filter can set: arrays and objects nested deeper than 64 levels at offset 64`},
		{"a value nested too deeply for its path", bodymutate.Config{Request: set(bodymutate.Field{Path: "a.b.c.d.e.f.g.h.i.j", JSON: strings.Repeat("[", 58) + strings.Repeat("]", 58)})},
			`request.set.a.b.c.d.e.f.g.h.i.j: cannot be set: the value would be nested deeper than 64 levels`},
		{"two JSON values", bodymutate.Config{Request: set(bodymutate.Field{Path: "a", JSON: "1 2"})},
			`request.set.a: is not a JSON value the filter can set: data after the JSON value at offset 2`},
		{"bad invalid body action", bodymutate.Config{Request: valid, InvalidBody: "drop"},
			`invalid_body: must be "pass" or "deny", not "drop"`},
		{"deny without DenyInvalid", bodymutate.Config{Request: valid, Deny: policy.DenyResponse{Body: "no\n"}},
			`deny: is only used with "invalid_body": "deny"`},
		{"deny with PassInvalid", bodymutate.Config{Request: valid, InvalidBody: bodymutate.PassInvalid, Deny: policy.DenyResponse{Status: 400}},
			`deny: is only used with "invalid_body": "deny"`},
		{"bad deny status", bodymutate.Config{Request: valid, InvalidBody: bodymutate.DenyInvalid, Deny: policy.DenyResponse{Status: 99}},
			`deny.status: must be an HTTP status code from 300 to 599, not 99`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := bodymutate.New(c.cfg, nil)
			if err == nil || err.Error() != c.want {
				t.Errorf("New error:\n got  %v\n want %s", err, c.want)
			}
		})
	}
	for _, cfg := range []bodymutate.Config{
		{Request: valid},
		{Response: set(bodymutate.Field{Path: "a", JSON: `{"b": [1, "c", null]}`}, bodymutate.Field{Path: "b"}), InvalidBody: bodymutate.DenyInvalid,
			Deny: policy.DenyResponse{Status: 503}},
	} {
		if _, err := bodymutate.New(cfg, nil); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}
