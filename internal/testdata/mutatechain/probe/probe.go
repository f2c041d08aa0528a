// Package probe is a test filter that shows one header as the chain's
// Exchange holds it, entry by entry, so tests can see separate entries that
// the SDK's host emulator would join into one value.
package probe

import (
	"strconv"
	"strings"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
)

// Probe writes the values of its header into the header x-probe-<id>, on
// the request in the request phase and on the response in the response
// phase, formatted as ["one", "two"] ([] when absent).
//
//	{"header": "x-a"}
//
// A probe that runs before the filter under test also makes the Exchange
// load its header cache, so that the filter's additions are recorded as
// entries. Response phases run in reverse chain order, so a chain
// probe, filter, probe has a probe on each side of the filter in both
// directions.
type Probe struct {
	header, out string
}

// Kind builds probes from JSON.
var Kind = policy.Kind{Name: "probe", Build: func(o *conf.Object, env *policy.Env) (policy.Filter, error) {
	p := &Probe{header: o.RequiredString("header"), out: "x-probe-" + env.ID}
	if err := o.Err(); err != nil {
		return nil, err
	}
	return p, nil
}}

// OnRequestHeaders records the request header.
func (p *Probe) OnRequestHeaders(x *policy.Exchange) policy.Result {
	x.SetRequestHeader(p.out, Format(x.RequestHeaderValues(p.header)))
	return policy.Continue()
}

// OnResponseHeaders records the response header.
func (p *Probe) OnResponseHeaders(x *policy.Exchange) policy.Result {
	x.SetResponseHeader(p.out, Format(x.ResponseHeaderValues(p.header)))
	return policy.Continue()
}

// Format writes values as a list of quoted strings.
func Format(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
