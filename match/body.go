package match

import (
	"errors"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
)

// BodyField is a condition on a field of the request's JSON body, read as
// "JSON bodies" says: exactly one of Present, Absent, Equals, In and Prefix
// is set.
//
//	{"path": "user.role", "equals": "admin"}
//	{"path": "items.0.qty", "in": [1, 2, 3]}
//	{"path": "debug", "absent": true}
type BodyField struct {
	// Path ("path") names the field: object keys and array indexes,
	// separated by ".": "user.roles.0". gjson's modifiers, queries and
	// wildcards are not paths here.
	Path string
	// Present ("present": true) requires the field, with any value, null
	// included.
	Present bool
	// Absent ("absent": true) requires that the field is missing.
	Absent bool
	// Equals ("equals") is a string, number or boolean the field must be;
	// numbers compare by value (1, 1.0 and 1e0 are one number). Its Kind is
	// JSONAbsent when it is not set.
	Equals JSONValue
	// In ("in") lists values of the kinds Equals takes, one of which the
	// field must be.
	In []JSONValue
	// Prefix ("prefix") is a prefix the field, a string, must start with.
	Prefix string
}

// decodeBody reads the "body" conditions of a match object.
func decodeBody(o *conf.Object) []BodyField {
	var out []BodyField
	list := o.Objects("body")
	if o.Has("body") && len(list) == 0 && o.Err() == nil {
		o.Fail("body", "must list at least one condition; leave it out to match any body")
	}
	for _, b := range list {
		if b.Has("present") && !b.Bool("present", true) {
			b.Fail("present", `must be true; for a field that must be missing, write "absent": true`)
		}
		f := BodyField{
			Path:    b.RequiredString("path"),
			Present: b.Bool("present", false),
			Absent:  b.Bool("absent", false),
			Prefix:  nonEmpty(b, "prefix"),
		}
		if b.Has("equals") {
			f.Equals = scalar(b, "equals", b.Value("equals"))
		}
		if b.Has("in") {
			list := b.Value("in")
			if !list.IsArray() || len(list.Array()) == 0 {
				b.Fail("in", "must be a non-empty array of strings, numbers and booleans")
			}
			for i, v := range list.Array() {
				f.In = append(f.In, scalar(b, "in"+conf.Index(i), v))
			}
		}
		out = append(out, f)
	}
	return out
}

// scalar reads a value of equals or in: a string, a number or a boolean.
func scalar(o *conf.Object, key string, v gjson.Result) JSONValue {
	switch v.Type {
	case gjson.String:
		return JSONValue{Kind: JSONString, Text: v.Str}
	case gjson.True, gjson.False:
		return JSONValue{Kind: JSONBool, Text: strconv.FormatBool(v.Bool())}
	case gjson.Number:
		n, err := ParseJSON([]byte(v.Raw))
		if err != nil {
			o.Fail(key, "%s: %v", v.Raw, err)
			return JSONValue{}
		}
		return valueOf(n.doc, skipSpace(n.doc, 0))
	}
	o.Fail(key, "must be a string, a number or a boolean, not %s", v.Raw)
	return JSONValue{}
}

// bodyCond is a compiled BodyField.
type bodyCond struct {
	path   []string
	field  BodyField
	values []JSONValue // Equals and In
}

func compileBody(f BodyField) (bodyCond, error) {
	path, err := ParseFieldPath(f.Path)
	if err != nil {
		return bodyCond{}, conf.Errorf("path", "%v", err)
	}
	set := 0
	for _, b := range []bool{f.Present, f.Absent, f.Equals.Kind != JSONAbsent, f.In != nil, f.Prefix != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return bodyCond{}, conf.Errorf("", "set exactly one of present, absent, equals, in and prefix")
	}
	c := bodyCond{path: path, field: f, values: f.In}
	if f.Equals.Kind != JSONAbsent {
		c.values = []JSONValue{f.Equals}
	}
	for _, v := range c.values {
		if v.Kind != JSONString && v.Kind != JSONNumber && v.Kind != JSONBool {
			return bodyCond{}, conf.Errorf("", "equals and in take strings, numbers and booleans, not %s", v.Kind)
		}
	}
	return c, nil
}

// ParseFieldPath splits the path of a body field ("user.roles.0") into its
// elements, and refuses what is not a plain path of keys and indexes.
func ParseFieldPath(s string) ([]string, error) {
	if s == "" {
		return nil, errors.New("is required")
	}
	if i := strings.IndexAny(s, `*?#@|!=<>%\{}[]()"',:`+"`"); i >= 0 {
		return nil, errors.New("must be object keys and array indexes separated by '.' (\"user.roles.0\"), not " +
			strconv.Quote(s) + ": gjson's modifiers, queries and wildcards are not field paths, and " + strconv.Quote(s[i:i+1]) + " may not appear")
	}
	path := strings.Split(s, ".")
	for _, e := range path {
		if e == "" {
			return nil, errors.New("has an empty element in " + strconv.Quote(s))
		}
	}
	return path, nil
}

// holds reports whether the reading v meets the condition.
func (c *bodyCond) holds(v JSONValue) bool {
	switch {
	case c.field.Present:
		return v.Kind != JSONAbsent
	case c.field.Absent:
		return v.Kind == JSONAbsent
	case c.field.Prefix != "":
		return v.Kind == JSONString && strings.HasPrefix(v.Text, c.field.Prefix)
	}
	for _, w := range c.values {
		if v == w {
			return true
		}
	}
	return false
}

// match checks the field's readings: the request possibly matches if one
// reading meets the condition, or the body cannot be read; it certainly
// matches only if every reading does.
func (c *bodyCond) match(r *Request, possibly bool) bool {
	readings, ok := r.JSONBody().Readings(c.path)
	if !ok {
		return possibly
	}
	for _, v := range readings {
		if c.holds(v) == possibly {
			return possibly
		}
	}
	return !possibly
}

// The request body as matchers read it.
type requestBody struct {
	body   []byte
	set    bool
	json   JSONBody
	parsed bool
}

// emptyBody is the JSON reading of a request without a body: every field
// is absent.
var emptyBody = JSONBody{state: bodyEmpty}

// SetBody gives r the request's whole body, once the chain has it (a
// request body phase). Until it is set, conditions on the body treat it as
// unreadable: a rule on the body must be decided once the body is there.
// A request without a body has an empty one.
func (r *Request) SetBody(body []byte) {
	r.body = requestBody{body: body, set: true}
}

// JSONBody is the request body parsed for its readings. It is unreadable if
// the body is not set yet, has a content-encoding other than identity
// (decompress it before the plugin: Envoy's decompressor filter), or cannot
// be read safely; an empty body reads every field as absent.
func (r *Request) JSONBody() JSONBody {
	b := &r.body
	if !b.set || b.parsed {
		return b.json
	}
	b.parsed = true
	if _, encoded := httptoken.Encoded(r.src.RequestHeaderValues("content-encoding")); encoded {
		return b.json
	}
	if len(b.body) == 0 {
		b.json = emptyBody
	} else {
		b.json, _ = ParseJSON(b.body)
	}
	return b.json
}

// ReadsBody reports whether m has conditions on the request body, which can
// be decided only once the body is there (Request.SetBody).
func (m *Matcher) ReadsBody() bool { return m != nil && len(m.body) > 0 }
