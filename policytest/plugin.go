package policytest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/wazero"

	"github.com/wasmpolicy/policy/internal/host"
)

// Plugin is a compiled plugin started in a proxy-wasm host that runs it as
// Envoy does: one VM per worker, the VMs sharing the plugin's shared data,
// queues and metrics. Its methods may be called from several goroutines;
// those that fail the test (a metric the plugin never defined, say) fail
// the test that started the plugin, so a subtest that reads metrics starts
// its own.
type Plugin struct {
	tb    testing.TB
	host  *host.Host
	vms   []*VM
	clock *clock
	next  int

	mu   sync.Mutex
	logs []Log

	// native is set for a plugin run natively in the SDK's emulator
	// (Native); host and the VMs' vm are then nil.
	native *native
}

// VM is one of a Plugin's VMs, as Envoy runs one per worker thread.
type VM struct {
	p  *Plugin
	vm *host.VM
	// nextTick is when the VM's next proxy_on_tick is due; zero if it asked
	// for none. The clock's lock guards it.
	nextTick time.Time
}

// An Option changes how Start runs a plugin.
type Option func(*settings)

type settings struct {
	workers    int
	start      time.Time
	callouts   func(Callout) *Response
	properties map[string][]byte
	name       string
	vmConfig   []byte
	pause      time.Duration
	shared     [][2]string
}

// Workers runs the plugin in n VMs (default 1), as an Envoy with n worker
// threads does. Plugin.Do spreads requests over them in turn; Plugin.VM
// picks one.
func Workers(n int) Option { return func(s *settings) { s.workers = n } }

// StartTime sets the time the plugin's clock starts at (the default is
// 2030-01-01 00:00 UTC). The clock moves only when the test advances it
// (Plugin.Advance), and a microsecond at every reading, so that the Go
// runtime in the plugin sees time pass.
func StartTime(t time.Time) Option { return func(s *settings) { s.start = t } }

// Callouts answers the plugin's HTTP callouts (proxy_http_call) with
// answer. A nil *Response fails the call, as a reset or a timeout does.
// Without this option every callout is refused, as Envoy refuses a call to
// a cluster it does not know.
func Callouts(answer func(c Callout) *Response) Option {
	return func(s *settings) { s.callouts = answer }
}

// Property sets a property every request sees, by its path with "."
// between segments ("node.metadata.REGION"); Request.Properties sets one
// for a single request.
func Property(path, value string) Option {
	return func(s *settings) { s.properties[path] = []byte(value) }
}

// PluginName sets the plugin_name property (default "plugin").
func PluginName(name string) Option { return func(s *settings) { s.name = name } }

// VMConfig sets the VM configuration, which the plugin reads in
// proxy_on_vm_start (Envoy's vm_config.configuration).
func VMConfig(config string) Option { return func(s *settings) { s.vmConfig = []byte(config) } }

// SharedData stores value at key in the shared data before the plugin's
// VMs start, as another plugin or an earlier VM of the proxy would have
// left it: a test of a plugin that reads a record when it starts sets it
// here. Plugin.SetSharedData writes one later.
func SharedData(key string, value []byte) Option {
	return func(s *settings) { s.shared = append(s.shared, [2]string{key, string(value)}) }
}

// PauseTimeout bounds how long a request the plugin paused waits to be
// resumed once the callouts it started have answered (default 30s); the
// client then gets 504 and Result.Err says so. A test that expects the
// plugin never to leave a request paused shortens it, to fail fast.
func PauseTimeout(d time.Duration) Option { return func(s *settings) { s.pause = d } }

// Start starts wasm, a compiled plugin (from Build or Load), with the
// plugin configuration config (Istio's pluginConfig, as JSON; "" for none),
// as Envoy starts it: _initialize, proxy_on_vm_start, proxy_on_configure,
// in every VM. The test fails if the plugin does not start; Refused checks
// that it does not. The plugin is stopped when the test ends.
func Start(tb testing.TB, wasm []byte, config string, opts ...Option) *Plugin {
	tb.Helper()
	p, err := start(tb, wasm, config, opts)
	if err != nil {
		tb.Fatalf("the plugin did not start: %v", err)
	}
	return p
}

// Refused starts wasm with config as Start does, expects the plugin to
// refuse the configuration, and returns the reason it gave: the last line
// it logged at error level or above while starting. The test fails if the
// plugin starts.
func Refused(tb testing.TB, wasm []byte, config string, opts ...Option) string {
	tb.Helper()
	p, err := start(tb, wasm, config, opts)
	var refused *host.RefusedError
	switch {
	case err == nil:
		p.Close()
		tb.Fatalf("the plugin started with the configuration %s", config)
	case !errors.As(err, &refused):
		tb.Fatalf("the plugin did not refuse its configuration, it failed: %v", err)
	}
	return refused.Message
}

