package headermutate_test

import (
	"fmt"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// exchangeCase is one request (and, if response is set, its response)
// through the chain probe "before", headermutate, probe "after".
type exchangeCase struct {
	name   string
	config string // the headermutate filter's config
	probe  string // the header the probes show; x-a when empty
	props  []wasmtest.Property

	request  [][2]string // sent; the base request when nil
	response [][2]string // sent; no response phase when nil

	// The headers as the emulator holds them after each phase; nil means
	// unchanged from what was sent.
	wantRequest, wantResponse [][2]string
	// wantEntries is the probed header's entries after headermutate ran, as
	// the Exchange holds them and Envoy sends them: on the response when
	// response is set, else on the request.
	wantEntries string
}

func (c exchangeCase) run(t *testing.T, r wasmtest.Runner) {
	probed := c.probe
	if probed == "" {
		probed = "x-a"
	}
	host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(probeAt("before", probed), mutate(c.config), probeAt("after", probed)), c.props...)
	defer reset()
	req := c.request
	if req == nil {
		req = request
	}
	id := host.InitializeHttpContext()
	if got := host.CallOnRequestHeaders(id, req, false); got != types.ActionContinue {
		t.Fatalf("request action = %v, want continue", got)
	}
	gotReq := host.GetCurrentRequestHeaders(id)
	checkHeaders(t, "request", gotReq, or(c.wantRequest, req))
	entries, _ := header(gotReq, "x-probe-after")
	if c.response != nil {
		if got := host.CallOnResponseHeaders(id, c.response, false); got != types.ActionContinue {
			t.Fatalf("response action = %v, want continue", got)
		}
		gotResp := host.GetCurrentResponseHeaders(id)
		checkHeaders(t, "response", gotResp, or(c.wantResponse, c.response))
		// Response phases run in reverse: the probe "before" runs last.
		entries, _ = header(gotResp, "x-probe-before")
	}
	if entries != c.wantEntries {
		t.Errorf("%s entries in the exchange = %s, want %s", probed, entries, c.wantEntries)
	}
	host.CompleteHttpContext(id)
}

func or(a, b [][2]string) [][2]string {
	if a != nil {
		return a
	}
	return b
}

// outcome is what an append action leaves of x-a.
type outcome struct {
	emulator string // the emulator's value of x-a; "" for absent
	entries  string // the entries Envoy keeps
	call     string // the one header call the filter makes; "" for none
}

const (
	addCall     = "proxy_add_header_map_value"
	replaceCall = "proxy_replace_header_map_value"
)

// appendActions is what each append action does when x-a is "one" (present)
// and when it is absent, the action's value being "two".
var appendActions = []struct {
	action          string
	present, absent outcome
}{
	// Envoy keeps two entries, "x-a: one" and "x-a: two"; the emulator
	// joins them.
	{"APPEND_IF_EXISTS_OR_ADD", outcome{"onetwo", `["one", "two"]`, addCall}, outcome{"two", `["two"]`, addCall}},
	{"ADD_IF_ABSENT", outcome{"one", `["one"]`, ""}, outcome{"two", `["two"]`, addCall}},
	{"OVERWRITE_IF_EXISTS_OR_ADD", outcome{"two", `["two"]`, replaceCall}, outcome{"two", `["two"]`, replaceCall}},
	{"OVERWRITE_IF_EXISTS", outcome{"two", `["two"]`, replaceCall}, outcome{"", `[]`, ""}},
}

// actionConfig is a headermutate config running action on side's x-a.
func actionConfig(side, action string) string {
	return fmt.Sprintf(`{%q: {"headers": [{"name": "x-a", "value": "two", "append_action": %q}]}}`, side, action)
}

// actionCases runs every append action on a present and an absent header,
// on both sides.
func actionCases() []exchangeCase {
	var cases []exchangeCase
	for _, side := range []string{"request", "response"} {
		for _, a := range appendActions {
			config := actionConfig(side, a.action)
			for _, present := range []bool{true, false} {
				base, o, state := request, a.absent, "absent"
				if side == "response" {
					base = response
				}
				if present {
					base, o, state = with(base, [2]string{"x-a", "one"}), a.present, "present"
				}
				want := base
				if o.emulator != "" {
					want = withValue(base, "x-a", o.emulator)
				}
				c := exchangeCase{name: fmt.Sprintf("%s %s on %s header", side, a.action, state), config: config, wantEntries: o.entries}
				if side == "request" {
					c.request, c.wantRequest = base, want
				} else {
					c.response, c.wantResponse = base, want
				}
				cases = append(cases, c)
			}
		}
	}
	return cases
}

