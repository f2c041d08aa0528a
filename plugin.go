package policy

import (
	"errors"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/text"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/stats"
)

// Spec is one filter of a chain built in Go. The chain builds it when the
// plugin starts; an error fails the start.
type Spec struct {
	// Kind names the filter type ("ratelimit"); it appears in logs.
	Kind string
	// ID names this filter in logs and metrics; the Kind when empty. Two
	// filters of a chain cannot share an ID.
	ID string
	// Mode is Enforce or Shadow.
	Mode Mode
	// Match limits the filter to the requests that possibly match it
	// (match.Matcher.Possibly): to some routes, hosts, paths, methods. The
	// zero Match runs the filter on every request. See "Filters on some
	// requests" in the package documentation.
	Match match.Match
	// Build makes the filter.
	Build func(env *Env) (Filter, error)

	whole bool           // built from the whole plugin configuration
	when  *match.Matcher // Match compiled, for a spec from the configuration
}

// WithID returns a copy of s named id, in logs and metrics:
// ratelimit.Filter(cfg).WithID("login-limit").
func (s Spec) WithID(id string) Spec { s.ID = id; return s }

// WithMatch returns a copy of s that runs only on the requests that
// possibly match m: ratelimit.Filter(cfg).WithMatch(match.Match{Routes: []string{"login"}}).
func (s Spec) WithMatch(m match.Match) Spec { s.Match = m; return s }

// Shadow returns a copy of s in shadow mode: its denials are logged and
// counted, and the requests go on (see Mode).
func (s Spec) Shadow() Spec { s.Mode = Shadow; return s }

// Kind is a filter type a plugin can build from JSON configuration. The
// filter packages define theirs with Define; a Kind written by hand works
// the same way.
type Kind struct {
	// Name is the filter's "name" in the plugin configuration.
	Name string
	// Build decodes, validates and builds the filter from its "config"
	// object. Its errors name the offending field's path within config.
	// Whatever field of config Build did not read is reported as unknown
	// when it returns, so a misspelt key fails the start.
	Build func(config *conf.Object, env *Env) (Filter, error)
}

// Plugin is a proxy-wasm plugin running one chain of filters. Install it
// with Serve. It implements the SDK's types.VMContext, so tests can hand it
// to proxytest.
type Plugin struct {
	specs []Spec
	kinds []Kind

	// FailureMode says what happens to a request when a filter panics:
	// FailClosed (the default) answers it with StatusOnError, FailOpen lets
	// it continue. "failure_mode" in the plugin configuration overrides it.
	FailureMode FailureMode
	// StatusOnError is the status of that answer, 500 when 0;
	// "status_on_error" in the configuration overrides it.
	StatusOnError uint32
	// BodyLimit is the most bytes of a request or response body the chain
	// reads for its body filters (body.go): DefaultBodyLimit when 0, at
	// most MaxBodyLimit; "body_limit" in the configuration overrides it.
	BodyLimit int
	// MetricsPrefix starts the name of every metric the plugin defines
	// ("policy" when empty); "metrics_prefix" in the configuration
	// overrides it.
	MetricsPrefix string
	// Clock is the time source; time.Now when nil.
	Clock func() time.Time
	// SharedData is the proxy-wide store filters keep cross-VM state in;
	// the proxy's shared data when nil.
	SharedData SharedData
}

// Static returns a plugin whose chain is specs, in order: the request phases
// run specs[0] first, the response phases run it last (as Envoy runs its
// filters: the chain is specs[0](specs[1](...(upstream)))).
func Static(specs ...Spec) *Plugin { return &Plugin{specs: specs} }

// Configured returns a plugin whose chain comes from its JSON configuration,
// which may name any of kinds:
//
//	{"filters": [{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}},
//	             {"name": "headermutate", "config": {"name": "hello", "value": "world"}}]}
//
// A plugin of one kind also takes that filter's own configuration as the
// whole plugin configuration: the plugin Configured(headermutate.Kind)
// accepts {"name": "hello", "value": "world"} as well as
// {"filters": [{"name": "headermutate", "config": {"name": "hello", "value": "world"}}]}.
func Configured(kinds ...Kind) *Plugin { return &Plugin{kinds: kinds} }

