package match

import (
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/tidwall/sjson"
)

// Edits of a JSON body. A filter that removes or sets a field must do so
// under every reading of it: were an edit to hold under one reading only, a
// client could hide the field from it behind a duplicate key, a key in
// another case or a key written with escapes, and the backend would still
// read what the edit was meant to take away.

// RemoveField returns doc without every member that path names under any
// reading: at each level every member whose key equals the element, or
// equals it case-folded (escapes decoded), is followed (a superset of the
// three readings), and every member the last element names is removed, with
// its separating comma, leaving valid JSON. An element of digits indexes an
// array on the way; an array element itself is never removed: when the last
// element reaches an array, nothing is removed from it. doc must be a
// document ParseJSON accepted. It returns doc itself (same slice) when
// nothing is removed, and a new slice otherwise.
//
// It takes one pass over doc, however many members it removes.
func RemoveField(doc []byte, path []string) []byte {
	root := skipSpace(doc, 0)
	if len(path) == 0 || root >= len(doc) {
		return doc
	}
	r := remover{doc: doc}
	r.value(root, path)
	if len(r.spans) == 0 {
		return doc
	}
	n := len(doc)
	for _, s := range r.spans {
		n -= s.to - s.from
	}
	out := make([]byte, 0, n)
	kept := 0
	for _, s := range r.spans {
		out = append(out, doc[kept:s.from]...)
		kept = s.to
	}
	return append(out, doc[kept:]...)
}

// remover collects, in one walk, the spans of doc that removing a field
// takes out: in document order, merged where they meet.
type remover struct {
	doc   []byte
	spans []span
}

type span struct{ from, to int }

// value follows path (not empty) from the value at doc[pos] and returns the
// offset after that value.
func (r *remover) value(pos int, path []string) int {
	switch r.doc[pos] {
	case '{':
		return r.object(pos, path)
	case '[':
		if len(path) > 1 {
			if at := element(r.doc, pos, path[0]); at >= 0 {
				return r.restOfArray(r.value(at, path[1:]))
			}
		}
	}
	return skipValue(r.doc, pos)
}

// object follows path through every member of the object at doc[pos] that
// its first element names, or removes them if it is the last, and returns
// the offset after the object.
func (r *remover) object(pos int, path []string) int {
	doc, last := r.doc, len(path) == 1
	keptEnd := -1 // the end of the value of the last member kept
	pos = skipSpace(doc, pos+1)
	for doc[pos] != '}' {
		keyStart := pos
		pos = skipString(doc, pos)
		hit := keyIs(doc[keyStart+1:pos-1], path[0], true)
		pos = skipSpace(doc, skipSpace(doc, pos)+1) // past ':'
		var end int
		if hit && !last {
			end = r.value(pos, path[1:])
		} else {
			end = skipValue(doc, pos)
		}
		pos = skipSpace(doc, end)
		if doc[pos] == ',' {
			pos = skipSpace(doc, pos+1)
			if hit && last {
				r.remove(keyStart, pos) // the member, its comma, up to the next key
			}
		} else if hit && last {
			if keptEnd >= 0 {
				keyStart = keptEnd // the last member goes with the comma before it
			}
			r.remove(keyStart, end)
		}
		if !hit || !last {
			keptEnd = end
		}
	}
	return pos + 1
}

// restOfArray returns the offset after the array in which the element that
// ends at doc[pos] is.
func (r *remover) restOfArray(pos int) int {
	doc := r.doc
	for pos = skipSpace(doc, pos); doc[pos] == ','; pos = skipSpace(doc, pos) {
		pos = skipValue(doc, skipSpace(doc, pos+1))
	}
	return pos + 1 // past ']'
}

// remove adds doc[from:to] to the spans, merged with those it meets: the
// span of an object's last member, which starts at the end of the last value
// kept before it, takes in the spans of the members removed in between.
func (r *remover) remove(from, to int) {
	for n := len(r.spans); n > 0 && from <= r.spans[n-1].to; n-- {
		from, to = min(from, r.spans[n-1].from), max(to, r.spans[n-1].to)
		r.spans = r.spans[:n-1]
	}
	r.spans = append(r.spans, span{from, to})
}

// AddMember returns doc, an object ParseJSON accepted, with key set to raw,
// a JSON value the caller checked: every member any reading takes for key
// is removed (RemoveField), and key: raw is added at the end of the
// object. It is the edit of one member of a known object, without
// SetField's sjson, which links encoding/json into the plugin; ok is false,
// and doc is returned, when doc is not an object.
func AddMember(doc []byte, key string, raw []byte) (out []byte, ok bool) {
	doc = RemoveField(doc, []string{key})
	end := len(doc) - 1
	for end >= 0 && (doc[end] == ' ' || doc[end] == '\t' || doc[end] == '\n' || doc[end] == '\r') {
		end--
	}
	start := skipSpace(doc, 0)
	if start >= len(doc) || doc[start] != '{' || end < 0 || doc[end] != '}' {
		return doc, false
	}
	empty := skipSpace(doc, start+1) == end
	out = make([]byte, 0, len(doc)+len(key)+len(raw)+4)
	out = append(out, doc[:end]...)
	if !empty {
		out = append(out, ',')
	}
	out = AppendJSONString(out, key)
	out = append(append(out, ':'), raw...)
	return append(out, doc[end:]...), true
}

