package match

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/wasmpolicy/policy/internal/query"
)

// How a path is read is told in the package documentation (doc.go); this
// file does it. A path is scanned once, to check it and to learn which
// choices it gives a meaning to; then each reading is written in one pass
// over the path into one buffer that all the readings of the request share,
// with dot segments removed as they end. The work is linear in the path's
// length times the number of its readings (at most maxReadings), and a
// request allocates once for all of them, or not at all when the path is
// plain.

// maxReadings bounds the strict readings of one path: three choices, two
// ways. Each has a loose form beside it.
const maxReadings = 8

// NormalizePath returns the normal form of a request path (with or without
// its query): its strict reading that resolves the most, with ";"
// parameters removed, "\", "%2F" and "%5C" taken as separators and empty
// segments dropped. ok is false if the path cannot be read safely.
// Normalizing a normal form returns it unchanged. The normal form keeps a
// trailing "/" and the trailing dots of a segment: patterns are written in
// normal form, and "/api/" is a prefix of its own.
//
//	match.NormalizePath("/a/./b/../c//d;x?q=1") // "/a/c/d", true
//	match.NormalizePath("/%61dmin/..%2Fx")       // "/x", true
//	match.NormalizePath("/a%00")                 // "", false
func NormalizePath(path string) (normal string, ok bool) {
	var p paths
	if !p.read(path) {
		return "", false
	}
	return p.strict[0], true
}

// paths are the readings of one request path.
type paths struct {
	// strict are the distinct strict readings, the normal form first;
	// loose[i] is strict[i] read loosely.
	strict, loose []string
}

// read sets p to the readings of path, reusing p's slices; it reports
// whether the path can be read safely.
func (p *paths) read(path string) bool {
	p.strict, p.loose = p.strict[:0], p.loose[:0]
	path = cutQuery(path)
	sc, ok := scanPath(path)
	if !ok {
		return false
	}
	var buf []byte
	var spanBuf [2 * maxReadings]span
	spans := spanBuf[:0]
	if sc.plain {
		spans = append(spans, span{str: path})
	} else {
		// Every reading fits in sc.size bytes, and so does its loose form.
		n := 1
		for _, b := range [...]bool{sc.has.strip, sc.has.split, sc.has.merge} {
			if b {
				n *= 2
			}
		}
		buf = make([]byte, 0, 2*n*sc.size)
		for i := maxReadings - 1; i >= 0; i-- {
			rd := reading{strip: i&1 != 0, split: i&2 != 0, merge: i&4 != 0}
			if rd.strip && !sc.has.strip || rd.split && !sc.has.split || rd.merge && !sc.has.merge {
				continue
			}
			start := len(buf)
			buf = render(buf, path, rd)
			s := span{start: start, end: len(buf), inBuf: true}
			if s.in(buf, spans) {
				buf = buf[:start]
				continue
			}
			spans = append(spans, s)
		}
	}
	strict := len(spans)
	for i := 0; i < strict; i++ {
		var l span
		var ok bool
		if buf, l, ok = loosen(buf, spans[i]); !ok {
			return false
		}
		spans = append(spans, l)
	}
	// buf is complete and never written again: its readings can be strings
	// without a copy.
	var all string
	if len(buf) > 0 {
		all = unsafe.String(unsafe.SliceData(buf), len(buf))
	}
	for i, s := range spans {
		v := s.str
		if s.inBuf {
			v = all[s.start:s.end]
		}
		if i < strict {
			p.strict = append(p.strict, v)
		} else {
			p.loose = append(p.loose, v)
		}
	}
	return true
}

// span is a reading: buf[start:end] of the buffer the readings are written
// in if inBuf, else str.
type span struct {
	str        string
	start, end int
	inBuf      bool
}

// text is s's text. It shares buf's memory: the bytes of a reading are not
// written again once it is complete, so the view stays valid.
func (s span) text(buf []byte) string {
	if !s.inBuf {
		return s.str
	}
	if s.end == s.start {
		return ""
	}
	return unsafe.String(&buf[s.start], s.end-s.start)
}

// first is s's first n bytes.
func (s span) first(n int) span {
	if s.inBuf {
		s.end = s.start + n
	} else {
		s.str = s.str[:n]
	}
	return s
}

// in reports whether s's text is that of one of spans.
func (s span) in(buf []byte, spans []span) bool {
	for _, o := range spans {
		if o.text(buf) == s.text(buf) {
			return true
		}
	}
	return false
}

func cutQuery(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i]
	}
	return path
}

// scan is what one pass over a path finds.
type scan struct {
	has   reading // the choices the path gives a meaning to
	plain bool    // the path is its own only strict reading
	size  int     // a bound on the length of any reading
}

