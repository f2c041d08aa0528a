// Package probe is a test-only plugin that calls every host function of the
// proxy-wasm ABI the SDK uses and runs on every callback, so that a test can
// prove the upstream-Go bridge complete: compiled into build/probe.wasm, each
// call crosses the bridge; compiled natively, the same checks hold against the
// SDK's host emulator directly.
//
// The probe reports what it observed as info logs of the form
//
//	probe: <what>: <key>=<value> <key>=<value> ...
//
// and the test reads them back through the emulator. Which host calls a
// request exercises is chosen by its x-probe request header (see ops.go).
//
// The plugin configuration is "fail" (OnPluginStart fails), "tcp" (streams
// get TCP contexts instead of HTTP ones) or anything else.
package probe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// TickPeriodMillis is the tick period the probe asks for at plugin start.
const TickPeriodMillis = 1500

// Names the probe registers at plugin start.
const (
	QueueA    = "probe-a" // first queue: id 0 in the emulator
	QueueB    = "probe-b" // second queue: id 1 in the emulator
	Counter   = "probe_counter"
	Gauge     = "probe_gauge"
	Histogram = "probe_histogram"
)

// New returns the probe's VM context.
func New() types.VMContext { return &vm{} }

type vm struct{}

func (*vm) OnVMStart(size int) types.OnVMStartStatus {
	cfg, err := proxywasm.GetVMConfiguration()
	report("vm_start", "size=%d config=%s err=%s", size, cfg, errName(err))
	return true
}

func (*vm) NewPluginContext(id uint32) types.PluginContext {
	report("plugin_context", "id=%d", id)
	return &plugin{id: id}
}

// plugin is the probe's plugin context.
type plugin struct {
	types.DefaultPluginContext
	id             uint32
	tcp            bool
	queueA, queueB uint32
	counter        proxywasm.MetricCounter
	gauge          proxywasm.MetricGauge
	histogram      proxywasm.MetricHistogram
	// tickTarget is the HTTP context the next tick writes into, through
	// proxy_set_effective_context; 0 for none.
	tickTarget uint32
	// retained keeps host-returned values alive on purpose (op "retain"),
	// so the memory test can show what a leak looks like.
	retained [][]byte
}

func (p *plugin) OnPluginStart(size int) types.OnPluginStartStatus {
	cfg, err := proxywasm.GetPluginConfiguration()
	report("plugin_start", "size=%d config=%s err=%s", size, cfg, errName(err))
	if string(cfg) == "fail" {
		return false
	}
	p.tcp = string(cfg) == "tcp"
	tickErr := proxywasm.SetTickPeriodMilliSeconds(TickPeriodMillis)
	var errA, errB error
	p.queueA, errA = proxywasm.RegisterSharedQueue(QueueA)
	p.queueB, errB = proxywasm.RegisterSharedQueue(QueueB)
	p.counter = proxywasm.DefineCounterMetric(Counter)
	p.gauge = proxywasm.DefineGaugeMetric(Gauge)
	p.histogram = proxywasm.DefineHistogramMetric(Histogram)
	report("plugin_setup", "tick=%s queues=%d,%d queue_errs=%s,%s metrics=%d,%d,%d",
		errName(tickErr), p.queueA, p.queueB, errName(errA), errName(errB), p.counter, p.gauge, p.histogram)
	return true
}

// OnPluginDone reports, says it is done with proxy_done, and returns false
// (the non-default answer, so the test sees the value cross the boundary).
func (p *plugin) OnPluginDone() bool {
	report("plugin_done", "id=%d", p.id)
	proxywasm.PluginDone()
	return false
}

func (p *plugin) OnQueueReady(id uint32) { report("queue_ready", "id=%d", id) }

// OnTick reports, and if a request asked for it (op "tick") writes a request
// header into that request's context after switching to it.
func (p *plugin) OnTick() {
	report("tick", "plugin=%d target=%d", p.id, p.tickTarget)
	if p.tickTarget == 0 {
		return
	}
	target := p.tickTarget
	p.tickTarget = 0
	err := proxywasm.SetEffectiveContext(target)
	op, getErr := proxywasm.GetHttpRequestHeader("x-probe")
	addErr := proxywasm.AddHttpRequestHeader("x-tick", "ticked")
	report("tick_effective", "target=%d err=%s op=%s get=%s add=%s",
		target, errName(err), op, errName(getErr), errName(addErr))
}

func (p *plugin) NewHttpContext(id uint32) types.HttpContext {
	if p.tcp {
		return nil
	}
	report("http_context", "id=%d plugin=%d", id, p.id)
	return &stream{id: id, plugin: p}
}

func (p *plugin) NewTcpContext(id uint32) types.TcpContext {
	if !p.tcp {
		return nil
	}
	report("tcp_context", "id=%d plugin=%d", id, p.id)
	return &connection{id: id}
}

// connection is the probe's TCP context: it reports each callback with its
// arguments. Data callbacks return Pause, the non-default action.
type connection struct {
	types.DefaultTcpContext
	id uint32
}

func (c *connection) OnNewConnection() types.Action {
	report("on_new_connection", "id=%d", c.id)
	return types.ActionContinue
}

func (c *connection) OnDownstreamData(size int, end bool) types.Action {
	report("on_downstream_data", "id=%d size=%d end=%t", c.id, size, end)
	return types.ActionPause
}

func (c *connection) OnUpstreamData(size int, end bool) types.Action {
	report("on_upstream_data", "id=%d size=%d end=%t", c.id, size, end)
	return types.ActionPause
}

func (c *connection) OnDownstreamClose(peer types.PeerType) {
	report("on_downstream_connection_close", "id=%d peer=%d", c.id, peer)
}

func (c *connection) OnUpstreamClose(peer types.PeerType) {
	report("on_upstream_connection_close", "id=%d peer=%d", c.id, peer)
}

func (c *connection) OnStreamDone() { report("on_log", "tcp=%d", c.id) }

// report logs one observation at info level.
func report(what, format string, args ...any) {
	proxywasm.LogInfo("probe: " + what + ": " + fmt.Sprintf(format, args...))
}

// errName names an error from the host briefly: ok, not_found, ...
func errName(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, types.ErrorStatusNotFound):
		return "not_found"
	case errors.Is(err, types.ErrorStatusCasMismatch):
		return "cas_mismatch"
	case errors.Is(err, types.ErrorStatusEmpty):
		return "empty"
	case errors.Is(err, types.ErrorStatusBadArgument):
		return "bad_argument"
	default:
		return strings.ReplaceAll(err.Error(), " ", "_")
	}
}

// joinPairs writes a header map as k=v,k=v, leaving out the x-probe header
// that selects the op.
func joinPairs(pairs [][2]string) string {
	var b strings.Builder
	for _, kv := range pairs {
		if kv[0] == "x-probe" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[0] + "=" + kv[1])
	}
	return b.String()
}
