package metrics

import (
	"time"

	"github.com/wasmpolicy/policy"
)

var definition = policy.Define("metrics", decode, func(c Config, env *policy.Env) (*Telemetry, error) { return New(c, env), nil })

// Kind is the "metrics" filter for JSON configuration:
//
//	{"name": "metrics", "config": {"chain_time": true}}
var Kind = definition.Kind()

// Filter returns the "metrics" filter for a chain built in Go. Set the
// spec's ID to name it in the filter label.
func Filter(c Config) policy.Spec { return definition.Spec(c) }

// Telemetry counts every request once, when its stream ends, by method and
// response code class; counts the requests the chain answered with a local
// reply; and records how long each request spent in the chain. Its position
// in the chain does not matter: it only runs when the stream is done.
//
// Every metric is defined when the filter is built (10 methods × 6 classes,
// 6 local reply classes, one histogram), so no request, whatever its method,
// path or headers, adds a metric.
type Telemetry struct {
	requests  [len(methods)][len(classes)]*Counter
	local     [len(classes)]*Counter
	chainTime Histogram
	timed     bool
}

// New builds the filter and defines its metrics in env's registry.
func New(c Config, env *policy.Env) *Telemetry {
	t := &Telemetry{timed: !c.NoChainTime}
	for m, method := range methods {
		for k, class := range classes {
			t.requests[m][k] = env.Counter("requests_total", Tag{Key: KeyMethod, Value: method}, Tag{Key: KeyCodeClass, Value: class})
		}
	}
	for k, class := range classes {
		t.local[k] = env.Counter("local_replies_total", Tag{Key: KeyCodeClass, Value: class})
	}
	if !c.NoChainTime {
		env.MeasureChainTime()
		t.chainTime = env.Histogram("chain_time_microseconds")
	}
	return t
}

// OnStreamDone implements policy.StreamDoneFilter.
func (t *Telemetry) OnStreamDone(x *policy.Exchange) {
	var class int
	if r := x.LocalResponse(); r != nil {
		class = classIndex(int(r.Status))
		t.local[class].Inc()
	} else {
		status, _ := x.ResponseHeader(":status")
		class = classIndex(statusOf(status))
	}
	t.requests[methodIndex(x.Method())][class].Inc()
	if t.timed {
		t.chainTime.Record(uint64(x.ChainTime() / time.Microsecond))
	}
}

var _ policy.StreamDoneFilter = (*Telemetry)(nil)