// scanPath checks path (without its query) and finds which choices it
// gives a meaning to; ok is false if it cannot be read safely.
func scanPath(path string) (sc scan, ok bool) {
	if path == "" || path[0] != '/' {
		return sc, false
	}
	sc.plain, sc.size = true, len(path)
	prevSep := true // the previous token ended a segment (the leading "/" did)
	seg := 1        // where the current segment starts
	for i := 1; i <= len(path); {
		if i == len(path) || path[i] == '/' {
			if s := path[seg:i]; s == "." || s == ".." || s == "" && i < len(path) {
				sc.plain = false
			}
			if i == len(path) {
				break
			}
		}
		t, next, ok := token(path, i)
		if !ok {
			return sc, false
		}
		if t.kind != tokText && t.kind != tokSlash || t.enc || next-i > 1 {
			sc.plain = false
		}
		if t.enc && next-i == 1 {
			sc.size += 2 // written percent-encoded
		}
		switch t.kind {
		case tokAmbiguous:
			sc.has.split = true
		case tokParam:
			sc.has.strip = true
		}
		sep := t.kind == tokSlash || t.kind == tokAmbiguous
		if prevSep && (sep || t.kind == tokParam) {
			sc.has.merge = true // an empty segment, in some reading
		}
		prevSep = sep
		if t.kind == tokSlash {
			seg = next
		}
		i = next
	}
	return sc, true
}

type tokKind uint8

const (
	tokText      tokKind = iota // text
	tokSlash                    // "/"
	tokAmbiguous                // "\", "%2F", "%5C": a separator or text
	tokParam                    // ";", "%3B": a parameter's start or text
)

// tok is one character of a path, decoded: c, written as it is or, if enc,
// percent-encoded with upper-case hex digits.
type tok struct {
	kind tokKind
	c    byte
	enc  bool
}

// token reads the character at path[i] and returns it with the index after
// it; ok is false if the path cannot be read safely there.
func token(path string, i int) (t tok, next int, ok bool) {
	c := path[i]
	switch {
	case c == '/':
		return tok{kind: tokSlash, c: c}, i + 1, true
	case c == '\\':
		return tok{kind: tokAmbiguous, c: c, enc: true}, i + 1, true
	case c == ';':
		return tok{kind: tokParam, c: c}, i + 1, true
	case c == '%':
		if i+2 >= len(path) || unhex(path[i+1]) < 0 || unhex(path[i+2]) < 0 {
			return t, 0, false
		}
		d := byte(unhex(path[i+1])<<4 | unhex(path[i+2]))
		switch {
		case d < 0x20 || d == 0x7f:
			return t, 0, false
		case d == '/' || d == '\\':
			return tok{kind: tokAmbiguous, c: d, enc: true}, i + 3, true
		case d == ';':
			return tok{kind: tokParam, c: d, enc: true}, i + 3, true
		}
		return tok{c: d, enc: !unreserved(d)}, i + 3, true
	case c <= ' ' || c == 0x7f || c == '#':
		return t, 0, false
	}
	// '"', '<', '>', '^', '`', '{', '|', '}' and non-ASCII bytes are
	// written encoded.
	return tok{c: c, enc: !pathChar(c)}, i + 1, true
}