// Serve installs p as the plugin of this Wasm module. Call it from an init
// function of package main: a module built with -buildmode=c-shared never
// runs main. A module whose main package never calls it in time starts
// unserved, which refuses to start with a line saying so.
func Serve(p *Plugin) { proxywasm.SetVMContext(p) }

// unserved is the module's VM context until Serve installs a plugin: the
// package's init installs it, and main's init functions, which run after,
// replace it. Should none call Serve (it is called from main, which a
// reactor never runs, or not at all), the proxy starts this, which refuses
// to start with one critical line saying what to do, rather than the SDK
// failing on a nil VM context.
type unserved struct{}

func init() { proxywasm.SetVMContext(unserved{}) }

func (unserved) OnVMStart(int) types.OnVMStartStatus {
	proxywasm.LogCritical("policy: the plugin's main package did not call policy.Serve before the proxy started the VM: " +
		"call it from an init function (func init() { policy.Serve(...) }), not from main, which a module built with -buildmode=c-shared never runs")
	return types.OnVMStartStatusFailed
}

func (unserved) NewPluginContext(uint32) types.PluginContext { return &unservedPlugin{} }

// unservedPlugin is the plugin context of a VM that did start unserved
// (a proxy that ignores a failed VM start): it refuses every
// configuration.
type unservedPlugin struct{ types.DefaultPluginContext }

func (*unservedPlugin) OnPluginStart(int) types.OnPluginStartStatus {
	proxywasm.LogCritical("policy: policy.Serve was not called: call it from an init function of package main")
	return types.OnPluginStartStatusFailed
}

// OnVMStart implements types.VMContext.
func (p *Plugin) OnVMStart(int) types.OnVMStartStatus { return types.OnVMStartStatusOK }

// NewPluginContext implements types.VMContext.
func (p *Plugin) NewPluginContext(uint32) types.PluginContext {
	return &pluginContext{plugin: p}
}

func (p *Plugin) now() time.Time {
	if p.Clock != nil {
		return p.Clock()
	}
	return time.Now()
}

// pluginContext is one configuration of the plugin: Envoy creates one per
// plugin configuration and VM.
type pluginContext struct {
	types.DefaultPluginContext
	plugin      *Plugin
	links       []*link
	failOpen    bool
	onError     uint32 // the status of a request failed closed
	bodies      bodies
	metrics     *stats.Registry
	measureTime bool
	tickers     []ticker
	tickPeriod  time.Duration
	spare       []*stream // ended streams, for reuse (stream.recycle)
	secrets     secrets   // the values no Logger shows (Env.Secret)
}

// link is a filter in its place in the chain, with the phases it implements
// resolved once.
type link struct {
	id, kind string
	mode     Mode
	filter   Filter

	reqHeaders  RequestHeadersFilter
	reqBody     RequestBodyFilter
	respHeaders ResponseHeadersFilter
	respBody    ResponseBodyFilter
	respStream  ResponseStreamFilter
	done        StreamDoneFilter
	// onBody is set for a BodyReader that reads the request body: its
	// OnRequestHeaders runs in the request body phase of a request that
	// has a body.
	onBody bool
	// when is the entry's match: the filter runs on the requests that
	// possibly match it (nil: on every request).
	when *match.Matcher
	log  Logger

	skipped, seen, allowed, denied, shadowDenied, paused, errs *stats.Counter
}

