package ratelimit

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/internal/sse"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/stats"
)

// Cost makes the filter's limits budgets of what requests cost, as their
// responses report it (the tokens an LLM API used), rather than one token
// a request. In JSON:
//
//	"cost": {"field": "usage.total_tokens", "default": 1000,
//	         "include_usage": true, "models": ["gpt-4o", "gpt-4o-mini"]}
//
// A request is admitted while its bucket has a token left, and takes
// nothing then; once the response reports its cost, the cost is drawn from
// every bucket the request was admitted by. A request may therefore
// overdraw its budget by its own cost (down to minus one bucket's burst at
// most): the bucket admits nothing until fills bring it above zero again.
//
// With a Global limit, the check before the request asks the service with
// a hits_addend of 0 for each descriptor, which charges nothing: the
// request is admitted unless the budget is already spent. The cost is
// charged to the same descriptors once the response reports it, on the
// plugin's next tick (flush_interval, 1s by default), summed over the
// requests of that tick, from the plugin's context rather than the
// request's, whose callouts the proxy cancels when the request ends.
// Charges are counted in ratelimit_global_charges_total{result=ok|error};
// more than 10,000 distinct ones within a tick are dropped and counted in
// ratelimit_global_charges_dropped_total.
type Cost struct {
	// Field ("field") is the path of the field of the response body that
	// holds the cost, a whole number from 0 to 10^12; empty means
	// DefaultCostField, "usage.total_tokens" (OpenAI's). It is read from a
	// JSON response, or from the first event of a stream of Server-Sent
	// Events (text/event-stream) that has it, as the events pass: the
	// stream is never held.
	Field string
	// Default ("default") is charged when a response reports no cost: no
	// such field, a value that is not such a number, a body that cannot
	// be read or is over MaxBody, a stream that ends (or is cut off)
	// before the event with the cost. Each is counted in
	// ratelimit_cost_missing_total. 0, the default, charges nothing.
	Default int64
	// OnError ("on_error") is charged for a response with a status of 400
	// or more, and for a local reply. 0, the default, charges nothing.
	OnError int64
	// IncludeUsage ("include_usage") asks an OpenAI-style API for the
	// usage of a stream, which it sends only when asked: to a JSON request
	// body with "stream": true the filter adds
	// "stream_options": {"include_usage": true}, and, unless the client
	// asked for it itself, removes the event that carries only the usage
	// before the client sees it.
	IncludeUsage bool
	// ModelField ("model_field") is the field of the JSON request body
	// that names the model, for the metric; empty means "model".
	ModelField string
	// Models ("models") are the models the metric counts by name; others,
	// and requests that name none, count as "other". Names are tag values:
	// a byte other than a letter, a digit, '_', '-' or '/' is written '_'.
	Models []string
	// MaxBody ("max_body") bounds the bytes of a JSON response the filter
	// reads for its cost (the response passes as it comes either way), and
	// of one event of a stream; 0 means policy.DefaultBodyLimit (1 MiB).
	MaxBody int
}

// DefaultCostField is Cost.Field when it is empty.
const DefaultCostField = "usage.total_tokens"

func decodeCost(o *conf.Object) *Cost {
	if !o.Raw().Exists() {
		return nil
	}
	path := func(key string) string {
		v := o.String(key, "")
		if v == "" && o.Has(key) {
			o.Fail(key, "must not be empty; leave it out for the default")
		}
		return v
	}
	return &Cost{
		Field:        path("field"),
		Default:      o.Int("default", 0),
		OnError:      o.Int("on_error", 0),
		IncludeUsage: o.Bool("include_usage", false),
		ModelField:   path("model_field"),
		Models:       o.Strings("models"),
		MaxBody:      int(positive(o, "max_body")),
	}
}

// costing is a validated Cost.
type costing struct {
	field, model []string
	lastKey      []byte // the cost field's last key, quoted: `"total_tokens"`; nil for an index
	def, onError int64
	include      bool
	maxBody      int
	models       map[string]string // model name → tag value
	tagValues    []string          // the model tag's values, "other" last
}

// otherModel is the model tag of a request that names no listed model.
const otherModel = "other"

// Results of a charge, the result tag of ratelimit_cost_tokens_total.
const (
	costReported = "reported" // the response said what it cost
	costDefault  = "default"  // it did not: Default
	costError    = "error"    // an error response or a local reply: OnError
)

