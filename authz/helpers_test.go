package authz_test

import (
	"encoding/base64"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/stats"
)

// The declarative and remote tests run natively and against the example
// image, build/authz.wasm, which links only authz.Kind; the Go API tests run
// against build/authzfunc.wasm.
const image = "authz"

func native() types.VMContext { return policy.Configured(authz.Kind) }

// pluginConfig wraps an authz "config" object into a plugin configuration
// running it in mode ("" for enforce).
func pluginConfig(config, mode string) string { return wasmtest.FilterConfig("authz", mode, config) }

// req is one request. source, when set, is the proxy's source.address.
type req struct {
	method, path, host string
	headers            [][2]string
	source             string
}

// all is the request's header list, pseudo-headers first.
func (q req) all() [][2]string {
	method, path, host := q.method, q.path, q.host
	if method == "" {
		method = "GET"
	}
	if path == "" {
		path = "/"
	}
	if host == "" {
		host = "example.com"
	}
	return append([][2]string{{":method", method}, {":path", path}, {":authority", host}}, q.headers...)
}

// begin sends q's headers on a new stream and returns its id and the
// action the plugin returned.
func begin(t *testing.T, host proxytest.HostEmulator, q req) (uint32, types.Action) {
	t.Helper()
	return beginHeaders(t, host, q.all(), q.source)
}

// beginHeaders is begin for a header list as the proxy delivers it, with
// source as source.address unless it is empty.
func beginHeaders(t *testing.T, host proxytest.HostEmulator, headers [][2]string, source string) (uint32, types.Action) {
	t.Helper()
	if source != "" {
		if err := host.SetProperty([]string{"source", "address"}, []byte(source)); err != nil {
			t.Fatal(err)
		}
	}
	id := host.InitializeHttpContext()
	return id, host.CallOnRequestHeaders(id, headers, true)
}

// outcome is what became of a finished request.
type outcome struct {
	local    *proxytest.LocalHttpResponse // the reply sent, nil if allowed
	upstream [][2]string                  // the request headers after the chain
}

// finish checks that the stream was resumed or answered, never left
// paused, then completes it.
func finish(t *testing.T, host proxytest.HostEmulator, id uint32) outcome {
	t.Helper()
	o := outcome{local: host.GetSentLocalResponse(id), upstream: host.GetCurrentRequestHeaders(id)}
	if o.local == nil && host.GetCurrentHttpStreamAction(id) != types.ActionContinue {
		t.Fatalf("the request was left paused: neither resumed nor answered")
	}
	host.CompleteHttpContext(id)
	return o
}

// send runs q to the end; the filter must decide without a callout.
func send(t *testing.T, host proxytest.HostEmulator, q req) outcome {
	t.Helper()
	return sendHeaders(t, host, q.all(), q.source)
}

// sendHeaders is send for a header list, as beginHeaders.
func sendHeaders(t *testing.T, host proxytest.HostEmulator, headers [][2]string, source string) outcome {
	t.Helper()
	id, action := beginHeaders(t, host, headers, source)
	if n := len(host.GetCalloutAttributesFromContext(id)); n != 0 || action == types.ActionPause && host.GetSentLocalResponse(id) == nil {
		t.Fatalf("the request paused (action %v, %d callouts); want a decision on the headers", action, n)
	}
	return finish(t, host, id)
}

// status is the local reply's status, 0 if the request was allowed.
func (o outcome) status() uint32 {
	if o.local == nil {
		return 0
	}
	return o.local.StatusCode
}

// counter reads a counter of the plugin (prefix "policy") after a tick has
// flushed the metrics.
func counter(t *testing.T, host proxytest.HostEmulator, name string, tags ...stats.Tag) uint64 {
	t.Helper()
	return wasmtest.Counter(t, host, stats.Name("policy_"+name, tags...))
}

func tag(key, value string) stats.Tag { return stats.Tag{Key: key, Value: value} }

// decisions reads filter_decisions_total of filter id for decision.
func decisions(t *testing.T, host proxytest.HostEmulator, id, decision string) uint64 {
	t.Helper()
	return counter(t, host, "filter_decisions_total", tag("filter", id), tag("decision", decision))
}

// jwt makes an unsigned-looking token whose payload is the JSON text
// payload; the filter does not check signatures.
func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl"
}

func bearer(token string) [2]string { return [2]string{"authorization", "Bearer " + token} }
