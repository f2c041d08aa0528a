package metrics_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testfilters"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/metrics/metricstest"
)

// The tests run natively and against build/metricschain.wasm, which links
// the "metrics" filter and the dispatcher's test filter "step" (see
// internal/testfilters): a step continues, denies, pauses on a callout or
// panics, as configured.

const image = "metricschain"

// clockStep is how far the native plugin's clock moves at each reading, so
// that a phase of the chain measures exactly one step. The compiled plugin
// reads wazero's clock, which moves 1ms per reading.
const clockStep = 100 * time.Microsecond

func nativePlugin() *policy.Plugin {
	p := policy.Configured(metrics.Kind, testfilters.Kind)
	t0, n := time.Unix(1_700_000_000, 0), 0
	p.Clock = func() time.Time { n++; return t0.Add(time.Duration(n) * clockStep) }
	return p
}

func native() types.VMContext { return nativePlugin() }

// chain is a plugin configuration with the given filter entries.
func chain(extra string, filters ...string) string {
	return `{"filters":[` + strings.Join(filters, ",") + `]` + extra + `}`
}

func step(id, config string) string {
	return `{"name":"step","id":"` + id + `","config":` + config + `}`
}

func stepMode(id, mode, config string) string {
	return `{"name":"step","id":"` + id + `","mode":"` + mode + `","config":` + config + `}`
}

const metricsFilter = `{"name":"metrics"}`

// request is one scripted request.
type request struct {
	method string
	// status is the upstream's :status; "" means the upstream never
	// answered (the stream ends without a response).
	status string
	// callout answers the callout a pausing filter sent: "ok" (200) or
	// "fail" (no headers: a failed or timed-out call).
	callout string
	path    string
	headers [][2]string
}

// send runs one request through the plugin as Envoy would: request
// headers, the callout's answer, then the response headers (those of the
// local reply if the chain sent one, as Envoy passes a local reply through
// the plugin's response phase), then the end of the stream.
func send(t *testing.T, r wasmtest.Runner, host proxytest.HostEmulator, rq request) {
	t.Helper()
	path := rq.path
	if path == "" {
		path = "/"
	}
	headers := append([][2]string{{":method", rq.method}, {":path", path}, {":authority", "example.com"}}, rq.headers...)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, headers, true)
	if rq.callout != "" {
		callouts := host.GetCalloutAttributesFromContext(id)
		if len(callouts) != 1 {
			t.Fatalf("%s %s: callouts = %+v, want one", rq.method, path, callouts)
		}
		var answer [][2]string
		if rq.callout == "ok" {
			answer = [][2]string{{":status", "200"}}
		}
		host.CallOnHttpCallResponse(callouts[0].CalloutID, answer, nil, nil)
	}
	if local := host.GetSentLocalResponse(id); local != nil {
		host.CallOnResponseHeaders(id, [][2]string{{":status", strconv.Itoa(int(local.StatusCode))}}, false)
	} else if rq.status != "" {
		host.CallOnResponseHeaders(id, [][2]string{{":status", rq.status}}, true)
	}
	host.CompleteHttpContext(id)
	if r.Wasm != nil {
		r.Wasm.Delete(id) // as Envoy does after the stream; the emulator does not
	}
}

// Full names, with the default prefix.

func requests(method, class string) string {
	return metrics.Name("policy_requests_total", tag("filter", "metrics"), tag("method", method), tag("code_class", class))
}

func localReplies(class string) string {
	return metrics.Name("policy_local_replies_total", tag("filter", "metrics"), tag("code_class", class))
}

const chainTime = "filter=.=metrics;.;policy_chain_time_microseconds"

func seen(filter string) string {
	return metrics.Name("policy_filter_requests_total", tag("filter", filter))
}

func decided(filter, decision string) string {
	return metrics.Name("policy_filter_decisions_total", tag("filter", filter), tag("decision", decision))
}

func tag(k, v string) metrics.Tag { return metrics.Tag{Key: k, Value: v} }

var decisions = []string{"allowed", "denied", "shadow_denied", "paused", "error"}

// defined is a metric the plugin is expected to define.
type defined struct {
	kind metrics.MetricKind
	name string // without prefix
	tags []metrics.Tag
}

func (d defined) full(prefix string) string { return metrics.Name(prefix+"_"+d.name, d.tags...) }

// expected lists every metric a chain of the metrics filter (id "metrics")
// and filters with the other ids defines: nothing else may be defined.
func expected(ids ...string) []defined {
	var out []defined
	for _, m := range metrics.Methods() {
		for _, c := range metrics.CodeClasses() {
			out = append(out, defined{metrics.KindCounter, "requests_total", []metrics.Tag{tag("filter", "metrics"), tag("method", m), tag("code_class", c)}})
		}
	}
	for _, c := range metrics.CodeClasses() {
		out = append(out, defined{metrics.KindCounter, "local_replies_total", []metrics.Tag{tag("filter", "metrics"), tag("code_class", c)}})
	}
	out = append(out, defined{metrics.KindHistogram, "chain_time_microseconds", []metrics.Tag{tag("filter", "metrics")}})
	for _, id := range append([]string{"metrics"}, ids...) {
		out = append(out, defined{metrics.KindCounter, "filter_requests_total", []metrics.Tag{tag("filter", id)}})
		for _, d := range decisions {
			out = append(out, defined{metrics.KindCounter, "filter_decisions_total", []metrics.Tag{tag("filter", id), tag("decision", d)}})
		}
	}
	// The steps have a body phase but, in their request_headers phase,
	// read no body (policy.BodyPhases): the chain reads none, and defines
	// no counter of bodies over its limit.
	return out
}

// checkDefined fails unless the plugin defined exactly the metrics in want:
// each can be read from the emulator, and the emulator's next metric ID
// (see metricstest.NextMetricID) equals their number, so there is no other.
// It returns that ID.
func checkDefined(t *testing.T, host proxytest.HostEmulator, prefix string, want []defined) uint32 {
	t.Helper()
	for _, d := range want {
		var err error
		switch d.kind {
		case metrics.KindCounter:
			_, err = host.GetCounterMetric(d.full(prefix))
		case metrics.KindHistogram:
			_, err = host.GetHistogramMetric(d.full(prefix))
		}
		if err != nil {
			t.Errorf("%s %s: %v", d.kind, d.full(prefix), err)
		}
	}
	next := metricstest.NextMetricID()
	if int(next) != len(want) {
		t.Errorf("the plugin defined %d metric names, want exactly the %d expected", next, len(want))
	}
	return next
}