func compileCost(c Cost) (*costing, error) {
	k := &costing{def: c.Default, onError: c.OnError, include: c.IncludeUsage, maxBody: c.MaxBody, models: map[string]string{}}
	var err error
	if c.Field == "" {
		c.Field = DefaultCostField
	}
	if k.field, err = match.ParseFieldPath(c.Field); err != nil {
		return nil, conf.Errorf("cost.field", "%v", err)
	}
	if last := k.field[len(k.field)-1]; strings.Trim(last, "0123456789") != "" {
		k.lastKey = []byte(`"` + last + `"`) // not an index, which no key names
	}
	if c.ModelField == "" {
		c.ModelField = "model"
	}
	if k.model, err = match.ParseFieldPath(c.ModelField); err != nil {
		return nil, conf.Errorf("cost.model_field", "%v", err)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"default", c.Default}, {"on_error", c.OnError}} {
		if f.v < 0 || f.v > maxCount {
			return nil, conf.Errorf("cost."+f.name, "must be from 0 to %d, not %d", int64(maxCount), f.v)
		}
	}
	switch {
	case c.MaxBody == 0:
		k.maxBody = policy.DefaultBodyLimit
	case c.MaxBody < 0 || c.MaxBody > policy.MaxBodyLimit:
		return nil, conf.Errorf("cost.max_body", "must be from 1 to %d bytes, not %d", policy.MaxBodyLimit, c.MaxBody)
	}
	taken := map[string]string{otherModel: otherModel}
	for i, m := range c.Models {
		at := "cost.models" + conf.Index(i)
		if m == "" {
			return nil, conf.Errorf(at, "must not be empty")
		}
		v := tagValue(m)
		if prev, ok := taken[v]; ok {
			return nil, conf.Errorf(at, "%q is counted as %q, as %q is: name each model once, and not %q", m, v, prev, otherModel)
		}
		taken[v] = m
		k.models[m] = v
		k.tagValues = append(k.tagValues, v)
	}
	k.tagValues = append(k.tagValues, otherModel)
	return k, nil
}

// tagValue is s with every byte a tag value cannot hold written '_'.
func tagValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '/') {
			b[i] = '_'
		}
	}
	return string(b)
}

// readsBody reports whether the cost needs the request body: to ask for
// the usage of a stream, or to name the model.
func (k *costing) readsBody() bool { return k.include || len(k.models) > 0 }

// costMetrics are the cost's counters: tokens charged by model and result,
// and the responses that reported no cost.
type costMetrics struct {
	tokens  map[[2]string]*stats.Counter // model tag, result
	missing *stats.Counter
}

func (k *costing) instrument(env *policy.Env) costMetrics {
	m := costMetrics{tokens: map[[2]string]*stats.Counter{}, missing: env.Counter("ratelimit_cost_missing_total")}
	for _, model := range k.tagValues {
		for _, result := range []string{costReported, costDefault, costError} {
			m.tokens[[2]string{model, result}] = env.Counter("ratelimit_cost_tokens_total",
				stats.Tag{Key: "model", Value: model}, stats.Tag{Key: "result", Value: result})
		}
	}
	return m
}

// bill is a request's account, from its admission to its charge: the
// buckets it was admitted by, and how its response reports the cost.
type bill struct {
	quota    quota // for the x-ratelimit-* headers, when known
	hasQuota bool
	global   *globalQuota // the global limit's answer, if it gave one
	check    []byte       // the global limit's check request, its cost's charge
	charges  []billed
	model    string // the model tag
	charged  bool   // the cost was drawn (or nothing is to be)

	// How the response reports the cost, set by its headers.
	mode      responseMode
	strip     bool // drop the event that carries only the usage
	events    sse.Splitter
	body      []byte // a JSON response, up to MaxBody
	overflow  bool   // the JSON response was over MaxBody
	out       []byte // a stream's chunk, without the usage event
	droppedCR bool   // the event removed last ended with a CR, whose LF may come next
}

// billed is a bucket a request was admitted by.
type billed struct {
	r    *rule
	name string // the bucket's record; "" for key's own
	key  []byte
}

type responseMode uint8