var operationCases = []exchangeCase{
	{
		name:        "add is APPEND_IF_EXISTS_OR_ADD",
		config:      `{"request": {"add": {"x-a": "two"}}}`,
		request:     with(request, [2]string{"x-a", "one"}),
		wantRequest: with(request, [2]string{"x-a", "onetwo"}), // Envoy: two entries
		wantEntries: `["one", "two"]`,
	},
	{
		name:        "set is OVERWRITE_IF_EXISTS_OR_ADD and replaces every entry",
		config:      `{"request": {"set": {"x-a": "two"}}}`,
		request:     with(request, [2]string{"x-a", "one"}, [2]string{"x-a", "uno"}),
		wantRequest: with(request, [2]string{"x-a", "two"}, [2]string{"x-a", "uno"}), // the emulator replaces the first entry only
		wantEntries: `["two"]`,
	},
	{
		name:        "remove a present header",
		config:      `{"request": {"remove": ["x-a"]}}`,
		request:     with(request, [2]string{"x-a", "one"}),
		wantRequest: request,
		wantEntries: `[]`,
	},
	{
		name:        "remove an absent header",
		config:      `{"request": {"remove": ["x-a"]}}`,
		wantEntries: `[]`,
	},
	{
		name:        "remove drops every entry",
		config:      `{"request": {"remove": ["x-a"]}}`,
		request:     with(request, [2]string{"x-a", "one"}, [2]string{"x-a", "uno"}),
		wantRequest: with(request, [2]string{"x-a", "uno"}), // the emulator removes the first entry only
		wantEntries: `[]`,
	},
	{
		name:         "response remove",
		config:       `{"response": {"remove": ["x-a"]}}`,
		response:     with(response, [2]string{"x-a", "one"}),
		wantResponse: response,
		wantEntries:  `[]`,
	},
	{
		name:        "remove, then set, then add, then headers",
		config:      `{"request": {"headers": [{"name": "x-a", "value": "4"}], "add": {"x-a": "3"}, "set": {"x-a": "2"}, "remove": ["x-a"]}}`,
		request:     with(request, [2]string{"x-a", "1"}),
		wantRequest: with(request, [2]string{"x-a", "234"}),
		wantEntries: `["2", "3", "4"]`,
	},
	{
		name:        "an empty value is skipped",
		config:      `{"request": {"headers": [{"name": "x-a", "value": ""}]}}`,
		wantEntries: `[]`,
	},
	{
		name:        "keep_empty_value adds an empty value",
		config:      `{"request": {"headers": [{"name": "x-a", "value": "", "keep_empty_value": true}]}}`,
		wantRequest: with(request, [2]string{"x-a", ""}),
		wantEntries: `[""]`,
	},
	{
		name:        "keep_empty_value overwrites with an empty value",
		config:      `{"request": {"headers": [{"name": "x-a", "append_action": "OVERWRITE_IF_EXISTS", "keep_empty_value": true}]}}`,
		request:     with(request, [2]string{"x-a", "one"}),
		wantRequest: with(request, [2]string{"x-a", ""}),
		wantEntries: `[""]`,
	},
	{
		name:        "names are lower-cased",
		config:      `{"request": {"set": {"X-A": "two"}}}`,
		wantRequest: with(request, [2]string{"x-a", "two"}),
		wantEntries: `["two"]`,
	},
	{
		name:        "a request may rewrite :path",
		config:      `{"request": {"set": {":path": "/rewritten"}}}`,
		probe:       ":path",
		wantRequest: withValue(request, ":path", "/rewritten"),
		wantEntries: `["/rewritten"]`,
	},
	{
		name:         "a response may rewrite :status",
		config:       `{"response": {"set": {":status": "203"}}}`,
		probe:        ":status",
		response:     response,
		wantResponse: withValue(response, ":status", "203"),
		wantEntries:  `["203"]`,
	},
	{
		name:         "a non-ASCII name passes through",
		config:       `{"response": {"set": {"你好": "world"}}}`,
		probe:        "你好",
		response:     response,
		wantResponse: with(response, [2]string{"你好", "world"}),
		wantEntries:  `["world"]`,
	},
	{
		name:         `the shorthand {"name", "value"} is one response set`,
		config:       `{"name": "hello", "value": "world"}`,
		probe:        "hello",
		response:     with(response, [2]string{"hello", "there"}),
		wantResponse: with(response, [2]string{"hello", "world"}),
		wantEntries:  `["world"]`,
	},
}

func TestOperations(t *testing.T) {
	cases := append(actionCases(), operationCases...)
	wasmtest.Both(t, mutateChainImage, nativeMutateChain, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { c.run(t, r) })
		}
	})
}

