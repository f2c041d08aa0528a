// Package conf decodes filter configuration from JSON with gjson, strictly:
// unknown keys, wrong types and bad values are errors that name the JSON path
// of the field and the reason, e.g. "burst: must be > 0".
package conf

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// Error is a configuration error at a JSON path relative to the object being
// decoded ("" for the object itself).
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Errorf returns an *Error at path.
func Errorf(path, format string, args ...any) error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// Within prefixes err's path with path, so a nested decoder's error reads
// from the outer object: Within("rules[2]", "burst: ...") is
// "rules[2].burst: ...". Errors that are not *Error get path as their path.
func Within(path string, err error) error {
	if err == nil || path == "" {
		return err
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Path: Join(path, e.Path), Reason: e.Reason}
	}
	return &Error{Path: path, Reason: err.Error()}
}

// Join joins JSON path elements: Join("a", "b") is "a.b", Join("a", "[1]") is "a[1]".
func Join(base, elem string) string {
	switch {
	case base == "":
		return elem
	case elem == "":
		return base
	case strings.HasPrefix(elem, "["):
		return base + elem
	}
	return base + "." + elem
}

// Index is the path element of array element i: "[i]".
func Index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// Object decodes one JSON object. Getters record the first error and return
// the zero value afterwards; Err reports it, and any key that no getter
// asked for, as unknown.
type Object struct {
	path string
	raw  gjson.Result
	seen map[string]bool
	err  error
}

// Parse parses a JSON document that must be an object. Malformed JSON is
// reported with the byte offset of the problem.
func Parse(doc []byte) (*Object, error) {
	if !gjson.ValidBytes(doc) {
		return nil, &Error{Reason: "malformed JSON " + locate(doc)}
	}
	r := gjson.ParseBytes(doc)
	if !r.IsObject() {
		return nil, &Error{Reason: "must be a JSON object"}
	}
	return New("", r), nil
}

// locate names the offset at which doc stops being valid JSON: the end of
// its longest prefix that closing the open brackets would make valid.
func locate(doc []byte) string {
	for i := len(doc); i > 0; i-- {
		if closes(doc[:i]) {
			return fmt.Sprintf("at offset %d", i)
		}
	}
	return "at offset 0"
}

