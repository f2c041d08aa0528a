// Package metrics is the library's stats API and its request telemetry
// filter.
//
// # Defining metrics
//
// Filters define their metrics once, when they are built, through the
// policy.Env they are given: env.Counter, env.Gauge and env.Histogram add
// the tag filter=<the filter's id> and return a cached handle. A request only
// increments handles; it never defines a metric. Counters and gauges add up
// in the plugin's memory and are flushed to the proxy on every tick
// ("flush_interval" in the plugin configuration, 1s by default), so counting
// costs no host call per request.
//
// Tag values must come from configuration (a filter id) or from a closed set
// (a decision, a method, a status class), never from request data: every
// distinct name is a new metric in the proxy's memory, for as long as the
// proxy runs.
//
// # Names
//
// The proxy-wasm ABI has no labels, so tags are encoded in the name, the way
// Istio encodes its own metrics:
//
//	filter=.=ratelimit;.;decision=.=denied;.;policy_filter_decisions_total
//
// Each tag is KEY=.=VALUE;.; before the name, and the name starts with the
// plugin's prefix ("metrics_prefix" in the plugin configuration, "policy" by
// default). Keys and names hold only [A-Za-z0-9_] and values only
// [A-Za-z0-9_/-] (Name replaces anything else with '_'), so the delimiters
// never occur inside a part and the encoding cannot be read two ways.
//
// Envoy files a Wasm plugin's metrics under the custom stat namespace
// "wasmcustom" and, for Prometheus, removes the namespace and adds no
// "envoy_" prefix. Its stats_tags regexes move the tags into labels; the
// functions StatsTags, EnvoyStatsConfig and IstioMeshConfig generate that
// configuration. With it, the name above is scraped as
//
//	policy_filter_decisions_total{filter="ratelimit",decision="denied"}
//
// # Metrics of the library
//
// The dispatcher counts, for every filter of a chain:
//
//	<prefix>_filter_requests_total{filter}             requests the filter saw
//	<prefix>_filter_decisions_total{filter,decision}   decision: allowed, denied,
//	                                                   shadow_denied, paused, error
//
// The "metrics" filter (Kind) counts requests:
//
//	<prefix>_requests_total{filter,method,code_class}  every request, once, when it ends
//	<prefix>_local_replies_total{filter,code_class}    requests the chain answered itself
//	<prefix>_chain_time_microseconds{filter}           histogram: time spent in the chain
//
// method is GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, CONNECT, TRACE or
// other; code_class is 1xx to 5xx, or none when there was no response.
package metrics
