package match

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON bodies: see the package documentation.

// MaxJSONDepth is how deeply a body may nest arrays and objects and still
// be read.
const MaxJSONDepth = 64

// maxExactInteger is the largest integer every float64 parser reads
// exactly: 2^53.
const maxExactInteger = 1 << 53

// JSONKind is the type of a JSON value, or JSONAbsent for a field the
// document does not have.
type JSONKind uint8

const (
	JSONAbsent JSONKind = iota
	JSONNull
	JSONBool
	JSONNumber
	JSONString
	JSONArray
	JSONObject
)

func (k JSONKind) String() string {
	return [...]string{"absent", "null", "boolean", "number", "string", "array", "object"}[k]
}

// JSONValue is one reading of a field. Text is a string's decoded text, a
// number's value written as strconv.FormatFloat(v, 'g', -1, 64) writes it
// ("1.0" and "1e0" are "1"), "true" or "false"; it is empty for the other
// kinds.
type JSONValue struct {
	Kind JSONKind
	Text string
}

// JSONBody is a body checked for its readings: the document itself, which
// Readings walks for each path, so that a body costs one pass to check and
// one per condition to read, without a tree built for it. The zero value
// is an unreadable body.
type JSONBody struct {
	doc   []byte // the whole document, once checked
	state uint8
}

const (
	bodyUnreadable = iota
	bodyReadable
	bodyEmpty // no body: every field is absent
)

// ParseJSON checks a whole body. The result is unreadable (Readable is
// false) if the body cannot be read safely; err then says why. The body
// must not change while the result is in use.
func ParseJSON(body []byte) (JSONBody, error) {
	p := jsonParser{in: body}
	if len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF {
		return JSONBody{}, errors.New("starts with a byte order mark")
	}
	p.space()
	if err := p.value(0); err != nil {
		return JSONBody{}, err
	}
	p.space()
	if p.pos != len(p.in) {
		return JSONBody{}, p.errorf("data after the JSON value")
	}
	return JSONBody{doc: body, state: bodyReadable}, nil
}

// Readable reports whether the body could be read safely.
func (j JSONBody) Readable() bool { return j.state != bodyUnreadable }

// The readings' ways of choosing a member among those of an object.
const (
	readFirst = iota
	readLast
	readFolded
	readings
)

// Readings returns the distinct values the field at path has under the
// readings, in the order first, last, folded, each once; ok is false, and
// there is no value, if the body is unreadable. A field missing under a
// reading reads as JSONAbsent. Path elements name object members; one of
// digits alone also indexes an array.
func (j JSONBody) Readings(path []string) (values []JSONValue, ok bool) {
	switch j.state {
	case bodyUnreadable:
		return nil, false
	case bodyEmpty:
		return []JSONValue{{Kind: JSONAbsent}}, true
	}
	var out [readings]JSONValue
	n := 0
	for way := readFirst; way < readings; way++ {
		v := valueOf(j.doc, walk(j.doc, skipSpace(j.doc, 0), path, way))
		if !containsValue(out[:n], v) {
			out[n] = v
			n++
		}
	}
	return append([]JSONValue(nil), out[:n]...), true
}

func containsValue(vs []JSONValue, v JSONValue) bool {
	for _, w := range vs {
		if w == v {
			return true
		}
	}
	return false
}

// The walk runs over a checked document, so it need not check again.

// walk follows path from the value at doc[pos] as the reading way does,
// and returns the offset of the value it reaches; -1 if there is none.
func walk(doc []byte, pos int, path []string, way int) int {
	for _, name := range path {
		switch doc[pos] {
		case '{':
			pos = member(doc, pos, name, way)
		case '[':
			pos = element(doc, pos, name)
		default:
			return -1
		}
		if pos < 0 {
			return -1
		}
	}
	return pos
}

// member returns the offset of the value of the object member at doc[pos]
// called name, as the reading way chooses it; -1 if there is none.
func member(doc []byte, pos int, name string, way int) int {
	found := -1
	pos = skipSpace(doc, pos+1)
	for doc[pos] != '}' {
		keyStart := pos
		pos = skipString(doc, pos)
		hit := keyIs(doc[keyStart+1:pos-1], name, way == readFolded)
		pos = skipSpace(doc, skipSpace(doc, pos)+1) // past ':'
		if hit {
			if way == readFirst {
				return pos
			}
			found = pos
		}
		pos = skipSpace(doc, skipValue(doc, pos))
		if doc[pos] == ',' {
			pos = skipSpace(doc, pos+1)
		}
	}
	return found
}

