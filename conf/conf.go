// Package conf decodes a filter's JSON configuration strictly: unknown
// fields, duplicate keys, wrong types and bad values are errors that name
// the JSON path of the field and the reason, such as
//
//	rules[2].limit.burst: must be > 0
//	rules[0].mtach: unknown field (known fields: limit, match)
//
// Every built-in filter decodes its configuration with it, and a filter of
// your own gets the same errors by using it too: a policy.Kind's Build
// receives its "config" object as an *Object, and the plugin reports any
// field that Build did not read as unknown.
//
//	type Config struct {
//		Header  string
//		Timeout time.Duration
//	}
//
//	func decode(o *conf.Object) Config {
//		return Config{
//			Header:  o.RequiredString("header"),
//			Timeout: o.Duration("timeout", time.Second),
//		}
//	}
//
// Getters record the first error on the object and return the default
// afterwards, so a decoder reads every field and checks once, with Err.
package conf

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/internal/text"
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

// Errorf returns an *Error at path whose reason is formatted as by
// fmt.Sprintf, for the verbs %s, %q, %v and %d without flags or widths and
// arguments that are strings, []byte, []string, ints, bools, errors or
// values with a String method (time.Duration). It does not use package
// fmt, which would add its printer and reflection to every plugin; an
// argument of another type, such as a named string type, is written as a
// "%!v(unsupported type)" marker: convert it first.
func Errorf(path, format string, args ...any) error {
	return &Error{Path: path, Reason: text.Sprintf(format, args...)}
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

// Limits on a configuration document, checked by Parse before anything is
// decoded, so that decoding takes time and memory in proportion to the
// document's size.
const (
	// MaxSize is the largest configuration accepted, in bytes.
	MaxSize = 512 << 10
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 64
)

// Object decodes one JSON object. Getters record the first error and return
// the default afterwards; Err reports it, or any key that no getter asked
// for, in this object or in the objects its getters returned.
type Object struct {
	parent *Object
	elem   string // path element within parent, or the whole path of a root
	raw    gjson.Result

	fields   []field // the object's keys and values, in document order
	indexed  bool
	children []*Object
	asked    []string // keys looked up but absent
	err      error
}

type field struct {
	key  string
	val  gjson.Result
	seen bool
}

// Parse parses a JSON document that must be an object. Malformed JSON is
// reported with the byte offset of the problem; a document larger than
// MaxSize or nested deeper than MaxDepth is refused before it is parsed.
func Parse(doc []byte) (*Object, error) {
	if len(doc) > MaxSize {
		return nil, &Error{Reason: text.Sprintf("is %d bytes; the limit is %d bytes", len(doc), MaxSize)}
	}
	if !utf8.Valid(doc) {
		return nil, &Error{Reason: text.Sprintf("is not valid UTF-8 (at offset %d)", invalidUTF8(doc))}
	}
	if path, at := tooDeep(doc); at >= 0 {
		return nil, &Error{Path: path, Reason: text.Sprintf("nests objects and arrays deeper than %d levels (at offset %d)", MaxDepth, at)}
	}
	if !gjson.ValidBytes(doc) {
		reason := "malformed JSON " + locate(doc)
		if looksLikeYAML(doc) {
			reason += `: this looks like YAML, and the plugin configuration is JSON (in a WasmPlugin, pluginConfig is written in YAML and reaches the plugin as JSON; a file for the local runner or the test kit must be JSON)`
		}
		return nil, &Error{Reason: reason}
	}
	r := gjson.ParseBytes(doc)
	if !r.IsObject() {
		return nil, &Error{Reason: "must be a JSON object"}
	}
	return New("", r), nil
}

// invalidUTF8 is the offset of the first byte of doc that is not valid
// UTF-8.
func invalidUTF8(doc []byte) int {
	for i := 0; i < len(doc); {
		r, n := utf8.DecodeRune(doc[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(doc)
}

// tooDeep returns the offset at which doc nests deeper than MaxDepth, and
// the JSON path of the value that does, or -1. It reads doc once and keeps
// only the path's elements, so it takes time in proportion to doc's size
// whatever doc holds.
func tooDeep(doc []byte) (path string, at int) {
	type level struct {
		array bool
		index int
		key   string
	}
	var stack []level
	inString, escaped := false, false
	start := 0      // of the string being read
	var last string // the last string read, a key if a ':' follows
	for i, c := range doc {
		switch {
		case inString:
			if escaped {
				escaped = false
			} else if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
				last = string(doc[start:i])
			}
		case c == '"':
			inString, start = true, i+1
		case c == ':':
			if n := len(stack); n > 0 && !stack[n-1].array {
				stack[n-1].key = last
			}
		case c == ',':
			if n := len(stack); n > 0 && stack[n-1].array {
				stack[n-1].index++
			}
		case c == '{' || c == '[':
			if len(stack) == MaxDepth {
				var b strings.Builder
				for _, l := range stack {
					if l.array {
						b.WriteString(Index(l.index))
					} else {
						if b.Len() > 0 {
							b.WriteByte('.')
						}
						b.WriteString(l.key)
					}
				}
				return b.String(), i
			}
			stack = append(stack, level{array: c == '['})
		case c == '}' || c == ']':
			if n := len(stack); n > 0 {
				stack = stack[:n-1]
			}
		}
	}
	return "", -1
}

// locate names the offset of the first byte at which doc stops being valid
// JSON, in one pass.
func locate(doc []byte) string {
	s := scanner{b: doc}
	s.space()
	if s.value() {
		s.space()
	}
	line, col := 1, 1
	for _, c := range string(doc[:s.i]) { // columns count characters, not bytes
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return "at offset " + strconv.Itoa(s.i) + " (line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ")"
}

// looksLikeYAML reports whether a document that is not JSON starts the
// way YAML does: a "---" or a "#" comment, a "- " list item, or a plain key
// and a colon ("filters:").
func looksLikeYAML(doc []byte) bool {
	first := strings.TrimSpace(string(doc))
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = strings.TrimSpace(first[:i])
	}
	switch {
	case strings.HasPrefix(first, "---"), strings.HasPrefix(first, "#"), strings.HasPrefix(first, "- "):
		return true
	}
	key, _, found := strings.Cut(first, ":")
	if !found || key == "" {
		return false
	}
	for _, c := range key {
		if !(c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// scanner reads JSON far enough to find where it breaks; Parse has already
// bounded the nesting, so its recursion is shallow.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) && strings.IndexByte(" \t\r\n", s.b[s.i]) >= 0 {
		s.i++
	}
}

func (s *scanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value reads one value; on failure s.i is where it breaks.
func (s *scanner) value() bool {
	s.space()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.i++
		if s.next('}') {
			return true
		}
		for {
			s.space()
			if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() || !s.next(':') || !s.value() {
				return false
			}
			if s.next('}') {
				return true
			}
			if !s.next(',') {
				return false
			}
		}
	case c == '[':
		s.i++
		if s.next(']') {
			return true
		}
		for {
			if !s.value() {
				return false
			}
			if s.next(']') {
				return true
			}
			if !s.next(',') {
				return false
			}
		}
	case c == '"':
		return s.str()
	case c == '-' || '0' <= c && c <= '9':
		start := s.i
		for s.i < len(s.b) && strings.IndexByte("+-.eE0123456789", s.b[s.i]) >= 0 {
			s.i++
		}
		if !gjson.Valid(string(s.b[start:s.i])) {
			s.i = start
			return false
		}
		return true
	}
	for _, lit := range []string{"true", "false", "null"} {
		if strings.HasPrefix(string(s.b[s.i:min(len(s.b), s.i+len(lit))]), lit) {
			s.i += len(lit)
			return true
		}
	}
	return false
}

// str reads a string starting at its opening quote.
func (s *scanner) str() bool {
	s.i++
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			s.i += 2
		case c < ' ':
			return false
		default:
			s.i++
		}
	}
	s.i = len(s.b)
	return false
}

// New returns a decoder for r, which sits at path in the document ("" for
// the document itself).
func New(path string, r gjson.Result) *Object {
	o := &Object{elem: path, raw: r}
	if r.Exists() && !r.IsObject() {
		o.fail("", "must be an object, not %s", typeName(r))
	}
	return o
}

// child returns a decoder for r, at elem within o; o's Err covers it.
func (o *Object) child(elem string, r gjson.Result) *Object {
	c := New("", r)
	c.parent, c.elem = o, elem
	o.children = append(o.children, c)
	return c
}

// Raw is the object as parsed.
func (o *Object) Raw() gjson.Result { return o.raw }

// Path is the object's path in the document.
func (o *Object) Path() string {
	if o.parent == nil {
		return o.elem
	}
	return Join(o.parent.Path(), o.elem)
}

// Has reports whether key is present (and marks it as known).
func (o *Object) Has(key string) bool { return o.get(key).Exists() }

// Value returns the JSON value at key as it is, for a decoder of its own;
// it marks the key as known.
func (o *Object) Value(key string) gjson.Result { return o.get(key) }

// Fail records an error at key (relative to the object) unless one is
// already recorded; format and args are as for Errorf.
func (o *Object) Fail(key, format string, args ...any) {
	o.fail(key, format, args...)
}

func (o *Object) fail(key, format string, args ...any) {
	if o.err == nil {
		o.err = Errorf(Join(o.Path(), key), format, args...)
	}
}

// Moved reports a field that an earlier version of the configuration had
// at old and that now lives at now: "status: moved: write it as deny.status".
func (o *Object) Moved(old, now string) {
	o.index()
	for i := range o.fields {
		if o.fields[i].key == old {
			o.fields[i].seen = true
			o.fail(old, "moved: write it as %s", now)
		}
	}
}

// Err returns an error for the first unknown key of the object or of an
// object its getters returned (a misspelt key is the likeliest cause of any
// other error), or else the first error recorded.
func (o *Object) Err() error {
	if err := o.unknown(); err != nil {
		return err
	}
	return o.firstErr()
}

func (o *Object) unknown() error {
	o.index()
	var unknown, known []string
	for _, f := range o.fields {
		if f.seen {
			known = append(known, f.key)
		} else {
			unknown = append(unknown, f.key)
		}
	}
	if len(unknown) > 0 {
		for _, k := range o.asked {
			known = append(known, k)
		}
		first := unknown[0]
		for _, k := range unknown[1:] {
			first = min(first, k)
		}
		known = sortedSet(known)
		return Errorf(Join(o.Path(), first), "unknown field (known fields: %s)", strings.Join(known, ", "))
	}
	for _, c := range o.children {
		if err := c.unknown(); err != nil {
			return err
		}
	}
	return nil
}

func (o *Object) firstErr() error {
	if o.err != nil {
		return o.err
	}
	for _, c := range o.children {
		if err := c.firstErr(); err != nil {
			return err
		}
	}
	return nil
}

// sortedSet sorts list and drops repeats. It sorts with sort.Stable, which
// gjson links in any case, rather than sort.Strings, whose generic sort
// would add 20 KB of code to a Wasm module.
func sortedSet(list []string) []string {
	sort.Stable(sort.StringSlice(list))
	out := list[:0]
	for i, s := range list {
		if i == 0 || s != list[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// index reads the object's keys once, recording a duplicate key as an
// error: JSON parsers disagree on which of two values wins.
func (o *Object) index() {
	if o.indexed {
		return
	}
	o.indexed = true
	if !o.raw.IsObject() {
		return
	}
	o.raw.ForEach(func(k, v gjson.Result) bool {
		o.fields = append(o.fields, field{key: k.String(), val: v})
		return true
	})
	if len(o.fields) < 2 {
		return
	}
	keys := make(map[string]struct{}, len(o.fields))
	for _, f := range o.fields {
		if _, dup := keys[f.key]; dup {
			o.fail(f.key, "is given twice")
			return
		}
		keys[f.key] = struct{}{}
	}
}

func (o *Object) get(key string) gjson.Result {
	o.index()
	var v gjson.Result
	for i := range o.fields {
		if o.fields[i].key == key {
			o.fields[i].seen = true // every copy: a duplicate is reported as such
			if !v.Exists() {
				v = o.fields[i].val
			}
		}
	}
	if !v.Exists() {
		o.ask(key)
	}
	return v
}

// ask remembers a key that was looked up but is absent, so that an unknown
// field's message can list it among the known ones.
func (o *Object) ask(key string) {
	for _, k := range o.asked {
		if k == key {
			return
		}
	}
	o.asked = append(o.asked, key)
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

// OneOf returns the string at key, which must be one of values, or def if
// absent.
func (o *Object) OneOf(key, def string, values ...string) string {
	s := o.String(key, def)
	for _, v := range values {
		if s == v {
			return s
		}
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(v)
	}
	list := strings.Join(quoted, ", ")
	if n := len(quoted); n > 1 {
		list = strings.Join(quoted[:n-1], ", ") + " or " + quoted[n-1]
	}
	o.fail(key, "must be %s, not %q", list, s)
	return def
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
	out := []string{}
	ok := true
	i := 0
	v.ForEach(func(_, e gjson.Result) bool {
		if e.Type != gjson.String {
			o.fail(key+Index(i), "must be a string, not %s", typeName(e))
			ok = false
			return false
		}
		out = append(out, e.String())
		i++
		return true
	})
	if !ok {
		return nil
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
	m := o.child(key, v)
	if m.err != nil {
		o.fail(key, "must be an object of strings, not %s", typeName(v))
		return nil
	}
	m.index()
	out := [][2]string{}
	for i := range m.fields {
		f := &m.fields[i]
		f.seen = true
		if f.val.Type != gjson.String {
			m.fail(f.key, "must be a string, not %s", typeName(f.val))
			return nil
		}
		out = append(out, [2]string{f.key, f.val.String()})
	}
	return out
}

// Member is one member of an object, its value as it is.
type Member struct {
	Key   string
	Value gjson.Result
}

// Members returns the members of the object at key, in document order, with
// their values as they are, for a decoder that takes values of several
// types; nil if absent.
func (o *Object) Members(key string) []Member {
	v := o.get(key)
	if !v.Exists() {
		return nil
	}
	m := o.child(key, v)
	if m.err != nil {
		o.fail(key, "must be an object, not %s", typeName(v))
		return nil
	}
	m.index()
	out := []Member{}
	for i := range m.fields {
		f := &m.fields[i]
		f.seen = true
		out = append(out, Member{f.key, f.val})
	}
	return out
}

// Object returns a decoder for the object at key; it is empty (and Exists
// is false on its Raw) if the key is absent. o's Err covers it.
func (o *Object) Object(key string) *Object {
	v := o.get(key)
	sub := o.child(key, v)
	if sub.err != nil {
		sub.err = nil
		o.fail(key, "must be an object, not %s", typeName(v))
	}
	return sub
}

// Objects returns decoders for the array of objects at key, or nil if
// absent. o's Err covers them.
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
	ok := true
	v.ForEach(func(_, e gjson.Result) bool {
		if !e.IsObject() {
			o.fail(key+Index(len(out)), "must be an object, not %s", typeName(e))
			ok = false
			return false
		}
		out = append(out, o.child(key+Index(len(out)), e))
		return true
	})
	if !ok {
		return nil
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