// defaultStart is where the clock starts.
var defaultStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func start(tb testing.TB, wasm []byte, config string, opts []Option) (*Plugin, error) {
	s := settings{workers: 1, start: defaultStart, properties: map[string][]byte{}}
	for _, o := range opts {
		o(&s)
	}
	if s.workers < 1 {
		tb.Fatalf("policytest.Workers(%d): a plugin runs in at least one VM", s.workers)
	}
	p := &Plugin{tb: tb, clock: &clock{t: s.start}}
	cfg := host.Config{
		PluginConfig: []byte(config),
		VMConfig:     s.vmConfig,
		Name:         s.name,
		Properties:   s.properties,
		Log:          p.log,
		Clock:        p.clock.now,
		Cache:        compilationCache(),
		PauseTimeout: s.pause,
	}
	if config == "" {
		cfg.PluginConfig = nil
	}
	if answer := s.callouts; answer != nil {
		cfg.HTTPCall = func(ctx context.Context, c host.Callout) (*host.CalloutResponse, error) {
			resp := answer(Callout{Cluster: c.Cluster, Headers: c.Headers, Body: string(c.Body), Timeout: c.Timeout})
			if resp == nil {
				return nil, errors.New("the test's Callouts function failed the call")
			}
			status := resp.Status
			if status == 0 {
				status = 200
			}
			headers := append([][2]string{{":status", strconv.Itoa(status)}}, resp.Headers...)
			return &host.CalloutResponse{Headers: headers, Body: []byte(resp.Body)}, nil
		}
	}
	h, err := host.New(context.Background(), wasm, cfg)
	if err != nil {
		return nil, err
	}
	p.host = h
	for _, kv := range s.shared {
		h.SetSharedData(kv[0], []byte(kv[1]))
	}
	tb.Cleanup(p.Close)
	tb.Cleanup(func() {
		if tb.Failed() {
			p.dumpLogs()
		}
	})
	for i := 0; i < s.workers; i++ {
		vm, err := h.NewVM(context.Background())
		if err != nil {
			return nil, err
		}
		v := &VM{p: p, vm: vm}
		if period := vm.TickPeriod(); period > 0 {
			v.nextTick = p.clock.peek().Add(period)
		}
		p.vms = append(p.vms, v)
	}
	return p, nil
}

// Close stops the plugin: proxy_on_done and proxy_on_delete for every VM,
// as Envoy does when it removes the plugin. The test's end does it, too.
func (p *Plugin) Close() {
	if n := p.native; n != nil {
		if !n.closed {
			n.closed = true
			if n.restore != nil {
				defer n.restore()
			}
			n.host.FinishVM()
			n.reset()
		}
		return
	}
	if p.host != nil {
		p.host.Close(context.Background())
	}
}

// dumpLogs shows a failed test what the plugin logged.
func (p *Plugin) dumpLogs() {
	logs := p.Logs()
	if len(logs) == 0 {
		return
	}
	lines := make([]string, len(logs))
	for i, l := range logs {
		lines[i] = l.String()
	}
	p.tb.Logf("the plugin logged:\n%s", strings.Join(lines, "\n"))
}

func (p *Plugin) log(level host.LogLevel, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logs = append(p.logs, Log{Level: level.String(), Message: msg})
}

// Logs returns every line the plugin logged so far, from every VM, in
// order.
func (p *Plugin) Logs() []Log {
	if p.native != nil {
		logs, _ := p.native.logs()
		return logs
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Log(nil), p.logs...)
}

// Logged reports whether the plugin logged a line containing text.
func (p *Plugin) Logged(text string) bool {
	for _, l := range p.Logs() {
		if strings.Contains(l.Message, text) {
			return true
		}
	}
	return false
}

// VM returns the plugin's VM i, from 0.
func (p *Plugin) VM(i int) *VM {
	p.tb.Helper()
	if i < 0 || i >= len(p.vms) {
		p.tb.Fatalf("policytest: VM %d of a plugin with %d VMs", i, len(p.vms))
	}
	return p.vms[i]
}

// Do runs r through the plugin on its next VM in turn (with Workers(n),
// requests go to VM 0, 1, ..., n-1, 0, ...).
func (p *Plugin) Do(r Request) *Result {
	p.mu.Lock()
	vm := p.vms[p.next%len(p.vms)]
	p.next++
	p.mu.Unlock()
	return vm.Do(r)
}