// keyIs compares a key as written (its escapes undecoded) with name.
func keyIs(raw []byte, name string, fold bool) bool {
	if !fold && len(raw) < len(name) {
		return false // an escape only makes a key longer as written
	}
	for _, c := range raw {
		if c == '\\' {
			key := decodeString(raw)
			return key == name || fold && strings.EqualFold(key, name)
		}
	}
	return string(raw) == name || fold && strings.EqualFold(string(raw), name)
}

// element returns the offset of the array element at doc[pos] whose index
// is name; -1 if name is not an index of the array.
func element(doc []byte, pos int, name string) int {
	if name == "" || len(name) > 9 || name[0] == '0' && len(name) > 1 {
		return -1
	}
	i := 0
	for _, c := range []byte(name) {
		if c < '0' || c > '9' {
			return -1
		}
		i = i*10 + int(c-'0')
	}
	pos = skipSpace(doc, pos+1)
	for k := 0; doc[pos] != ']'; k++ {
		if k == i {
			return pos
		}
		pos = skipSpace(doc, skipValue(doc, pos))
		if doc[pos] == ',' {
			pos = skipSpace(doc, pos+1)
		}
	}
	return -1
}

func skipSpace(doc []byte, pos int) int {
	for pos < len(doc) && (doc[pos] == ' ' || doc[pos] == '\t' || doc[pos] == '\n' || doc[pos] == '\r') {
		pos++
	}
	return pos
}

// skipString returns the offset after the string at doc[pos].
func skipString(doc []byte, pos int) int {
	for pos++; doc[pos] != '"'; pos++ {
		if doc[pos] == '\\' {
			pos++
		}
	}
	return pos + 1
}

// skipValue returns the offset after the value at doc[pos].
func skipValue(doc []byte, pos int) int {
	switch doc[pos] {
	case '"':
		return skipString(doc, pos)
	case '{', '[':
		depth := 0
		for ; ; pos++ {
			switch doc[pos] {
			case '"':
				pos = skipString(doc, pos) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return pos + 1
				}
			}
		}
	}
	for pos < len(doc) && !strings.ContainsRune(",}] \t\r\n", rune(doc[pos])) {
		pos++
	}
	return pos
}

// valueOf reads the value at doc[pos] as a JSONValue; absent for -1.
func valueOf(doc []byte, pos int) JSONValue {
	if pos < 0 {
		return JSONValue{Kind: JSONAbsent}
	}
	switch c := doc[pos]; {
	case c == '"':
		end := skipString(doc, pos)
		return JSONValue{Kind: JSONString, Text: decodeString(doc[pos+1 : end-1])}
	case c == '{':
		return JSONValue{Kind: JSONObject}
	case c == '[':
		return JSONValue{Kind: JSONArray}
	case c == 't':
		return JSONValue{Kind: JSONBool, Text: "true"}
	case c == 'f':
		return JSONValue{Kind: JSONBool, Text: "false"}
	case c == 'n':
		return JSONValue{Kind: JSONNull}
	}
	v, _ := strconv.ParseFloat(string(doc[pos:skipValue(doc, pos)]), 64)
	if v == 0 {
		v = 0 // -0 is 0
	}
	return JSONValue{Kind: JSONNumber, Text: strconv.FormatFloat(v, 'g', -1, 64)}
}

// decodeString decodes the escapes of a checked string's content.
func decodeString(raw []byte) string {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			b = append(b, raw[i])
			continue
		}
		p := jsonParser{in: raw, pos: i}
		r, _ := p.escape()
		b = utf8.AppendRune(b, r)
		i = p.pos - 1
	}
	return string(b)
}

// jsonParser is a strict RFC 8259 checker that refuses what the readings
// cannot agree on (see the package documentation). It allocates nothing.
type jsonParser struct {
	in  []byte
	pos int
}

func (p *jsonParser) errorf(what string) error {
	return errors.New(what + " at offset " + strconv.Itoa(p.pos))
}

func (p *jsonParser) space() { p.pos = skipSpace(p.in, p.pos) }