// closes reports whether prefix, completed with the brackets it leaves open,
// is valid JSON.
func closes(prefix []byte) bool {
	var stack []byte
	inString, escaped := false, false
	for _, c := range prefix {
		switch {
		case inString:
			if escaped {
				escaped = false
			} else if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{':
			stack = append(stack, '}')
		case c == '[':
			stack = append(stack, ']')
		case c == '}' || c == ']':
			if len(stack) == 0 {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	doc := string(prefix)
	if inString {
		doc += `"`
	}
	doc = strings.TrimRight(doc, " \t\r\n,")
	var closing string
	for i := len(stack) - 1; i >= 0; i-- {
		closing += string(stack[i])
	}
	// A prefix may also end after a key or a colon.
	for _, tail := range []string{"", "null", ":null"} {
		if gjson.Valid(doc + tail + closing) {
			return true
		}
	}
	return false
}

// New returns a decoder for r, which sits at path in the document.
func New(path string, r gjson.Result) *Object {
	o := &Object{path: path, raw: r, seen: map[string]bool{}}
	if r.Exists() && !r.IsObject() {
		o.fail("", "must be an object")
	}
	return o
}

// Raw is the object as parsed.
func (o *Object) Raw() gjson.Result { return o.raw }

// Path is the object's path in the document.
func (o *Object) Path() string { return o.path }

// Has reports whether key is present (and marks it as known).
func (o *Object) Has(key string) bool {
	o.seen[key] = true
	return o.get(key).Exists()
}

// Fail records an error at key (relative to the object) unless one is
// already recorded.
func (o *Object) Fail(key, format string, args ...any) {
	o.fail(key, format, args...)
}

func (o *Object) fail(key, format string, args ...any) {
	if o.err == nil {
		o.err = Errorf(Join(o.path, key), format, args...)
	}
}

// Err returns an error for the first unknown key (a misspelt key is the
// likeliest cause of any other error), or else the first error recorded.
func (o *Object) Err() error {
	var unknown []string
	o.raw.ForEach(func(k, _ gjson.Result) bool {
		if !o.seen[k.String()] {
			unknown = append(unknown, k.String())
		}
		return true
	})
	if len(unknown) > 0 {
		sort.Strings(unknown)
		known := make([]string, 0, len(o.seen))
		for k := range o.seen {
			known = append(known, k)
		}
		sort.Strings(known)
		return Errorf(Join(o.path, unknown[0]), "unknown field (known fields: %s)", strings.Join(known, ", "))
	}
	return o.err
}

func (o *Object) get(key string) gjson.Result {
	o.seen[key] = true
	if !o.raw.IsObject() {
		return gjson.Result{}
	}
	// Look the key up literally: gjson paths treat '.', '*' and '?' specially.
	var out gjson.Result
	o.raw.ForEach(func(k, v gjson.Result) bool {
		if k.String() == key {
			out = v
			return false
		}
		return true
	})
	return out
}

func typeName(r gjson.Result) string {
	switch {
	case r.IsObject():
		return "an object"
	case r.IsArray():
		return "an array"
	case r.Type == gjson.String:
		return "a string"
	case r.Type == gjson.Number:
		return "a number"
	case r.IsBool():
		return "a boolean"
	case r.Type == gjson.Null:
		return "null"
	}
	return r.Type.String()
}

// String returns the string at key, or def if absent.
func (o *Object) String(key, def string) string {
	v := o.get(key)
	if !v.Exists() {
		return def
	}
	if v.Type != gjson.String {
		o.fail(key, "must be a string, not %s", typeName(v))
		return def
	}
	return v.String()
}

// RequiredString returns the non-empty string at key.
func (o *Object) RequiredString(key string) string {
	v := o.get(key)
	if !v.Exists() {
		o.fail(key, "is required")
		return ""
	}
	s := o.String(key, "")
	if s == "" && o.err == nil {
		o.fail(key, "must not be empty")
	}
	return s
}

// number returns the number at key; ok is false if it is absent or not a
// number (which records an error).
func (o *Object) number(key string) (v gjson.Result, ok bool) {
	v = o.get(key)
	if !v.Exists() {
		return v, false
	}
	if v.Type != gjson.Number {
		o.fail(key, "must be a number, not %s", typeName(v))
		return v, false
	}
	return v, true
}

// Int returns the integer at key, or def if absent.
func (o *Object) Int(key string, def int64) int64 {
	v, ok := o.number(key)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	if err != nil {
		o.fail(key, "must be a whole number, not %s", v.Raw)
		return def
	}
	return n
}

// Float returns the number at key, or def if absent.
func (o *Object) Float(key string, def float64) float64 {
	if v, ok := o.number(key); ok {
		return v.Float()
	}
	return def
}

// Bool returns the boolean at key, or def if absent.
func (o *Object) Bool(key string, def bool) bool {
	v := o.get(key)
	if !v.Exists() {
		return def
	}
	if !v.IsBool() {
		o.fail(key, "must be true or false, not %s", typeName(v))
		return def
	}
	return v.Bool()
}

// Duration returns the duration at key, written as a Go duration string
// ("200ms", "1.5s", "1m"), or def if absent.
func (o *Object) Duration(key string, def time.Duration) time.Duration {
	v := o.get(key)
	if !v.Exists() {
		return def
	}
	if v.Type != gjson.String {
		o.fail(key, `must be a duration string such as "200ms" or "1s", not %s`, typeName(v))
		return def
	}
	d, err := time.ParseDuration(v.String())
	if err != nil {
		o.fail(key, `must be a duration such as "200ms" or "1s", not %q`, v.String())
		return def
	}
	return d
}

// Strings returns the array of strings at key, or nil if absent.
func (o *Object) Strings(key string) []string {
	v := o.get(key)
	if !v.Exists() {
		return nil
	}
	if !v.IsArray() {
		o.fail(key, "must be an array of strings, not %s", typeName(v))
		return nil
	}
	var out []string
	for i, e := range v.Array() {
		if e.Type != gjson.String {
			o.fail(key+Index(i), "must be a string, not %s", typeName(e))
			return nil
		}
		out = append(out, e.String())
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// StringMap returns the object of strings at key, in document order, or nil
// if absent.
func (o *Object) StringMap(key string) [][2]string {
	v := o.get(key)
	if !v.Exists() {
		return nil
	}
	if !v.IsObject() {
		o.fail(key, "must be an object of strings, not %s", typeName(v))
		return nil
	}
	out := [][2]string{}
	v.ForEach(func(k, e gjson.Result) bool {
		if e.Type != gjson.String {
			o.fail(Join(key, k.String()), "must be a string, not %s", typeName(e))
			return false
		}
		out = append(out, [2]string{k.String(), e.String()})
		return true
	})
	return out
}

// Object returns a decoder for the object at key; it is empty (and Exists
// is false on its Raw) if the key is absent.
func (o *Object) Object(key string) *Object {
	v := o.get(key)
	sub := New(Join(o.path, key), v)
	if sub.err != nil {
		o.fail(key, "must be an object, not %s", typeName(v))
	}
	return sub
}

// Objects returns decoders for the array of objects at key, or nil if
// absent.
func (o *Object) Objects(key string) []*Object {
	v := o.get(key)
	if !v.Exists() {
		return nil
	}
	if !v.IsArray() {
		o.fail(key, "must be an array of objects, not %s", typeName(v))
		return nil
	}
	out := []*Object{}
	for i, e := range v.Array() {
		if !e.IsObject() {
			o.fail(key+Index(i), "must be an object, not %s", typeName(e))
			return nil
		}
		out = append(out, New(Join(o.path, key+Index(i)), e))
	}
	return out
}

// Check records err (from a nested decoder or a validation) unless an error
// is already recorded; nested *Error paths are kept as they are.
func (o *Object) Check(err error) {
	if err != nil && o.err == nil {
		o.err = err
	}
}