// Do runs r through the plugin on this VM, as Envoy runs a stream: the
// request phases; unless the plugin answers itself, the upstream
// (r.Upstream or r.Answer) with the request as the plugin left it; the
// response phases, which also see a local reply; and the end of the
// stream. A callout the plugin makes on the way is answered before Do
// returns.
func (v *VM) Do(r Request) *Result {
	if v.p.native != nil {
		return v.p.native.do(v.p, r)
	}
	req := &host.Request{Headers: requestHeaders(r), Source: r.source(), Route: r.Route}
	if r.Body != "" {
		req.Body = []byte(r.Body)
	}
	if len(r.Properties) > 0 {
		req.Properties = map[string][]byte{}
		for k, val := range r.Properties {
			req.Properties[k] = []byte(val)
		}
	}
	res := &Result{}
	var mu sync.Mutex
	req.Log = func(level host.LogLevel, msg string) {
		mu.Lock()
		defer mu.Unlock()
		res.Logs = append(res.Logs, Log{Level: level.String(), Message: msg})
	}
	begin := time.Now()
	resp, err := v.vm.Serve(context.Background(), req, func(_ context.Context, fr *host.Request) (*host.Response, error) {
		f := &Forwarded{Headers: fr.Headers, Body: string(fr.Body)}
		mu.Lock()
		res.Forwarded = f
		mu.Unlock()
		answer := r.Upstream
		if r.Answer != nil {
			answer = r.Answer(f)
		}
		if answer == nil {
			answer = &Response{Status: 200}
		}
		return &host.Response{Status: answer.Status, Headers: lower(answer.Headers), Body: []byte(answer.Body), Details: "via_upstream"}, nil
	})
	res.Duration = time.Since(begin)
	mu.Lock()
	defer mu.Unlock()
	res.Err = err
	if resp != nil {
		res.Status, res.Headers, res.Body, res.Details = resp.Status, resp.Headers, string(resp.Body), resp.Details
	}
	res.LocalReply = err == nil && (res.Forwarded == nil || res.Details != "via_upstream")
	res.findDenial()
	return res
}

// deniedBy is the line the dispatcher logs when a filter answers a request
// itself.
var deniedBy = regexp.MustCompile(`^policy: filter (\S+) denied with \d+: (.*)$`)

// findDenial sets DeniedBy and Reason from the last line of Logs that
// reports a filter's denial.
func (res *Result) findDenial() {
	for _, l := range res.Logs {
		if m := deniedBy.FindStringSubmatch(l.Message); m != nil {
			res.DeniedBy, res.Reason = m[1], m[2]
		}
	}
}

func lower(headers [][2]string) [][2]string {
	out := make([][2]string, len(headers))
	for i, h := range headers {
		out[i] = [2]string{strings.ToLower(h[0]), h[1]}
	}
	return out
}

// Err is the trap that failed the VM, or nil.
func (v *VM) Err() error {
	if v.vm == nil {
		return nil
	}
	return v.vm.Err()
}

func (v *VM) tickPeriod() time.Duration {
	if v.p.native != nil {
		return time.Duration(v.p.native.host.GetTickPeriod()) * time.Millisecond
	}
	return v.vm.TickPeriod()
}

func (v *VM) tick() {
	if v.p.native != nil {
		v.p.native.host.Tick()
	} else if v.vm.Err() == nil {
		v.vm.Tick(context.Background())
	}
}

// Tick calls proxy_on_tick on every VM, as Envoy does at the period the
// plugin asked for, without moving the clock. Plugins built on this
// module's dispatcher send their counters to the host on every tick.
func (p *Plugin) Tick() {
	for _, v := range p.vms {
		v.tick()
	}
}

// Now is the time on the plugin's clock.
func (p *Plugin) Now() time.Time { return p.clock.peek() }

// Advance moves the plugin's clock forward by d, calling proxy_on_tick on
// each VM whenever its tick period (proxy_set_tick_period_milliseconds)
// elapses on the way, as Envoy's timer would.
func (p *Plugin) Advance(d time.Duration) {
	end := p.clock.peek().Add(d)
	for {
		// The VM whose tick is due first, if any is before end.
		var due *VM
		p.clock.mu.Lock()
		for _, v := range p.vms {
			if !v.nextTick.IsZero() && !v.nextTick.After(end) && (due == nil || v.nextTick.Before(due.nextTick)) {
				due = v
			}
		}
		if due == nil {
			if p.clock.t.Before(end) {
				p.clock.t = end
			}
			p.clock.mu.Unlock()
			return
		}
		if p.clock.t.Before(due.nextTick) {
			p.clock.t = due.nextTick
		}
		period := due.tickPeriod()
		if period <= 0 {
			due.nextTick = time.Time{}
		} else {
			due.nextTick = due.nextTick.Add(period)
		}
		p.clock.mu.Unlock()
		due.tick()
	}
}

