package bodymutate

import (
	"strconv"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/internal/template"
	"github.com/wasmpolicy/policy/internal/throttle"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/stats"
)

var definition = policy.Define("bodymutate", decode, New)

// Kind is the filter type "bodymutate", built from the JSON form of Config.
var Kind = definition.Kind()

// Filter is a chain entry for a Mutator built from cfg, for chains built in
// Go with policy.Static.
func Filter(cfg Config) policy.Spec { return definition.Spec(cfg) }

// Mutator is the JSON body rewrite filter. It denies a request (or answers
// in place of a response) only when a body cannot be read and its Config
// says DenyInvalid.
type Mutator struct {
	request, response []op
	deny              [2]*policy.Response // request, response; nil with PassInvalid

	shadow  bool // in shadow mode, where the chain lets a deny through
	now     func() time.Time
	invalid [2]*stats.Counter // bodymutate_invalid_bodies_total{side}
	log     throttle.Log
	logger  policy.Logger
}

// The sides, as indexes and as the metric's tag values.
const (
	requestSide = iota
	responseSide
)

var sideNames = [2]string{"request", "response"}

// The replies with DenyInvalid, unless Deny says otherwise.
var defaultDeny = [2]policy.Response{
	{Status: 400, Body: "invalid JSON body\n"},
	{Status: 502, Body: "invalid JSON body from the upstream\n"},
}

// op is one validated operation.
type op struct {
	kind     opKind
	path     []string
	from     []string          // opCopy
	value    template.Template // opSet without raw
	claim    string            // opSet of a lone %CLAIM(path)%
	raw      []byte            // opSet of a JSON value
	location string            // where the operation is configured, for the log
}

type opKind uint8

const (
	opCopy opKind = iota
	opSet
	opRemove
)

var errNothingToDo = conf.Errorf("", `has no operations: give "request" or "response" operations (copy, set, remove)`)

// New validates cfg and returns its Mutator. Errors name the offending field
// as a path in cfg's JSON form ("request.set.user.id: ..."). env names
// the filter in the log and holds its metric; it may be nil, to validate a
// Config, and the Mutator then counts into no registry.
func New(cfg Config, env *policy.Env) (*Mutator, error) {
	req, err := compile("request", cfg.Request)
	if err != nil {
		return nil, err
	}
	resp, err := compile("response", cfg.Response)
	if err != nil {
		return nil, err
	}
	if len(req) == 0 && len(resp) == 0 {
		return nil, errNothingToDo
	}
	m := &Mutator{request: req, response: resp, now: time.Now, invalid: [2]*stats.Counter{new(stats.Counter), new(stats.Counter)}}
	switch cfg.InvalidBody {
	case "", PassInvalid:
		if d := cfg.Deny; d.Status != 0 || len(d.Headers) != 0 || d.Body != "" || d.ContentType != "" {
			return nil, conf.Errorf("deny", `is only used with "invalid_body": "deny"`)
		}
	case DenyInvalid:
		for i := range m.deny {
			r, err := cfg.Deny.Response(defaultDeny[i])
			if err != nil {
				return nil, conf.Within("deny", err)
			}
			m.deny[i] = &r
		}
	default:
		return nil, conf.Errorf("invalid_body", `must be "pass" or "deny", not %q`, string(cfg.InvalidBody))
	}
	if env != nil {
		m.shadow, m.now, m.logger = env.Mode == policy.Shadow, env.Now, env.Log()
		for i, side := range sideNames {
			m.invalid[i] = env.Counter("bodymutate_invalid_bodies_total", stats.Tag{Key: "side", Value: side})
		}
	}
	return m, nil
}

// compile validates one side's operations and puts them in the order they
// run. Error paths start with side ("request.set.user.id").
func compile(side string, ops Ops) ([]op, error) {
	var out []op
	path := func(at, s string) ([]string, error) {
		p, err := match.ParseFieldPath(s)
		if err != nil {
			return nil, conf.Errorf(at, "%v", err)
		}
		return p, nil
	}
	for i, c := range ops.Copy {
		at := conf.Join(side, "copy"+conf.Index(i))
		from, err := path(conf.Join(at, "from"), c.From)
		if err != nil {
			return nil, err
		}
		to, err := path(conf.Join(at, "to"), c.To)
		if err != nil {
			return nil, err
		}
		out = append(out, op{kind: opCopy, from: from, path: to, location: at})
	}
	for _, f := range ops.Set {
		at := conf.Join(conf.Join(side, "set"), f.Path)
		if f.Path == "" {
			// at is then "set" itself, which is there: "is required" would
			// mislead.
			return nil, conf.Errorf(at, "field path must not be empty")
		}
		p, err := path(at, f.Path)
		if err != nil {
			return nil, err
		}
		o := op{kind: opSet, path: p, location: at}
		if f.JSON != "" {
			if f.Value != "" {
				return nil, conf.Errorf(at, "has both a Value and JSON; set one of them")
			}
			if _, err := match.ParseJSON([]byte(f.JSON)); err != nil {
				return nil, conf.Errorf(at, "is not a JSON value the filter can set: %v", err)
			}
			o.raw = []byte(f.JSON)
			if _, err := match.SetField([]byte("{}"), p, o.raw); err != nil {
				return nil, conf.Errorf(at, "cannot be set: %v", err)
			}
		} else {
			t, err := template.Parse(f.Value)
			if err != nil {
				return nil, conf.Errorf(at, "%v", err)
			}
			o.value = t
			o.claim, _ = t.Claim()
			if lit, ok := t.Literal(); ok {
				o.raw = match.AppendJSONString(nil, lit)
			}
		}
		out = append(out, o)
	}
	for i, r := range ops.Remove {
		at := conf.Join(side, "remove"+conf.Index(i))
		p, err := path(at, r)
		if err != nil {
			return nil, err
		}
		out = append(out, op{kind: opRemove, path: p, location: at})
	}
	return out, nil
}