// SetField returns doc with the field at path set to raw, a JSON value,
// under every reading. It first removes the field as RemoveField does, then
// sets it with sjson in the first parent of each name (gjson's reading),
// creating missing parents as objects (an element of digits is then a key)
// and making a parent that is neither an object nor an array, the root
// included, an object. Afterwards every reading of path gives raw's value,
// or, where a reading goes through another parent than the first (parents
// themselves duplicated or differently cased), nothing: never a value the
// document had before.
//
// doc must be a document ParseJSON accepted. SetField returns doc
// unchanged, and an error, when sjson refuses, or the result would not be
// such a document (path empty, an element empty or not UTF-8, which no key
// can be written as, raw not a value ParseJSON accepts, or nested deeper
// than MaxJSONDepth at path), or an element that reaches an array is not an
// index of it, with no leading zero and less than its length: sjson would
// take "01" for 1, and pad the array with nulls up to an index beyond its
// end.
func SetField(doc []byte, path []string, raw []byte) ([]byte, error) {
	if len(path) == 0 {
		return doc, errors.New("an empty path")
	}
	for _, e := range path {
		if e == "" || !utf8.ValidString(e) {
			return doc, errors.New("path element " + strconv.Quote(e) + " is empty or not UTF-8")
		}
	}
	if _, err := ParseJSON(raw); err != nil {
		return doc, errors.New("the value: " + err.Error())
	}
	if len(path)+nesting(raw) > MaxJSONDepth {
		return doc, errors.New("the value would be nested deeper than " + strconv.Itoa(MaxJSONDepth) + " levels")
	}
	removed := RemoveField(doc, path)
	// Follow the members sjson follows (the first of each name, as gjson
	// reads it), to check the arrays on the way and to make the first parent
	// that is neither an array nor an object an empty object: sjson would
	// replace it with one too, but it looks for the path inside a string
	// first, as gjson does, and finds one in a string that holds a '['.
	pos := skipSpace(removed, 0)
	for _, name := range path {
		if pos < 0 || pos >= len(removed) {
			break
		}
		switch removed[pos] {
		case '{':
			pos = member(removed, pos, name, readFirst)
		case '[':
			if pos = element(removed, pos, name); pos < 0 {
				return doc, errors.New(strconv.Quote(name) + " is not an index of the array it reaches")
			}
		default:
			end := skipValue(removed, pos)
			b := make([]byte, 0, len(removed)-(end-pos)+2)
			removed = append(append(append(b, removed[:pos]...), "{}"...), removed[end:]...)
			pos = -1
		}
	}
	out, err := sjson.SetRawBytes(removed, sjsonPath(path), raw)
	if err != nil {
		return doc, err
	}
	return out, nil
}

// sjsonPath writes path for sjson: each element with a '\' before every
// byte that gjson's path syntax may give a meaning to (all but letters,
// digits, '_', '-', space, control and non-ASCII bytes), and forced to be an
// object key by a leading ':' wherever sjson creates it (without it sjson
// creates an array for an element of digits, padded with nulls up to it).
// Where the element reaches an existing array, sjson still reads it as an
// index.
func sjsonPath(path []string) string {
	n := 0
	for _, e := range path {
		n += 2 + 2*len(e)
	}
	b := make([]byte, 0, n)
	for i, e := range path {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, ':')
		for j := 0; j < len(e); j++ {
			if c := e[j]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				c == '_' || c == '-' || c <= ' ' || c >= 0x7F) {
				b = append(b, '\\')
			}
			b = append(b, e[j])
		}
	}
	return string(b)
}

// nesting returns how deeply arrays and objects nest in a checked value.
func nesting(raw []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			i = skipString(raw, i) - 1
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// FieldRaw returns the raw JSON text of the field at path, and ok, when
// every reading of a readable body agrees on it (the same occurrence, or
// occurrences with identical raw text); ok is false when the field is absent
// under every reading, or the readings disagree, or j is unreadable. raw is
// part of the body, to be read only.
func (j JSONBody) FieldRaw(path []string) (raw []byte, ok bool) {
	if j.state != bodyReadable {
		return nil, false
	}
	root := skipSpace(j.doc, 0)
	first := -1
	for way := readFirst; way < readings; way++ {
		pos := walk(j.doc, root, path, way)
		if pos < 0 {
			return nil, false
		}
		if way == readFirst {
			first, raw = pos, j.doc[pos:skipValue(j.doc, pos)]
		} else if pos != first && string(j.doc[pos:skipValue(j.doc, pos)]) != string(raw) {
			return nil, false
		}
	}
	return raw, true
}

// AppendJSONString appends s to b as a JSON string: quotes, backslash and
// control characters escaped (\n \r \t \b \f, others \u00XX), invalid UTF-8
// replaced by U+FFFD, and U+2028 and U+2029 escaped (JavaScript before
// ES2019 ends a line at them); the result always passes ParseJSON.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // s[start:i] is still to be appended as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		size := 1
		var esc string
		switch c {
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		case '\n':
			esc = `\n`
		case '\r':
			esc = `\r`
		case '\t':
			esc = `\t`
		case '\b':
			esc = `\b`
		case '\f':
			esc = `\f`
		default:
			if c < 0x20 {
				b = append(append(b, s[start:i]...), '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
				i++
				start = i
				continue
			}
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				esc = "\uFFFD"
			case r == '\u2028':
				esc = `\u2028`
			case r == '\u2029':
				esc = `\u2029`
			default:
				i += size
				continue
			}
		}
		b = append(append(b, s[start:i]...), esc...)
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}