// SharedData returns the value at key in the shared data all VMs share.
func (p *Plugin) SharedData(key string) (value []byte, ok bool) {
	v, _, ok := p.SharedDataCAS(key)
	return v, ok
}

// SharedDataCAS is SharedData with the record's CAS, the version the host
// gives it and changes at every write (proxy_get_shared_data returns it):
// a test can check that a record was not written again.
func (p *Plugin) SharedDataCAS(key string) (value []byte, cas uint32, ok bool) {
	if p.native != nil {
		v, cas, err := proxywasm.GetSharedData(key)
		return v, cas, err == nil
	}
	return p.host.SharedData(key)
}

// SetSharedData stores value at key in the shared data, as a VM would.
func (p *Plugin) SetSharedData(key string, value []byte) {
	if p.native != nil {
		if err := proxywasm.SetSharedData(key, value, 0); err != nil {
			p.tb.Fatalf("policytest: SetSharedData(%q): %v", key, err)
		}
		return
	}
	p.host.SetSharedData(key, value)
}

// clock is the plugin's clock: it moves when the test advances it, and a
// microsecond at every reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func (c *clock) peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

var (
	cacheOnce sync.Once
	cache     wazero.CompilationCache
)

// compilationCache keeps the compiled code of plugins across test runs, in
// the user's cache directory (wazero keys it by the module's content), or
// for the process only if there is none.
func compilationCache() wazero.CompilationCache {
	cacheOnce.Do(func() {
		if dir, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(dir, "wasmpolicy", "policytest", "wazero")
			pruneCache(dir, time.Now())
			if c, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
				cache = c
				return
			}
		}
		cache = wazero.NewCompilationCache()
	})
	return cache
}

// Compiled code older than cacheAge is removed, and the oldest beyond
// cacheBytes: every build of a plugin is a new entry of some megabytes.
const (
	cacheAge   = 7 * 24 * time.Hour
	cacheBytes = 1 << 30
)

func pruneCache(dir string, now time.Time) {
	type entry struct {
		path string
		info os.FileInfo
	}
	var entries []entry
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			entries = append(entries, entry{path, info})
		}
		return nil
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].info.ModTime().After(entries[j].info.ModTime()) })
	var total int64
	for _, e := range entries {
		total += e.info.Size()
		if now.Sub(e.info.ModTime()) > cacheAge || total > cacheBytes {
			os.Remove(e.path)
		}
	}
}

// HostCalls counts the calls this VM's plugin made into the host since it
// started (or since ResetHostCalls), by the name of the proxy-wasm import
// ("proxy_add_header_map_value", "proxy_http_call", ...): a test can check
// that a filter makes one header call per change, say, or none at all.
func (v *VM) HostCalls() map[string]uint64 {
	if v.p.native != nil {
		v.p.tb.Helper()
		v.p.failNative("HostCalls")
	}
	return v.vm.HostCalls()
}

// ResetHostCalls zeroes the counts HostCalls reports, so that the next
// request's calls can be counted alone.
func (v *VM) ResetHostCalls() {
	if v.p.native != nil {
		v.p.tb.Helper()
		v.p.failNative("ResetHostCalls")
	}
	v.vm.ResetHostCalls()
}

// HostCalls is VM.HostCalls summed over the plugin's VMs.
func (p *Plugin) HostCalls() map[string]uint64 {
	if p.native != nil {
		p.tb.Helper()
		p.failNative("HostCalls")
	}
	return p.host.HostCalls()
}

// ResetHostCalls is VM.ResetHostCalls on every VM.
func (p *Plugin) ResetHostCalls() {
	if p.native != nil {
		p.tb.Helper()
		p.failNative("ResetHostCalls")
	}
	for _, v := range p.vms {
		v.vm.ResetHostCalls()
	}
}

// SetTime sets the plugin's clock to t, forward or back, as an adjusted
// wall clock jumps, without calling proxy_on_tick: a test of a plugin that
// must survive a clock gone backwards uses it. The ticks stay due when
// they were; Advance moves the clock as a timer sees it.
func (p *Plugin) SetTime(t time.Time) {
	p.clock.mu.Lock()
	defer p.clock.mu.Unlock()
	p.clock.t = t
}