const (
	modeNone   responseMode = iota // no cost in the response: Default at its end
	modeJSON                       // a JSON body
	modeEvents                     // a stream of Server-Sent Events
)

// admit records that the request was admitted by r's bucket name (key's
// when name is empty).
func (b *bill) admit(r *rule, name string, key []byte) {
	b.charges = append(b.charges, billed{r: r, name: name, key: append([]byte(nil), key...)})
}

// prepare reads what the cost needs from the request: its model and, with
// IncludeUsage, whether to ask for the usage of a stream, which it does.
func (l *Limiter) prepare(x *policy.Exchange, b *bill) {
	k := l.c.cost
	b.model = otherModel
	if !k.readsBody() {
		return
	}
	j := x.Request().JSONBody()
	if len(k.models) > 0 {
		if vs, ok := j.Readings(k.model); ok && len(vs) == 1 && vs[0].Kind == match.JSONString {
			if v, listed := k.models[vs[0].Text]; listed {
				b.model = v
			}
		}
	}
	if !k.include {
		return
	}
	if vs, ok := j.Readings([]string{"stream"}); !ok || len(vs) != 1 || vs[0] != (match.JSONValue{Kind: match.JSONBool, Text: "true"}) {
		return
	}
	asked := []string{"stream_options", "include_usage"}
	if vs, _ := j.Readings(asked); len(vs) == 1 && vs[0] == (match.JSONValue{Kind: match.JSONBool, Text: "true"}) {
		return // the client asked: it gets the usage event
	}
	body, ok := x.RequestBody()
	if !ok {
		return
	}
	if out, ok := askUsage(j, body); ok {
		x.SetRequestBody(out)
		b.strip = true
	}
}

// askUsage returns the request body with "stream_options": {"include_usage":
// true} under every reading: added to the stream_options object the client
// sent, if every reading finds the same one, else in place of every
// stream_options. (match.AddMember, rather than SetField: the filter does
// not link sjson and encoding/json into every image that limits requests.)
func askUsage(j match.JSONBody, body []byte) ([]byte, bool) {
	options := []byte(`{"include_usage":true}`)
	if raw, ok := j.FieldRaw([]string{"stream_options"}); ok && len(raw) > 0 && raw[0] == '{' {
		if inner, ok := match.AddMember(raw, "include_usage", []byte("true")); ok {
			options = inner
		}
	}
	return match.AddMember(body, "stream_options", options)
}

// costHeaders sets how the response reports its cost, from its headers.
// An error response or a local reply is charged OnError at once.
func (l *Limiter) costHeaders(x *policy.Exchange, b *bill) {
	status, _ := x.ResponseHeader(":status")
	if x.LocalResponse() != nil || len(status) != 3 || status[0] >= '4' {
		l.settle(x, b, l.c.cost.onError, costError)
		return
	}
	mediaType, _ := httptoken.MediaType(x.ResponseHeaderValues("content-type"))
	switch {
	case mediaType == "text/event-stream":
		b.mode = modeEvents
		b.events.Max = l.c.cost.maxBody
		if b.strip {
			x.RemoveResponseHeader("content-length") // the stream loses an event
		}
	case httptoken.IsJSON(mediaType):
		b.mode = modeJSON
	}
}

// OnResponseChunk reads the cost from the response as it passes: from the
// events of a stream, or from a JSON body once it is complete.
func (l *Limiter) OnResponseChunk(x *policy.Exchange, chunk []byte, end bool) {
	b, ok := x.Scratch().(*bill)
	if !ok || b.charged && !b.strip {
		return
	}
	switch b.mode {
	case modeEvents:
		l.events(x, b, chunk, end)
	case modeJSON:
		if !b.overflow {
			if len(b.body)+len(chunk) > l.c.cost.maxBody {
				b.overflow, b.body = true, nil
			} else {
				b.body = append(b.body, chunk...)
			}
		}
		if end {
			n, found := l.costIn(b.body)
			b.body = nil
			l.reported(x, b, n, found)
		}
	}
	if end && !b.charged {
		l.reported(x, b, 0, false)
	}
}

