package metrics

import "github.com/wasmpolicy/policy/stats"

// The primitives, shared with the dispatcher. A filter gets them from its
// policy.Env (env.Counter, env.Gauge, env.Histogram, env.Metrics()).
type (
	// Tag is one label of a metric: a key and a value from configuration
	// or from a closed set.
	Tag = stats.Tag
	// Registry defines each metric once per plugin and flushes counters
	// and gauges to the proxy.
	Registry = stats.Registry
	// Counter only goes up; increments are batched until the next flush.
	Counter = stats.Counter
	// Gauge goes up and down; changes are batched until the next flush.
	Gauge = stats.Gauge
	// Histogram records observations at once; the proxy keeps the buckets.
	Histogram = stats.Histogram
	// Metric describes a defined metric (Registry.Metrics).
	Metric = stats.Metric
	// MetricKind is counter, gauge or histogram.
	MetricKind = stats.Kind
)

// The metric kinds.
const (
	KindCounter   = stats.KindCounter
	KindGauge     = stats.KindGauge
	KindHistogram = stats.KindHistogram
)

// NewRegistry returns a registry whose names start with prefix + "_". A
// plugin has one already (policy.Env.Metrics); this is for code that runs
// outside the dispatcher.
func NewRegistry(prefix string) *Registry { return stats.NewRegistry(prefix) }

// Name encodes tags and a name as the proxy sees them:
// KEY=.=VALUE;.;...name.
func Name(name string, tags ...Tag) string { return stats.Name(name, tags...) }

// Valid reports whether s can be a tag value: letters, digits, '_', '-' and
// '/'.
func Valid(s string) bool { return stats.Valid(s) }

// ValidName reports whether s can be a metric name, prefix or tag key: a
// letter or '_', then letters, digits and '_'.
func ValidName(s string) bool { return stats.ValidName(s) }

// The tag keys the library's metrics use.
const (
	KeyFilter    = "filter"     // the filter's id
	KeyDecision  = "decision"   // allowed, denied, shadow_denied, paused, error
	KeyMethod    = "method"     // Methods
	KeyCodeClass = "code_class" // CodeClasses
	KeySide      = "side"       // request or response: the dispatcher's body_too_large_total
)

// Keys lists the tag keys of the dispatcher's counters and of the metrics
// filter: the keys to pass to StatsTags, EnvoyStatsConfig and
// IstioMeshConfig. Filters that tag their own metrics document their keys;
// a plugin's registry lists every key it uses (Registry.TagKeys).
func Keys() []string { return []string{KeyFilter, KeyDecision, KeyMethod, KeyCodeClass, KeySide} }

// OtherMethod is the method tag of a request whose method is not one of the
// standard ones.
const OtherMethod = "other"

// NoCode is the code_class tag of a request that got no response.
const NoCode = "none"

// methods are the values of the method tag; the last is OtherMethod.
var methods = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", OtherMethod}

// classes are the values of the code_class tag; the last is NoCode.
var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx", NoCode}

// Methods lists the values of the method tag: the methods of RFC 9110 and
// PATCH, then "other" for every other method.
func Methods() []string { return append([]string(nil), methods[:]...) }

// CodeClasses lists the values of the code_class tag: 1xx to 5xx, then
// "none".
func CodeClasses() []string { return append([]string(nil), classes[:]...) }

// methodIndex is m's index in methods. Methods are case-sensitive: "get" is
// not GET but an extension method, counted as other.
func methodIndex(m string) int {
	for i, s := range methods[:len(methods)-1] {
		if s == m {
			return i
		}
	}
	return len(methods) - 1
}

// classIndex is the index in classes of a status code; anything outside
// 100-599 counts as no response.
func classIndex(status int) int {
	if status < 100 || status > 599 {
		return len(classes) - 1
	}
	return status/100 - 1
}

// statusOf parses a :status header: exactly three digits.
func statusOf(s string) int {
	if len(s) != 3 {
		return 0
	}
	n := 0
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// MethodTag is the method tag value of a request method.
func MethodTag(method string) string { return methods[methodIndex(method)] }

// CodeClassTag is the code_class tag value of a :status value.
func CodeClassTag(status string) string { return classes[classIndex(statusOf(status))] }