func (pc *pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogCritical("policy: reading plugin configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	if err := pc.configure(data); err != nil {
		proxywasm.LogCritical("policy: invalid plugin configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	if pc.tickPeriod > 0 {
		if err := proxywasm.SetTickPeriodMilliSeconds(uint32(pc.tickPeriod / time.Millisecond)); err != nil {
			proxywasm.LogWarn("policy: setting tick period: " + err.Error())
		}
	}
	return types.OnPluginStartStatusOK
}

func (pc *pluginContext) OnTick() {
	now := pc.plugin.now()
	for _, t := range pc.tickers {
		pc.tick(t, now)
	}
	pc.metrics.Flush()
}

// tick runs one filter's OnTick, recovering a panic: a panic in the plugin
// context would break the VM for every later request.
func (pc *pluginContext) tick(t ticker, now time.Time) {
	defer pc.recoverPlugin(t.id, "OnTick", new(bool))
	t.filter.OnTick(now)
}

// ticker is a filter with OnTick, and its id.
type ticker struct {
	id     string
	filter TickFilter
}

// recoverPlugin ends a call of filter id's code in the plugin context
// (where names it): if it panicked, the panic is logged once and counted,
// and *ok is set to false. It must be deferred directly, for recover to see
// the panic.
func (pc *pluginContext) recoverPlugin(id, where string, ok *bool) {
	if v := recover(); v != nil {
		*ok = false
		proxywasm.LogCritical("policy: filter " + id + " panicked in " + where + ": " + panicText(v))
		pc.metrics.Counter("filter_panics_total", stats.Tag{Key: "filter", Value: id}).Inc()
	}
}

func (pc *pluginContext) OnPluginDone() bool {
	pc.metrics.Flush()
	return true
}

func (pc *pluginContext) NewHttpContext(contextID uint32) types.HttpContext {
	if n := len(pc.spare); n > 0 {
		s := pc.spare[n-1]
		pc.spare[n-1] = nil
		pc.spare = pc.spare[:n-1]
		return s
	}
	s := &stream{pc: pc, marks: make([]mark, len(pc.links))}
	s.x.stream = s
	s.x.scratch = make([]any, len(pc.links))
	return s
}

// buildFilter builds a filter from its spec; a Build that panics is an
// error, so that the plugin refuses to start with one log line instead of
// breaking the VM.
func buildFilter(s Spec, env *Env) (f Filter, err error) {
	defer func() {
		if v := recover(); v != nil {
			f, err = nil, errors.New("building the filter panicked: "+panicText(v))
		}
	}()
	return s.Build(env)
}

// configure reads the plugin configuration and builds the chain.
func (pc *pluginContext) configure(data []byte) error {
	p := pc.plugin
	mode, onError := p.FailureMode, p.StatusOnError
	bodyLimit := int64(p.BodyLimit)
	if bodyLimit == 0 {
		bodyLimit = DefaultBodyLimit
	}
	prefix := p.MetricsPrefix
	if prefix == "" {
		prefix = "policy"
	}
	pc.tickPeriod = time.Second

	var specs []Spec
	if len(strings.TrimSpace(string(data))) == 0 {
		if p.specs == nil {
			return errors.New(`the configuration is empty; it must list the filters to run: {"filters": [{"name": ..., "config": {...}}]}`)
		}
	} else {
		root, err := conf.Parse(data)
		if err != nil {
			return err
		}
		if p.specs == nil && len(p.kinds) == 1 && !root.Raw().Get("filters").Exists() {
			// The single filter's own configuration is the whole document.
			s := pc.spec(p.kinds[0], "", Enforce, root, "")
			s.whole = true
			specs = []Spec{s} // root's errors are the filter's, reported when it is built
		} else {
			root.Moved("fail_open", `failure_mode ("open" or "closed")`)
			mode = DecodeFailureMode(root, mode)
			onError = status(root, "status_on_error", onError)
			bodyLimit = root.Int("body_limit", bodyLimit)
			if bodyLimit < 1 || bodyLimit > MaxBodyLimit {
				root.Fail("body_limit", "must be from 1 to %d bytes (64 MiB), not %d", MaxBodyLimit, bodyLimit)
			}
			prefix = root.String("metrics_prefix", prefix)
			if !stats.ValidName(prefix) {
				root.Fail("metrics_prefix", "must be letters, digits and '_', not starting with a digit, not %q", prefix)
			}
			pc.tickPeriod = root.Duration("flush_interval", pc.tickPeriod)
			if pc.tickPeriod < 10*time.Millisecond {
				root.Fail("flush_interval", "must be at least 10ms, not %s", pc.tickPeriod)
			}
			if p.specs != nil {
				if root.Has("filters") {
					root.Fail("filters", "this plugin's chain is built in Go; its configuration takes only failure_mode, status_on_error, body_limit, metrics_prefix and flush_interval")
				}
			} else {
				entries := root.Objects("filters")
				if entries != nil && len(entries) == 0 || !root.Has("filters") {
					root.Fail("filters", `must list at least one filter: [{"name": ..., "config": {...}}]`)
				}
				specs = pc.specsFrom(entries)
			}
			if err := root.Err(); err != nil {
				return err
			}
		}
	}
	if err := checkFailure(mode, onError); err != nil {
		return err
	}
	pc.failOpen, pc.onError = mode == FailOpen, onError
	if pc.onError == 0 {
		pc.onError = 500
	}
	pc.metrics = stats.NewRegistry(prefix)

	if p.specs != nil {
		specs = p.specs
	}
	if bodyLimit < 1 || bodyLimit > MaxBodyLimit {
		return text.Errorf("BodyLimit: must be from 1 to %d bytes (64 MiB), not %d", MaxBodyLimit, bodyLimit)
	}
	if err := pc.build(specs, p.specs != nil); err != nil {
		return err
	}
	pc.bodies.setUp(pc.links, int(bodyLimit), pc.metrics)
	return nil
}

// specsFrom turns the "filters" entries into specs; errors are recorded on
// the entries.
func (pc *pluginContext) specsFrom(entries []*conf.Object) []Spec {
	specs := make([]Spec, 0, len(entries))
	for i, e := range entries {
		name := e.RequiredString("name")
		id := e.String("id", "")
		mode := Enforce
		if e.OneOf("mode", "enforce", "enforce", "shadow") == "shadow" {
			mode = Shadow
		}
		when, m := entryMatch(e)
		raw := e.Value("config")
		if raw.Exists() && !raw.IsObject() {
			e.Object("config") // records "must be an object, not ..."
			continue
		}
		config := conf.New("", raw)
		if name == "" {
			continue
		}
		kind, ok := pc.kind(name)
		if !ok {
			e.Check(conf.Errorf("filters["+strconv.Itoa(i)+"].name", "unknown filter %q; this plugin links in: %s", name, pc.kindNames()))
			continue
		}
		s := pc.spec(kind, id, mode, config, "config")
		s.Match, s.when = m, when
		specs = append(specs, s)
	}
	return specs
}

// entryMatch decodes and compiles the "match" of a "filters" entry, if it
// has one; errors are recorded on the entry, at the field's path.
func entryMatch(e *conf.Object) (*match.Matcher, match.Match) {
	if !e.Has("match") {
		return nil, match.Match{}
	}
	o := e.Object("match")
	m := match.Decode(o)
	if o.Err() != nil || m.IsZero() {
		return nil, m
	}
	when, err := match.Compile(m)
	e.Check(conf.Within(o.Path(), err))
	return when, m
}

// spec is the Spec that builds kind from config, which sits at path in its
// entry.
func (pc *pluginContext) spec(kind Kind, id string, m Mode, config *conf.Object, path string) Spec {
	return Spec{Kind: kind.Name, ID: id, Mode: m, Build: func(env *Env) (Filter, error) {
		f, err := kind.Build(config, env)
		if err == nil {
			err = config.Err() // a field Build did not read, or an error it did not check
		}
		var located *conf.Error
		if errors.As(err, &located) {
			err = conf.Within(path, err) // a field's path, within the entry
		}
		return f, err
	}}
}

func (pc *pluginContext) kind(name string) (Kind, bool) {
	for _, k := range pc.plugin.kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

func (pc *pluginContext) kindNames() string {
	var names []string
	for _, k := range pc.plugin.kinds {
		names = append(names, k.Name)
	}
	// sort.Stable rather than sort.Strings, whose generic sort would be
	// linked for this message alone (conf and gjson link sort.Stable).
	sort.Stable(sort.StringSlice(names))
	return strings.Join(names, ", ")
}

// build builds every filter and resolves the phases each implements. inGo
// says the specs come from Go (Static), not from the configuration, so that
// an error names what to change there.
func (pc *pluginContext) build(specs []Spec, inGo bool) error {
	ids := map[string]int{}
	for i, s := range specs {
		where := "filters[" + strconv.Itoa(i) + "] (" + s.Kind + ")"
		if s.whole {
			where = s.Kind + ` (the whole configuration, which has no "filters")`
		}
		id := s.ID
		if id == "" {
			id = s.Kind
		}
		field, fix := "id", `give one of them a distinct "id"`
		if inGo {
			field, fix = "Spec.ID", "give one of the specs a distinct ID (a spec without one takes its Kind)"
		}
		if !stats.Valid(id) {
			return text.Errorf("%s: %s: must be letters, digits, '_', '-' and '/' only, not %q", where, field, id)
		}
		if j, dup := ids[id]; dup {
			return text.Errorf(`%s: %s: %q is already the id of filters[%d]; %s`, where, field, id, j, fix)
		}
		ids[id] = i
		if s.Build == nil {
			return text.Errorf("%s: the spec has no Build function", where)
		}
		when := s.when
		if when == nil && !s.Match.IsZero() {
			var err error
			if when, err = match.Compile(s.Match); err != nil {
				at := "match"
				if inGo {
					at = "Spec.Match"
				}
				return text.Errorf("%s: %w", where, conf.Within(at, err))
			}
		}
		env := &Env{ID: id, Mode: s.Mode, pc: pc, log: Logger{prefix: "policy: filter " + id + ": ", secrets: &pc.secrets}}
		f, err := buildFilter(s, env)
		if err != nil {
			return text.Errorf("%s: %w", where, err)
		}
		if f == nil {
			return text.Errorf("%s: Build returned no filter", where)
		}
		l := &link{id: id, kind: s.Kind, mode: s.Mode, filter: f, when: when, log: env.log}
		l.reqHeaders, _ = f.(RequestHeadersFilter)
		l.reqBody, _ = f.(RequestBodyFilter)
		l.respHeaders, _ = f.(ResponseHeadersFilter)
		l.respBody, _ = f.(ResponseBodyFilter)
		l.respStream, _ = f.(ResponseStreamFilter)
		l.done, _ = f.(StreamDoneFilter)
		if b, ok := f.(BodyPhases); ok {
			request, response := b.BodyPhases()
			if !request {
				l.reqBody = nil
			}
			if !response {
				l.respBody, l.respStream = nil, nil
			}
		}
		if r, ok := f.(BodyReader); ok && l.reqHeaders != nil {
			l.onBody = r.ReadsRequestBody()
		}
		t, ticks := f.(TickFilter)
		if ticks {
			pc.tickers = append(pc.tickers, ticker{id: id, filter: t})
		}
		if !l.requestPhase() && l.respHeaders == nil && l.respBody == nil && l.respStream == nil && l.done == nil && !ticks {
			return text.Errorf("%s: %s implements no phase of a filter (OnRequestHeaders, OnRequestBody, OnResponseHeaders, OnResponseBody, OnResponseChunk, OnStreamDone or OnTick); check the methods' names and signatures", where, reflect.TypeOf(f).String())
		}
		tag := stats.Tag{Key: "filter", Value: id}
		l.seen = pc.metrics.Counter("filter_requests_total", tag)
		if when != nil {
			l.skipped = pc.metrics.Counter("filter_skipped_total", tag)
		}
		decision := func(d string) *stats.Counter {
			return pc.metrics.Counter("filter_decisions_total", tag, stats.Tag{Key: "decision", Value: d})
		}
		l.allowed, l.denied, l.shadowDenied = decision("allowed"), decision("denied"), decision("shadow_denied")
		l.paused, l.errs = decision("paused"), decision("error")
		pc.links = append(pc.links, l)
	}
	return nil
}
