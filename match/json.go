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

// JSONBody is a body parsed for its readings. The zero value is an
// unreadable body.
type JSONBody struct {
	root *jsonNode
}

// jsonNode is a parsed value. An object keeps every member in order,
// duplicates included: the readings choose among them.
type jsonNode struct {
	kind JSONKind
	text string
	keys []string    // an object's member keys, decoded
	vals []*jsonNode // an object's member values, or an array's elements
}

// ParseJSON parses a whole body. The result is unreadable (Readable is
// false) if the body cannot be read safely; err then says why.
func ParseJSON(body []byte) (JSONBody, error) {
	p := jsonParser{in: body}
	if len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF {
		return JSONBody{}, errors.New("starts with a byte order mark")
	}
	p.space()
	root, err := p.value(0)
	if err != nil {
		return JSONBody{}, err
	}
	p.space()
	if p.pos != len(p.in) {
		return JSONBody{}, p.errorf("data after the JSON value")
	}
	return JSONBody{root: root}, nil
}

// Readable reports whether the body could be read safely.
func (j JSONBody) Readable() bool { return j.root != nil }

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
	if j.root == nil {
		return nil, false
	}
	var out [readings]JSONValue
	n := 0
	for way := readFirst; way < readings; way++ {
		v := j.root.walk(path, way)
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

// walk follows path from n as the reading way does.
func (n *jsonNode) walk(path []string, way int) JSONValue {
	for _, name := range path {
		switch n.kind {
		case JSONObject:
			n = n.member(name, way)
		case JSONArray:
			n = n.element(name)
		default:
			n = nil
		}
		if n == nil {
			return JSONValue{Kind: JSONAbsent}
		}
	}
	return JSONValue{Kind: n.kind, Text: n.text}
}

// member is the value of the object member called name, as the reading
// way chooses it; nil if there is none.
func (n *jsonNode) member(name string, way int) *jsonNode {
	var found *jsonNode
	for i, k := range n.keys {
		if k == name || way == readFolded && strings.EqualFold(k, name) {
			if way == readFirst {
				return n.vals[i]
			}
			found = n.vals[i]
		}
	}
	return found
}

// element is the array element at index name; nil if name is not an index
// of the array.
func (n *jsonNode) element(name string) *jsonNode {
	if name == "" || len(name) > 9 || name[0] == '0' && len(name) > 1 {
		return nil
	}
	i := 0
	for _, c := range []byte(name) {
		if c < '0' || c > '9' {
			return nil
		}
		i = i*10 + int(c-'0')
	}
	if i >= len(n.vals) {
		return nil
	}
	return n.vals[i]
}

// jsonParser is a strict RFC 8259 parser that refuses what the readings
// cannot agree on (see above).
type jsonParser struct {
	in  []byte
	pos int
}

func (p *jsonParser) errorf(what string) error {
	return errors.New(what + " at offset " + strconv.Itoa(p.pos))
}

func (p *jsonParser) space() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (*jsonNode, error) {
	if p.pos >= len(p.in) {
		return nil, p.errorf("the document ends where a value should be")
	}
	switch c := p.in[p.pos]; {
	case c == '{' || c == '[':
		if depth == MaxJSONDepth {
			return nil, p.errorf("arrays and objects nested deeper than " + strconv.Itoa(MaxJSONDepth) + " levels")
		}
		if c == '{' {
			return p.object(depth + 1)
		}
		return p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &jsonNode{kind: JSONString, text: s}, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range [...]struct {
		word string
		node jsonNode
	}{{"true", jsonNode{kind: JSONBool, text: "true"}}, {"false", jsonNode{kind: JSONBool, text: "false"}}, {"null", jsonNode{kind: JSONNull}}} {
		if strings.HasPrefix(string(p.in[p.pos:min(len(p.in), p.pos+len(lit.word))]), lit.word) {
			p.pos += len(lit.word)
			n := lit.node
			return &n, nil
		}
	}
	return nil, p.errorf("not a JSON value")
}

func (p *jsonParser) object(depth int) (*jsonNode, error) {
	n := &jsonNode{kind: JSONObject}
	p.pos++ // {
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		return n, nil
	}
	for {
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return nil, p.errorf("an object member must start with a string key")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return nil, p.errorf("a key must be followed by ':'")
		}
		p.pos++
		p.space()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		n.keys, n.vals = append(n.keys, k), append(n.vals, v)
		p.space()
		if p.pos < len(p.in) && p.in[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.in) && p.in[p.pos] == '}' {
			p.pos++
			return n, nil
		}
		return nil, p.errorf("an object member must be followed by ',' or '}'")
	}
}

func (p *jsonParser) array(depth int) (*jsonNode, error) {
	n := &jsonNode{kind: JSONArray}
	p.pos++ // [
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		return n, nil
	}
	for {
		p.space()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		n.vals = append(n.vals, v)
		p.space()
		if p.pos < len(p.in) && p.in[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.in) && p.in[p.pos] == ']' {
			p.pos++
			return n, nil
		}
		return nil, p.errorf("an array element must be followed by ',' or ']'")
	}
}

// str reads a string, decoding its escapes.
func (p *jsonParser) str() (string, error) {
	p.pos++ // "
	start := p.pos
	var b []byte // the decoded text, once an escape makes it differ
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		switch {
		case c == '"':
			s := p.in[start:p.pos]
			p.pos++
			if b != nil {
				return string(b), nil
			}
			return string(s), nil
		case c < 0x20:
			return "", p.errorf("a control character in a string")
		case c == '\\':
			if b == nil {
				b = append([]byte(nil), p.in[start:p.pos]...)
			}
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, r)
		case c < utf8.RuneSelf:
			if b != nil {
				b = append(b, c)
			}
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.errorf("invalid UTF-8")
			}
			if b != nil {
				b = append(b, p.in[p.pos:p.pos+size]...)
			}
			p.pos += size
		}
	}
	return "", p.errorf("a string that never ends")
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

// number reads a number by RFC 8259's grammar and keeps its value.
func (p *jsonParser) number() (*jsonNode, error) {
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
	if p.pos < len(p.in) && p.in[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.errorf("a number without digits")
	}
	integer := true
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		p.pos++
		integer = false
		if digits() == 0 {
			return nil, p.errorf("a number without digits after '.'")
		}
	}
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		p.pos++
		integer = false
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("a number without digits in its exponent")
		}
	}
	text := string(p.in[start:p.pos])
	v, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || v > 1.7976931348623157e308 || v < -1.7976931348623157e308 {
		return nil, p.errorf("a number beyond what a float64 holds")
	}
	if i, err := strconv.ParseInt(text, 10, 64); integer && (err != nil || i > maxExactInteger || i < -maxExactInteger) {
		return nil, p.errorf("an integer beyond ±2^53, which parsers read differently")
	}
	return &jsonNode{kind: JSONNumber, text: strconv.FormatFloat(v, 'g', -1, 64)}, nil
}