func (p *jsonParser) value(depth int) error {
	if p.pos >= len(p.in) {
		return p.errorf("the document ends where a value should be")
	}
	switch c := p.in[p.pos]; {
	case c == '{' || c == '[':
		if depth == MaxJSONDepth {
			return p.errorf("arrays and objects nested deeper than " + strconv.Itoa(MaxJSONDepth) + " levels")
		}
		return p.container(depth+1, c == '{')
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, word := range [...]string{"true", "false", "null"} {
		if len(p.in)-p.pos >= len(word) && string(p.in[p.pos:p.pos+len(word)]) == word {
			p.pos += len(word)
			return nil
		}
	}
	return p.errorf("not a JSON value")
}

// container checks an object (object true) or an array, from its opening
// bracket.
func (p *jsonParser) container(depth int, object bool) error {
	end, what := byte(']'), "an array element"
	if object {
		end, what = '}', "an object member"
	}
	p.pos++
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == end {
		p.pos++
		return nil
	}
	for {
		p.space()
		if object {
			if p.pos >= len(p.in) || p.in[p.pos] != '"' {
				return p.errorf("an object member must start with a string key")
			}
			if err := p.str(); err != nil {
				return err
			}
			p.space()
			if p.pos >= len(p.in) || p.in[p.pos] != ':' {
				return p.errorf("a key must be followed by ':'")
			}
			p.pos++
			p.space()
		}
		if err := p.value(depth); err != nil {
			return err
		}
		p.space()
		if p.pos < len(p.in) && p.in[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.in) && p.in[p.pos] == end {
			p.pos++
			return nil
		}
		return p.errorf(what + " must be followed by ',' or '" + string(end) + "'")
	}
}

// str checks a string: its escapes and its UTF-8.
func (p *jsonParser) str() error {
	p.pos++ // "
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return nil
		case c < 0x20:
			return p.errorf("a control character in a string")
		case c == '\\':
			if _, err := p.escape(); err != nil {
				return err
			}
		case c < utf8.RuneSelf:
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return p.errorf("invalid UTF-8")
			}
			p.pos += size
		}
	}
	return p.errorf("a string that never ends")
}

// escape reads one escape sequence (p.pos at its '\') and returns the
// character it stands for.
func (p *jsonParser) escape() (rune, error) {
	if p.pos+1 >= len(p.in) {
		return 0, p.errorf("a string that never ends")
	}
	c := p.in[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return 0, p.errorf(`a \u escape without four hex digits`)
		}
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		// A surrogate must be a high one followed by an escaped low one.
		if r < 0xDC00 && p.pos+1 < len(p.in) && p.in[p.pos] == '\\' && p.in[p.pos+1] == 'u' {
			p.pos += 2
			if lo, ok := p.hex4(); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return utf16.DecodeRune(r, lo), nil
			}
		}
		return 0, p.errorf("an escaped lone surrogate")
	}
	return 0, p.errorf("an unknown escape")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.pos+4 > len(p.in) {
		return 0, false
	}
	var r rune
	for _, c := range p.in[p.pos : p.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

// number checks a number by RFC 8259's grammar and that a float64 holds
// it.
func (p *jsonParser) number() error {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.in[p.pos] == '-' {
		p.pos++
	}
	intDigits := 1
	if p.pos < len(p.in) && p.in[p.pos] == '0' {
		p.pos++
	} else if intDigits = digits(); intDigits == 0 {
		return p.errorf("a number without digits")
	}
	integer := true
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		p.pos++
		integer = false
		if digits() == 0 {
			return p.errorf("a number without digits after '.'")
		}
	}
	exponent := false
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		p.pos++
		integer, exponent = false, true
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return p.errorf("a number without digits in its exponent")
		}
	}
	switch {
	case integer && intDigits >= 16:
		// 2^53 has 16 digits: a longer integer, or one as long and larger,
		// is beyond what every parser reads alike.
		if i, err := strconv.ParseInt(string(p.in[start:p.pos]), 10, 64); err != nil || i > maxExactInteger || i < -maxExactInteger {
			return p.errorf("an integer beyond ±2^53, which parsers read differently")
		}
	case exponent || intDigits > 300:
		if _, err := strconv.ParseFloat(string(p.in[start:p.pos]), 64); err != nil {
			return p.errorf("a number beyond what a float64 holds")
		}
	}
	return nil
}
