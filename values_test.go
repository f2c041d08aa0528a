package policy_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"

	"github.com/wasmpolicy/policy"
)

type claimsKey struct{}

// publisher publishes the request's x-sub as a value; reader denies a
// request that has no published value, so the test sees both what crosses
// filters and that nothing survives into the next request.
type publisher struct{}

func (publisher) OnRequestHeaders(x *policy.Exchange) policy.Result {
	if v, ok := x.RequestHeader("x-sub"); ok {
		x.SetValue(claimsKey{}, v)
		x.SetValue(claimsKey{}, v+"!") // a second value replaces the first
	}
	return policy.Continue()
}

type reader struct{}

func (reader) OnRequestHeaders(x *policy.Exchange) policy.Result {
	v, _ := x.Value(claimsKey{}).(string)
	if v == "" {
		return policy.Deny(policy.Response{Status: 401})
	}
	x.SetRequestHeader("x-seen", v)
	return policy.Continue()
}

func TestValuesCrossFiltersWithinOneRequest(t *testing.T) {
	plugin := policy.Static(policy.Use("publisher", publisher{}), policy.Use("reader", reader{}))
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(plugin))
	defer reset()
	host.StartPlugin()
	for _, c := range []struct {
		sub    string
		status uint32
		seen   string
	}{{"alice", 0, "alice!"}, {"", 401, ""}, {"bob", 0, "bob!"}, {"", 401, ""}} {
		id := host.InitializeHttpContext()
		headers := [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}}
		if c.sub != "" {
			headers = append(headers, [2]string{"x-sub", c.sub})
		}
		host.CallOnRequestHeaders(id, headers, true)
		resp := host.GetSentLocalResponse(id)
		switch {
		case c.status == 0 && resp != nil, c.status != 0 && (resp == nil || resp.StatusCode != c.status):
			t.Errorf("x-sub %q: local reply %+v, want status %d", c.sub, resp, c.status)
		case c.status == 0:
			for _, h := range host.GetCurrentRequestHeaders(id) {
				if h[0] == "x-seen" && h[1] != c.seen {
					t.Errorf("x-sub %q: x-seen %q, want %q", c.sub, h[1], c.seen)
				}
			}
		}
		host.CompleteHttpContext(id) // the stream is reused: its values must go
	}
}
