package headermutate_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// goConfig and jsonConfig are the same filter, written in Go and in JSON.
var (
	goConfig = headermutate.Config{
		Request: headermutate.Ops{
			Set: [][2]string{{"x-hello", "Hello world from %REQ(:authority)%"}},
		},
		Response: headermutate.Ops{
			Remove:  []string{"server"},
			Add:     [][2]string{{"who-am-i", "wasm-extension"}},
			Headers: []headermutate.Header{{Name: "Cache-Control", Value: "no-store", AppendAction: headermutate.AddIfAbsent}},
		},
	}
	jsonConfig = `{
		"request":  {"set": {"x-hello": "Hello world from %REQ(:authority)%"}},
		"response": {"remove": ["server"], "add": {"who-am-i": "wasm-extension"},
		             "headers": [{"name": "Cache-Control", "value": "no-store", "append_action": "ADD_IF_ABSENT"}]}}`
)

// A chain built in Go with Filter behaves as the same filter configured in
// JSON: natively the plugin is policy.Static(headermutate.Filter(goConfig)),
// compiled it is the test plugin configured with jsonConfig.
func TestGoAndJSONCompositionAgree(t *testing.T) {
	native := func() types.VMContext { return policy.Static(headermutate.Filter(goConfig)) }
	wasmtest.Both(t, mutateChainImage, native, func(t *testing.T, r wasmtest.Runner) {
		config := ""
		if r.Wasm != nil {
			config = wasmtest.Chain(mutate(jsonConfig))
		}
		host, reset := wasmtest.Start(t, r.VM, config)
		defer reset()
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, request, false)
		checkHeaders(t, "request", host.GetCurrentRequestHeaders(id),
			with(request, [2]string{"x-hello", "Hello world from example.com"}))
		host.CallOnResponseHeaders(id, with(response, [2]string{"server", "envoy"}), false)
		checkHeaders(t, "response", host.GetCurrentResponseHeaders(id),
			with(response, [2]string{"who-am-i", "wasm-extension"}, [2]string{"cache-control", "no-store"}))
		host.CompleteHttpContext(id)
	})
}

// New validates a Go Config with the same paths as its JSON form.
func TestNewReportsPaths(t *testing.T) {
	cases := []struct {
		name string
		cfg  headermutate.Config
		want string
	}{
		{"zero config", headermutate.Config{},
			`has no operations: give "request" or "response" operations (remove, set, add, headers), or the shorthand {"name": ..., "value": ...}`},
		{"bad name", headermutate.Config{Response: headermutate.Ops{Headers: []headermutate.Header{{Name: "x\r", Value: "v"}}}},
			`response.headers[0].name: header name "x\r" must not contain CR, LF or NUL`},
		{"bad value", headermutate.Config{Request: headermutate.Ops{Set: [][2]string{{"x-a", "%PATH%"}}}},
			`request.set.x-a: at offset 0: unknown placeholder "%PATH%"; known: %REQ(header)%, %CLAIM(path)%, %DOWNSTREAM_REMOTE_ADDRESS%, %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%, %ROUTE_NAME%, %REQUEST_ID%; write %% for a literal '%'`},
		{"bad action", headermutate.Config{Request: headermutate.Ops{Headers: []headermutate.Header{{Name: "x-a", Value: "v", AppendAction: 9}}}},
			`request.headers[0].append_action: must be one of APPEND_IF_EXISTS_OR_ADD, ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS, not AppendAction(9)`},
		{"bad invalid value action", headermutate.Config{Request: goConfig.Request, InvalidValue: "reject"},
			`invalid_value: must be "drop" or "deny", not "reject"`},
		{"deny without DenyInvalid", headermutate.Config{Request: goConfig.Request, Deny: policy.DenyResponse{Body: "no\n"}},
			`deny: is only used with "invalid_value": "deny"`},
		{"bad deny status", headermutate.Config{Request: goConfig.Request, InvalidValue: headermutate.DenyInvalid, Deny: policy.DenyResponse{Status: 99}},
			`deny.status: must be an HTTP status code from 300 to 599, not 99`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := headermutate.New(c.cfg, nil)
			if err == nil || err.Error() != c.want {
				t.Errorf("New error:\n got  %v\n want %s", err, c.want)
			}
		})
	}
	if _, err := headermutate.New(goConfig, nil); err != nil {
		t.Errorf("New(goConfig): %v", err)
	}
}
