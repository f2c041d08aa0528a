package headermutate_test

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// Each invalid configuration fails the plugin start with one critical log
// line naming the field and the reason. The cases run against the example
// image, the one platform teams configure.
var invalidConfigs = []struct {
	name, config string
	want         string // the log line after "filters[0] (headermutate): config"
}{
	// Names.
	{"CR in a name", `{"request": {"set": {"x-a\r": "v"}}}`,
		`.request.set: header name "x-a\r" must not contain CR, LF or NUL`},
	{"LF in a name", `{"response": {"remove": ["x-a\nb"]}}`,
		`.response.remove[0]: header name "x-a\nb" must not contain CR, LF or NUL`},
	{"NUL in a name", `{"request": {"headers": [{"name": "x-a\u0000", "value": "v"}]}}`,
		`.request.headers[0].name: header name "x-a\x00" must not contain CR, LF or NUL`},
	{"':' inside a name", `{"request": {"add": {"x:a": "v"}}}`,
		`.request.add: header name "x:a" must not contain ':'`},
	{"a pseudo-header the request cannot set", `{"request": {"set": {":status": "200"}}}`,
		`.request.set: header name ":status": the only pseudo-headers that can be rewritten here are :authority, :method, :path, :scheme`},
	{"a pseudo-header the response cannot set", `{"response": {"set": {":path": "/"}}}`,
		`.response.set: header name ":path": the only pseudo-headers that can be rewritten here are :status`},
	{"adding a pseudo-header", `{"request": {"add": {":path": "/x"}}}`,
		`.request.add: pseudo-header ":path" has exactly one value: it can be set (OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS) but not added or removed`},
	{"removing a pseudo-header", `{"request": {"remove": [":authority"]}}`,
		`.request.remove[0]: pseudo-header ":authority" has exactly one value: it can be set (OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS) but not added or removed`},
	{"an empty name", `{"request": {"set": {"": "v"}}}`,
		`.request.set: header name must not be empty`},
	{"a headers entry without a name", `{"request": {"headers": [{"value": "v"}]}}`,
		`.request.headers[0].name: is required`},
	{"an invalid name in a response headers entry", `{"response": {"headers": [{"name": "x:y", "value": "v"}]}}`,
		`.response.headers[0].name: header name "x:y" must not contain ':'`},
	{"an invalid name in the shorthand", `{"name": "x:y", "value": "v"}`,
		`.name: header name "x:y" must not contain ':'`},

	// Values.
	{"CR LF in a value", `{"response": {"set": {"x-a": "v\r\nx-injected: 1"}}}`,
		`.response.set.x-a: must not contain CR, LF or NUL: "v\r\nx-injected: 1"`},
	{"LF in the shorthand's value", `{"name": "hello", "value": "wor\nld"}`,
		`.value: must not contain CR, LF or NUL: "wor\nld"`},
	{"NUL in a value", `{"request": {"headers": [{"name": "x-a", "value": "a\u0000b"}]}}`,
		`.request.headers[0].value: must not contain CR, LF or NUL: "a\x00b"`},
	{"a control character in a value", `{"request": {"set": {"x-a": "a\u0001b"}}}`,
		`.request.set.x-a: must not contain control characters other than tab: "a\x01b"`},
	{"DEL in a value", `{"response": {"add": {"x-a": "a\u007f%REQ(x-b)%"}}}`,
		`.response.add.x-a: must not contain control characters other than tab: "a\x7f%REQ(x-b)%"`},
	{"a control character in a placeholder's name", `{"request": {"set": {"x-a": "%REQ(x-\u001bb)%"}}}`,
		`.request.set.x-a: must not contain control characters other than tab: "%REQ(x-\x1bb)%"`},
	{"a value longer than the limit", `{"request": {"set": {"x-a": "` + strings.Repeat("v", 8193) + `"}}}`,
		`.request.set.x-a: has 8193 bytes of text, more than the 8192 bytes a header value may have`},
	{"literal text around placeholders longer than the limit", `{"request": {"set": {"x-a": "` + strings.Repeat("v", 4097) + `%REQ(x-b)%` + strings.Repeat("w", 4096) + `"}}}`,
		`.request.set.x-a: has 8193 bytes of text, more than the 8192 bytes a header value may have`},
	{"a status taken from the request", `{"response": {"set": {":status": "%REQ(x-code)%"}}}`,
		`.response.set.:status: must be a literal status code from 200 to 599, not "%REQ(x-code)%"`},
	{"an informational status", `{"response": {"set": {":status": "101"}}}`,
		`.response.set.:status: must be a literal status code from 200 to 599, not "101"`},

	// Templates.
	{"an unknown placeholder", `{"request": {"set": {"x-a": "from %HOST%"}}}`,
		`.request.set.x-a: at offset 5: unknown placeholder "%HOST%"; known: %REQ(header)%, %CLAIM(path)%, %DOWNSTREAM_REMOTE_ADDRESS%, %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%, %ROUTE_NAME%, %REQUEST_ID%; write %% for a literal '%'`},
	{"a lone percent sign", `{"request": {"add": {"x-a": "50% off"}}}`,
		`.request.add.x-a: at offset 2: '%' starts a placeholder that never ends; write %% for a literal '%'`},
	{"an unclosed %REQ(", `{"request": {"set": {"x-a": "%REQ(x-user"}}}`,
		`.request.set.x-a: at offset 0: %REQ( must be closed by )%, as in %REQ(x-user)%`},
	{"%REQ()% without a name", `{"request": {"set": {"x-a": "user %REQ()%"}}}`,
		`.request.set.x-a: at offset 5: %REQ(...)% needs a header name without CR, LF or NUL, not ""`},

	// Invalid rendered values.
	{"an unknown invalid_value", `{"request": {"set": {"x-a": "%REQ(x-b)%"}}, "invalid_value": "reject"}`,
		`.invalid_value: must be "drop" or "deny", not "reject"`},
	{"deny without invalid_value deny", `{"request": {"set": {"x-a": "%REQ(x-b)%"}}, "deny": {"status": 400}}`,
		`.deny: is only used with "invalid_value": "deny"`},
	{"deny with drop", `{"request": {"set": {"x-a": "%REQ(x-b)%"}}, "invalid_value": "drop", "deny": {"body": "no\n"}}`,
		`.deny: is only used with "invalid_value": "deny"`},
	{"a deny status that is not an error", `{"request": {"set": {"x-a": "%REQ(x-b)%"}}, "invalid_value": "deny", "deny": {"status": 200}}`,
		`.deny.status: must be an HTTP status code from 300 to 599, not 200`},
	{"a deny header with a control character", `{"request": {"set": {"x-a": "%REQ(x-b)%"}}, "invalid_value": "deny", "deny": {"headers": {"x-why": "a\u0000"}}}`,
		`.deny.headers.x-why: must not contain CR, LF, NUL or other control characters`},
	{"invalid_value in the shorthand", `{"name": "hello", "value": "%REQ(x-b)%", "invalid_value": "deny"}`,
		`.invalid_value: unknown field (known fields: name, value)`},

	// Structure.
	{"no operations", `{}`,
		`: has no operations: give "request" or "response" operations (remove, set, add, headers), or the shorthand {"name": ..., "value": ...}`},
	{"an unknown append action", `{"request": {"headers": [{"name": "x-a", "value": "v", "append_action": "APPEND"}]}}`,
		`.request.headers[0].append_action: must be one of APPEND_IF_EXISTS_OR_ADD, ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS, not "APPEND"`},
	{"an unknown operation", `{"request": {"sett": {"x-a": "v"}}}`,
		`.request.sett: unknown field (known fields: add, headers, remove, set)`},
	{"the shorthand mixed with operations", `{"name": "hello", "value": "world", "request": {}}`,
		`.request: unknown field (known fields: name, value)`},
	{"set is not an object", `{"response": {"set": ["who-am-i"]}}`,
		`.response.set: must be an object of strings, not an array`},
}

func TestInvalidConfigFailsStart(t *testing.T) {
	native := func() types.VMContext { return policy.Configured(headermutate.Kind) }
	wasmtest.Both(t, "headermutate", native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range invalidConfigs {
			t.Run(c.name, func(t *testing.T) {
				started, logs := wasmtest.TryStart(r.VM, wasmtest.Chain(filter("headermutate", "", c.config)))
				if started {
					t.Fatal("plugin started, want failed")
				}
				want := "policy: invalid plugin configuration: filters[0] (headermutate): config" + c.want
				if got := strings.Join(logs, "\n"); got != want {
					t.Errorf("critical log:\n got  %s\n want %s", got, want)
				}
			})
		}
	})
}