var (
	sourceAddress = wasmtest.Property{Path: []string{"source", "address"}, Value: []byte("10.1.2.3:51234")}
	routeName     = wasmtest.Property{Path: []string{"route_name"}, Value: []byte("reviews-v2")}
)

var templateCases = []exchangeCase{
	{
		name:        "%REQ(:authority)%",
		config:      `{"request": {"set": {"x-a": "Hello world from %REQ(:authority)%"}}}`,
		wantRequest: with(request, [2]string{"x-a", "Hello world from example.com"}),
		wantEntries: `["Hello world from example.com"]`,
	},
	{
		name:        "%REQ(:path)% and %REQ(:method)%",
		config:      `{"request": {"set": {"x-a": "%REQ(:method)% %REQ(:path)%"}}}`,
		wantRequest: with(request, [2]string{"x-a", "GET /search?q=1"}),
		wantEntries: `["GET /search?q=1"]`,
	},
	{
		name:        "%REQ(header)% is case-insensitive",
		config:      `{"request": {"set": {"x-a": "user=%REQ(X-User)%"}}}`,
		request:     with(request, [2]string{"x-user", "alice"}),
		wantRequest: with(request, [2]string{"x-user", "alice"}, [2]string{"x-a", "user=alice"}),
		wantEntries: `["user=alice"]`,
	},
	{
		name:        "%DOWNSTREAM_REMOTE_ADDRESS%",
		config:      `{"request": {"set": {"x-a": "%DOWNSTREAM_REMOTE_ADDRESS%"}}}`,
		props:       []wasmtest.Property{sourceAddress},
		wantRequest: with(request, [2]string{"x-a", "10.1.2.3:51234"}),
		wantEntries: `["10.1.2.3:51234"]`,
	},
	{
		name:        "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
		config:      `{"request": {"set": {"x-a": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}}}`,
		props:       []wasmtest.Property{sourceAddress},
		wantRequest: with(request, [2]string{"x-a", "10.1.2.3"}),
		wantEntries: `["10.1.2.3"]`,
	},
	{
		name:        "%ROUTE_NAME%",
		config:      `{"request": {"set": {"x-a": "route %ROUTE_NAME%"}}}`,
		props:       []wasmtest.Property{routeName},
		wantRequest: with(request, [2]string{"x-a", "route reviews-v2"}),
		wantEntries: `["route reviews-v2"]`,
	},
	{
		name:        "%REQUEST_ID%",
		config:      `{"request": {"set": {"x-a": "%REQUEST_ID%"}}}`,
		wantRequest: with(request, [2]string{"x-a", "req-42"}),
		wantEntries: `["req-42"]`,
	},
	{
		name:        "%% is a literal percent sign",
		config:      `{"request": {"set": {"x-a": "100%% from %REQ(:authority)%"}}}`,
		wantRequest: with(request, [2]string{"x-a", "100% from example.com"}),
		wantEntries: `["100% from example.com"]`,
	},
	{
		name:        "a missing value renders empty and the header is skipped",
		config:      `{"request": {"set": {"x-a": "%REQ(x-missing)%", "x-b": "%ROUTE_NAME%"}}}`,
		wantEntries: `[]`,
	},
	{
		name:        "a missing value inside text renders empty",
		config:      `{"request": {"set": {"x-a": "user=%REQ(x-missing)%"}}}`,
		wantRequest: with(request, [2]string{"x-a", "user="}),
		wantEntries: `["user="]`,
	},
	{
		name:        "a missing value is kept with keep_empty_value",
		config:      `{"request": {"headers": [{"name": "x-a", "value": "%DOWNSTREAM_REMOTE_ADDRESS%", "keep_empty_value": true}]}}`,
		wantRequest: with(request, [2]string{"x-a", ""}),
		wantEntries: `[""]`,
	},
	{
		name:        "a value sees earlier operations",
		config:      `{"request": {"remove": ["x-user"], "set": {"x-a": "user=%REQ(x-user)%"}}}`,
		request:     with(request, [2]string{"x-user", "alice"}),
		wantRequest: with(request, [2]string{"x-a", "user="}),
		wantEntries: `["user="]`,
	},
	{
		name:         "response values come from the request",
		config:       `{"response": {"set": {"x-a": "served for %REQ(:authority)% from %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}}}`,
		props:        []wasmtest.Property{sourceAddress},
		response:     response,
		wantResponse: with(response, [2]string{"x-a", "served for example.com from 10.1.2.3"}),
		wantEntries:  `["served for example.com from 10.1.2.3"]`,
	},
}

func TestTemplates(t *testing.T) {
	wasmtest.Both(t, mutateChainImage, nativeMutateChain, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range templateCases {
			t.Run(c.name, func(t *testing.T) { c.run(t, r) })
		}
	})
}
