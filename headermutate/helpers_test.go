package headermutate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/testdata/mutatechain/probe"
	"github.com/wasmpolicy/policy/internal/testfilters"
)

// The table tests run natively and against build/mutatechain.wasm, which
// links headermutate with the dispatcher's test filter "step" (to deny a
// request) and "probe" (to show a header entry by entry as the chain's
// Exchange holds it).
//
// The SDK's host emulator performs the proxy operations its own way: an
// added value is joined onto the first entry without a separator, and
// replace and remove touch only the first entry. Each case therefore
// asserts two views: the emulator's headers, which show which operation the
// filter asked for (add: "onetwo", replace: "two", none: "one"), and the
// probe's entries, which are what Envoy sends on: ["one", "two"].

const mutateChainImage = "mutatechain"

func nativeMutateChain() types.VMContext {
	return policy.Configured(headermutate.Kind, testfilters.Kind, probe.Kind)
}

// filter is a chain entry: the filter kind name with id and config.
func filter(name, id, config string) string {
	return fmt.Sprintf(`{"name":%q,"id":%q,"config":%s}`, name, id, config)
}

// mutate is a headermutate entry with config.
func mutate(config string) string { return filter("headermutate", "headermutate", config) }

// probeAt is a probe of header called id.
func probeAt(id, header string) string {
	return filter("probe", id, fmt.Sprintf(`{"header":%q}`, header))
}

var (
	request = [][2]string{
		{":authority", "example.com"}, {":method", "GET"}, {":path", "/search?q=1"},
		{":scheme", "https"}, {"x-request-id", "req-42"},
	}
	response = [][2]string{{":status", "200"}, {"content-type", "text/plain"}}
)

// with returns a copy of headers with extra appended.
func with(headers [][2]string, extra ...[2]string) [][2]string {
	return append(append([][2]string{}, headers...), extra...)
}

// withValue is headers with name's first entry set to value (appended if
// absent), as the emulator's replace does.
func withValue(headers [][2]string, name, value string) [][2]string {
	out := with(headers)
	for i, h := range out {
		if h[0] == name {
			out[i][1] = value
			return out
		}
	}
	return append(out, [2]string{name, value})
}

func header(headers [][2]string, name string) (string, bool) {
	for _, h := range headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

// withoutProbes drops the probes' own headers.
func withoutProbes(headers [][2]string) [][2]string {
	var out [][2]string
	for _, h := range headers {
		if !strings.HasPrefix(h[0], "x-probe-") {
			out = append(out, h)
		}
	}
	return out
}

func checkHeaders(t *testing.T, what string, got, want [][2]string) {
	t.Helper()
	got = withoutProbes(got)
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("%s headers:\n got  %q\n want %q", what, got, want)
	}
}