// events reads the events of a stream's chunk, charging the first cost
// one reports, and, when the filter asked for the usage, passes the chunk
// on without the event that carries only the usage.
func (l *Limiter) events(x *policy.Exchange, b *bill, chunk []byte, end bool) {
	b.out = b.out[:0]
	for _, seg := range b.events.Feed(chunk, end) {
		afterCR := b.droppedCR
		b.droppedCR = false
		if afterCR && !seg.Event && string(seg.Raw) == "\n" {
			continue // the rest of the removed event's CRLF, cut off by the chunk
		}
		if seg.Event && l.c.cost.mayHold(seg.Data) {
			if doc, err := match.ParseJSON(seg.Data); err == nil {
				if n, found := l.costOf(doc); found {
					l.reported(x, b, n, true) // the first one only
					if b.strip && usageOnly(doc) {
						b.droppedCR = seg.Raw[len(seg.Raw)-1] == '\r'
						continue // the client did not ask for it
					}
				}
			}
		}
		if b.strip {
			b.out = append(b.out, seg.Raw...)
		}
	}
	if b.strip {
		x.SetResponseChunk(b.out)
	}
}

// mayHold reports whether an event's data may hold the cost: it names the
// cost field's last key, or has an escape, which may write that key
// otherwise. The other events, most of a stream, are passed on without
// being parsed.
func (k *costing) mayHold(data []byte) bool {
	return len(data) > 0 && (k.lastKey == nil || bytes.Contains(data, k.lastKey) || bytes.IndexByte(data, '\\') >= 0)
}

// usageOnly reports whether an event that carries a usage is the one an
// API sends only when asked: no choice in it.
func usageOnly(doc match.JSONBody) bool {
	raw, ok := doc.FieldRaw([]string{"choices"})
	return !ok || strings.TrimSpace(strings.Trim(string(raw), "[]")) == "" && strings.HasPrefix(string(raw), "[")
}

// costIn reads the cost from a whole JSON body.
func (l *Limiter) costIn(body []byte) (int64, bool) {
	doc, err := match.ParseJSON(body)
	if err != nil {
		return 0, false
	}
	return l.costOf(doc)
}

// costOf is the cost a document reports at the cost field: a whole number
// from 0 to 10^12, the same to every reading.
func (l *Limiter) costOf(doc match.JSONBody) (int64, bool) {
	vs, ok := doc.Readings(l.c.cost.field)
	if !ok || len(vs) != 1 || vs[0].Kind != match.JSONNumber {
		return 0, false
	}
	n, err := strconv.ParseInt(vs[0].Text, 10, 64)
	if err != nil || n < 0 || n > maxCount {
		return 0, false
	}
	return n, true
}

// reported charges what the response reported, or Default when it
// reported nothing.
func (l *Limiter) reported(x *policy.Exchange, b *bill, n int64, found bool) {
	if b.charged {
		return
	}
	if !found {
		l.cost.missing.Inc()
		l.settle(x, b, l.c.cost.def, costDefault)
		return
	}
	l.settle(x, b, n, costReported)
}

// OnStreamDone charges Default to a request whose response ended without
// reporting its cost: one cut off, or without a body.
func (l *Limiter) OnStreamDone(x *policy.Exchange) {
	if b, ok := x.Scratch().(*bill); ok && !b.charged {
		l.reported(x, b, 0, false)
	}
}

// settle draws n tokens from every bucket the request was admitted by,
// once, and counts them. The draw is dated at the request's time, as its
// admission was: a bucket refilled since by later requests is not
// refilled again.
func (l *Limiter) settle(x *policy.Exchange, b *bill, n int64, result string) {
	if b.charged {
		return
	}
	b.charged = true
	if len(b.charges) == 0 && b.check == nil {
		return
	}
	l.cost.tokens[[2]string{b.model, result}].Add(uint64(n))
	if n == 0 {
		return
	}
	if b.check != nil {
		l.c.global.queue(b.check, n)
	}
	now := x.StartTime().UnixNano()
	for _, c := range b.charges {
		o := update(l.data, c.r.tbl, c.name, c.key, now, &l.rec, charge(n))
		l.conflicts.Add(uint64(o.retries))
		if o.err != nil {
			l.errs.Inc()
			l.errLog.report(now, o.err, l.c.failClosed)
		}
	}
	l.log.Debugf("charged %d (%s)", n, result)
}

// OnTick sends the charges of costs to the global limit's service.
func (l *Limiter) OnTick(time.Time) {
	if g := l.c.global; g != nil && g.costed {
		g.flush()
	}
}