// pathChar reports whether c may appear in a path segment as it is:
// unreserved characters, sub-delimiters, ':' and '@' (RFC 3986, pchar).
func pathChar(c byte) bool {
	return unreserved(c) || strings.IndexByte("!$&'()*+,;=:@", c) >= 0
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func unhex(c byte) int { return query.Unhex(c) }

const hexDigits = "0123456789ABCDEF"

// reading is one way of reading a path strictly.
type reading struct {
	strip bool // ";" starts a parameter, removed up to the segment's end
	split bool // "\", "%2F" and "%5C" separate segments
	merge bool // empty segments are dropped
}

// render appends path (scanned: it can be read safely) as rd reads it to
// buf, normalized: decoded and encoded as the package documentation says,
// with its dot segments removed as RFC 3986 (section 5.2.4) says.
func render(buf []byte, path string, rd reading) []byte {
	root := len(buf)
	buf = append(buf, '/')
	seg := len(buf) // where the current segment starts in buf
	inParam := false
	for i := 1; ; {
		last := i == len(path)
		var t tok
		if !last {
			t, i, _ = token(path, i)
		}
		switch {
		case last, t.kind == tokSlash, t.kind == tokAmbiguous && rd.split:
			buf, seg = endSegment(buf, root, seg, rd.merge, last)
			if last {
				return buf
			}
			inParam = false
		case t.kind == tokParam && rd.strip:
			inParam = true
		case inParam:
		case t.enc:
			buf = append(buf, '%', hexDigits[t.c>>4], hexDigits[t.c&15])
		default:
			buf = append(buf, t.c)
		}
	}
}

// endSegment ends the segment buf[seg:] of the path written from root:
// it drops a "." segment, and a ".." segment with the one before it, and an
// empty segment if merge (unless last); otherwise it keeps it, followed by
// "/" unless last. It returns buf and where the next segment starts.
func endSegment(buf []byte, root, seg int, merge, last bool) ([]byte, int) {
	s := buf[seg:]
	switch {
	case len(s) == 0 && merge && !last:
		return buf, seg
	case len(s) == 1 && s[0] == '.':
		return buf[:seg], seg // "/a/." is "/a/"
	case len(s) == 2 && s[0] == '.' && s[1] == '.':
		buf = buf[:seg-1]
		if j := lastSlash(buf, root); j >= 0 {
			buf = buf[:j]
		}
		buf = append(buf, '/') // "/a/b/.." is "/a/"; "/.." is "/"
		return buf, len(buf)
	}
	if !last {
		buf = append(buf, '/')
	}
	return buf, len(buf)
}

// lastSlash is the index of the last "/" of buf at or after root, or -1.
func lastSlash(buf []byte, root int) int {
	for j := len(buf) - 1; j >= root; j-- {
		if buf[j] == '/' {
			return j
		}
	}
	return -1
}

// loosen appends to buf the loose form of the strict reading s and returns
// it: every segment without its trailing dots and spaces ("%20"), the
// segments that are then empty dropped, and no trailing "/" (the root
// aside). ok is false if a segment is made of dots and spaces alone without
// being "." or "..", which backends that trim segments read in different
// ways ("..." or "..%20"). A reading with nothing to trim is its own loose
// form, or that without its trailing "/": nothing is written then.
func loosen(buf []byte, s span) ([]byte, span, bool) {
	text := s.text(buf)
	trim, ok := needsTrim(text)
	switch {
	case !ok:
		return buf, span{}, false
	case !trim && len(text) > 1 && text[len(text)-1] == '/':
		return buf, s.first(len(text) - 1), true
	case !trim:
		return buf, s, true
	}
	buf = slices.Grow(buf, len(text)) // text is the longest it can be
	start := len(buf)
	buf = append(buf, '/')
	seg := 1 // where the current segment starts in text
	for i := 1; i <= len(text); i++ {
		if i < len(text) && text[i] != '/' {
			continue
		}
		if body := trimSegment(text[seg:i]); body != "" {
			if len(buf) > start+1 {
				buf = append(buf, '/')
			}
			buf = append(buf, body...)
		}
		seg = i + 1
	}
	return buf, span{start: start, end: len(buf), inBuf: true}, true
}

// trimSegment is seg without its trailing dots and "%20".
func trimSegment(seg string) string {
	for {
		switch {
		case strings.HasSuffix(seg, "."):
			seg = seg[:len(seg)-1]
		case strings.HasSuffix(seg, "%20"):
			seg = seg[:len(seg)-3]
		default:
			return seg
		}
	}
}

// needsTrim reports whether a segment of the strict reading s ends with a
// dot or "%20", or is empty and not the last; ok is false if a segment is
// made of dots and spaces alone (s has no "." or ".." segment: they were
// removed).
func needsTrim(s string) (trim, ok bool) {
	seg := 1
	for i := 1; i <= len(s); i++ {
		if i < len(s) && s[i] != '/' {
			continue
		}
		body := s[seg:i]
		switch {
		case body == "":
			trim = trim || i < len(s)
		case body[len(body)-1] == '.' || strings.HasSuffix(body, "%20"):
			trim = true
			if onlyDotsAndSpaces(body) && strings.IndexByte(body, '.') >= 0 {
				return trim, false
			}
		}
		seg = i + 1
	}
	return trim, true
}

func onlyDotsAndSpaces(s string) bool {
	for len(s) > 0 {
		switch {
		case s[0] == '.':
			s = s[1:]
		case strings.HasPrefix(s, "%20"):
			s = s[3:]
		default:
			return false
		}
	}
	return true
}

// resolves reports whether normalizing path does more than decode,
// re-encode or merge slashes: it has a parameter, or a dot segment in some
// reading.
func resolves(path string) bool {
	path = cutQuery(path)
	var seg []byte
	for i := 1; i <= len(path); {
		if i < len(path) {
			t, next, ok := token(path, i)
			if !ok {
				return false
			}
			i = next
			if t.kind == tokParam {
				return true
			}
			if t.kind == tokText {
				seg = append(seg, t.c)
				continue
			}
		} else {
			i++
		}
		// A separator in some reading, or the end.
		if s := string(seg); s == "." || s == ".." {
			return true
		}
		seg = seg[:0]
	}
	return false
}