// BodyPhases tells the chain which bodies the filter reads: only those of a
// side with operations.
func (m *Mutator) BodyPhases() (request, response bool) {
	return len(m.request) > 0, len(m.response) > 0
}

// OnRequestBody rewrites the request body.
func (m *Mutator) OnRequestBody(x *policy.Exchange, body []byte) policy.Result {
	if len(m.request) == 0 {
		return policy.Continue()
	}
	return m.rewrite(x, requestSide, body, x.RequestHeaderValues("content-type"), x.RequestHeaderValues("content-encoding"))
}

// OnResponseBody rewrites the response body, a local reply's included.
func (m *Mutator) OnResponseBody(x *policy.Exchange, body []byte) policy.Result {
	if len(m.response) == 0 {
		return policy.Continue()
	}
	return m.rewrite(x, responseSide, body, x.ResponseHeaderValues("content-type"), x.ResponseHeaderValues("content-encoding"))
}

// rewrite runs one side's operations on body.
func (m *Mutator) rewrite(x *policy.Exchange, side int, body []byte, contentType, encoding []string) policy.Result {
	if len(body) == 0 {
		return policy.Continue()
	}
	mediaType, _ := httptoken.MediaType(contentType)
	declared := httptoken.IsJSON(mediaType)
	if !declared && side == responseSide {
		return policy.Continue()
	}
	var why string
	if enc, ok := httptoken.Encoded(encoding); ok {
		why = "it has the content-encoding " + strconv.Quote(enc)
	} else if doc, err := match.ParseJSON(body); err != nil {
		why = err.Error()
	} else if declared || isContainer(body) {
		return m.apply(x, side, doc, body)
	}
	if !declared {
		// A request body that is not JSON and does not say it is: not
		// this filter's to rewrite.
		return policy.Continue()
	}
	return m.refuse(x, side, why)
}

// apply runs the operations of side on a readable document and replaces
// the body if they changed it.
func (m *Mutator) apply(x *policy.Exchange, side int, doc match.JSONBody, body []byte) policy.Result {
	ops := m.request
	if side == responseSide {
		ops = m.response
	}
	out, parsed := body, body // parsed: the bytes doc was checked from
	for i := range ops {
		o := &ops[i]
		switch o.kind {
		case opRemove:
			out = match.RemoveField(out, o.path)
		case opCopy:
			if len(out) != len(parsed) || &out[0] != &parsed[0] {
				doc, _ = match.ParseJSON(out) // an edit keeps the document valid
				parsed = out
			}
			if raw, ok := doc.FieldRaw(o.from); ok {
				out = m.set(o, out, raw)
			} else {
				out = match.RemoveField(out, o.path)
			}
		case opSet:
			if raw, ok := o.valueFor(x); ok {
				out = m.set(o, out, raw)
			} else {
				out = match.RemoveField(out, o.path)
			}
		}
	}
	if string(out) == string(body) {
		return policy.Continue()
	}
	if side == requestSide {
		x.SetRequestBody(out)
	} else {
		x.SetResponseBody(out)
	}
	return policy.Continue()
}

// set sets o's field of doc to raw. A field that cannot be set (a key into
// an array) is left out, logged at debug level: the configuration does not
// fit this body, which is no fault of the request's.
func (m *Mutator) set(o *op, doc, raw []byte) []byte {
	out, err := match.SetField(doc, o.path, raw)
	if err != nil {
		m.logger.Debugf("%s not applied: %s", o.location, err)
		return match.RemoveField(doc, o.path)
	}
	return out
}

// valueFor is the JSON value a set operation writes for the request;
// ok is false when it has none, and the field is then removed.
func (o *op) valueFor(x *policy.Exchange) ([]byte, bool) {
	if o.raw != nil {
		return o.raw, true
	}
	if o.claim != "" {
		raw, ok := template.ClaimJSON(x, o.claim)
		if !ok {
			return nil, false
		}
		if _, err := match.ParseJSON([]byte(raw)); err != nil {
			return nil, false
		}
		return []byte(raw), true
	}
	s, ok := o.value.Text(x)
	if !ok {
		return nil, false
	}
	return match.AppendJSONString(nil, s), true
}

// refuse handles a body of side that cannot be read: it is counted and
// logged (package throttle), then passed unchanged or answered with the Deny reply.
func (m *Mutator) refuse(x *policy.Exchange, side int, why string) policy.Result {
	m.invalid[side].Inc()
	outcome := "passed unchanged (invalid_body pass)"
	if m.deny[side] != nil {
		outcome = "answered with " + strconv.Itoa(int(m.deny[side].Status)) + " (invalid_body deny)"
		if m.shadow {
			outcome = "would be " + outcome + ", but shadow mode lets it through"
		}
	}
	if log, more := m.log.Report(m.now(), 1); log {
		line := "a " + sideNames[side] + " body that says it is JSON cannot be read (" + why + "); " + outcome
		if more > 0 {
			line += "; " + strconv.Itoa(more) + " more since the last report"
		}
		m.logger.Warnf("%s", line)
	}
	if m.deny[side] == nil {
		return policy.Continue()
	}
	r := *m.deny[side]
	r.Reason = "the " + sideNames[side] + " body is not JSON the filter can read: " + why
	return policy.Deny(r)
}

// isContainer reports whether a JSON document is an object or an array.
func isContainer(doc []byte) bool {
	for _, c := range doc {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// Interface guards.
var (
	_ policy.RequestBodyFilter  = (*Mutator)(nil)
	_ policy.ResponseBodyFilter = (*Mutator)(nil)
	_ policy.BodyPhases         = (*Mutator)(nil)
)
