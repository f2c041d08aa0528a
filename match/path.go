package match

import (
	"strings"
	"unsafe"

	"github.com/wasmpolicy/policy/internal/query"
)

// How a path is read is told in the package documentation (doc.go); this
// file does it, in time linear in the path's length. One pass over the path
// (prepare) checks it, writes it with each character normalized (decoded,
// or encoded as the normal form writes it) and notes its events: the places
// where readings differ. They are a parameter; a "\", "%2F" or "%5C"; and
// the end of a segment that has one of those, or is empty, a dot segment,
// or ends with a dot or a space. A path with more than maxEvents events
// cannot be read safely, which bounds the work of every reading: each copies
// the normalized path from one event to the next, and decides at the event.
// A plain path (no event, nothing to normalize) is its own only reading and
// allocates nothing; another allocates one buffer for all its readings, and
// one for its normalized text if that differs from the path, and one for
// its loose forms if they differ from the readings by more than a
// trailing "/".

const (
	// maxReadings bounds the strict readings of one path: three choices,
	// two ways. Each has a loose form beside it.
	maxReadings = 8
	// maxEvents bounds the events of a path that can be read: a path with
	// more places that backends read in different ways is no request a
	// client sends in good faith, and each of them costs every reading.
	maxEvents = 64
)

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
	events        []event // room for the events, kept from one path to the next
}

// read sets p to the readings of path, reusing p's slices; it reports
// whether the path can be read safely.
func (p *paths) read(path string) bool {
	path = cutQuery(path)
	p.strict, p.loose = p.strict[:0], p.loose[:0]
	if plain(path) {
		p.setPlain(path)
		return true
	}
	pr := prepared{events: p.events[:0]}
	ok := pr.prepare(path)
	p.events = pr.events[:0]
	return ok && p.readAll(&pr)
}

// setPlain sets p to the readings of a path that is its own only reading:
// it, and without a trailing "/" its loose form.
func (p *paths) setPlain(path string) {
	p.strict = append(p.strict, path)
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	p.loose = append(p.loose, path)
}

// plain reports whether path is its own only reading, written as the
// normal form writes it: bytes that need no decoding or encoding, no
// parameter or other separator than "/", no empty segment (but a last
// one), and no segment that ends with a dot (".", ".." among them). It is
// the quick test most paths pass; prepare also finds plain a path with
// percent-encodings written as the normal form writes them ("%E4").
func plain(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	seg := 1 // where the current segment starts
	for i := 1; i < len(path); i++ {
		c := path[i]
		if c == '/' {
			if i == seg || path[i-1] == '.' {
				return false
			}
			seg = i + 1
			continue
		}
		if classes[c] != classPlain {
			return false
		}
	}
	return path[len(path)-1] != '.'
}

// readAll sets p to the readings of the prepared path pr, which is not
// plain. (A function of its own: its frame, with room for every reading,
// is no cost to a plain path.)
func (p *paths) readAll(pr *prepared) bool {
	if pr.plain { // percent-encodings already as the normal form writes them
		p.setPlain(pr.norm)
		return true
	}
	var outs [maxReadings]output
	n := 0
	for i := maxReadings - 1; i >= 0; i-- {
		rd := reading{strip: i&1 != 0, split: i&2 != 0, merge: i&4 != 0}
		if rd.strip && !pr.has.strip || rd.split && !pr.has.split || rd.merge && !pr.merges[b2i(rd.strip)][b2i(rd.split)] {
			continue
		}
		outs[n].rd = rd
		n++
	}
	// Every reading, and every loose form, fits in len(pr.norm) bytes:
	// reading only removes or resolves what the normalized path has.
	size := len(pr.norm)
	buf := make([]byte, n*size)
	var kept [maxReadings]int // the outputs of distinct readings
	strict, trimmed := 0, 0
	for k := range outs[:n] {
		o := &outs[k]
		o.w = buf[k*size : (k+1)*size]
		if !pr.render(o) {
			return false
		}
		dup := false
		for _, j := range kept[:strict] {
			dup = dup || string(outs[j].w[:outs[j].n]) == string(o.w[:o.n])
		}
		if !dup {
			kept[strict] = k
			strict++
			if o.trims > 0 {
				trimmed++
			}
		}
	}
	// The loose forms that differ from their readings by more than a
	// trailing "/" are written in a buffer of their own. Both buffers are
	// then complete, and never written again: the readings can be strings
	// without a copy.
	var lbuf []byte
	if trimmed > 0 {
		lbuf = make([]byte, 0, trimmed*size)
	}
	var looseAt [maxReadings][2]int
	for i, k := range kept[:strict] {
		if outs[k].trims > 0 {
			start := len(lbuf)
			lbuf = lbuf[:start+size]
			lbuf = lbuf[:start+outs[k].loosen(lbuf[start:])]
			looseAt[i] = [2]int{start, len(lbuf)}
		}
	}
	all := unsafe.String(unsafe.SliceData(buf), len(buf))
	var lall string
	if len(lbuf) > 0 {
		lall = unsafe.String(unsafe.SliceData(lbuf), len(lbuf))
	}
	for i, k := range kept[:strict] {
		reading := all[k*size : k*size+outs[k].n]
		loose := reading
		switch {
		case outs[k].trims > 0:
			loose = lall[looseAt[i][0]:looseAt[i][1]]
		case len(loose) > 1 && loose[len(loose)-1] == '/':
			loose = loose[:len(loose)-1]
		}
		p.strict, p.loose = append(p.strict, reading), append(p.loose, loose)
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cutQuery(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i]
	}
	return path
}

// event is a place where the readings of a path differ: a separator
// ("\", "%2F", "%5C"), a parameter (";", "%3B"), or a "/" that ends a
// segment to look at in every reading (tokSlash). pos is where its token
// starts in the normalized path, width its length there.
type event struct {
	pos   int32
	kind  tokKind
	width int8
}

// prepared is a path after one pass: its normalized text and its events.
type prepared struct {
	// norm is the path with each character normalized (the path itself
	// when that changes nothing): decoded if unreserved, encoded with
	// upper-case hex digits otherwise, "\" written "%5C".
	norm   string
	events []event
	has    reading // the choices the path gives a meaning to
	// merges[strip][split] is whether some segment is empty when the path
	// is read with those choices: only then is dropping empty segments a
	// reading of its own.
	merges [2][2]bool
	plain  bool // the path is its own only reading
}

// prepare reads path (without its query) into pr; it reports whether the
// path can be read safely.
func (pr *prepared) prepare(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	var nb []byte    // norm, once it differs from path
	changed := false // nb holds norm
	// The segment being read: its characters (not counting separators and
	// parameter starts), whether it has a separator or parameter, and
	// whether its last character is a dot or a space.
	chars, choice, trailing := 0, false, false
	// The previous token ended a segment, read without splitting at "\",
	// "%2F" and "%5C" (afterRaw) or with it (afterSplit); the leading "/"
	// did.
	afterRaw, afterSplit := true, true
	for i := 1; i < len(path); {
		c := path[i]
		switch classes[c] {
		case classPlain:
			j := i + 1
			for j < len(path) && classes[path[j]] == classPlain {
				j++
			}
			if changed {
				nb = append(nb, path[i:j]...)
			}
			chars, trailing = chars+j-i, path[j-1] == '.'
			afterRaw, afterSplit = false, false
			i = j
			continue
		case classBad:
			return false
		case classEncoded:
			if !changed {
				nb, changed = startNorm(path, i), true
			}
			nb = append(nb, '%', hexDigits[c>>4], hexDigits[c&15])
			chars, trailing = chars+1, false
			afterRaw, afterSplit = false, false
			i++
			continue
		}
		if c == '%' {
			// A run of escapes of text, the commonest escapes, written
			// here rather than token by token below.
			j := i
			for j+2 < len(path) && path[j] == '%' {
				hi, lo := hexValue[path[j+1]], hexValue[path[j+2]]
				d := byte(hi<<4 | lo)
				if hi < 0 || lo < 0 || d < 0x20 || d == 0x7f || d == '/' || d == '\\' || d == ';' {
					break
				}
				decode := unreserved[d]
				if !changed && (decode || path[j+1] != hexDigits[hi] || path[j+2] != hexDigits[lo]) {
					nb, changed = startNorm(path, j), true
				}
				switch {
				case !changed:
				case decode:
					nb = append(nb, d)
				default:
					nb = append(nb, '%', hexDigits[hi], hexDigits[lo])
				}
				chars, trailing = chars+1, d == '.' || d == ' '
				j += 3
			}
			if j > i {
				afterRaw, afterSplit, i = false, false, j
				continue
			}
		}
		if c == '/' {
			if chars == 0 || choice || trailing {
				if !pr.event(pos(nb, changed, i), tokSlash, 1) {
					return false
				}
			}
			if changed {
				nb = append(nb, '/')
			}
			if afterRaw {
				pr.merges[0][0], pr.merges[1][0] = true, true
			}
			if afterSplit {
				pr.merges[0][1], pr.merges[1][1] = true, true
			}
			chars, choice, trailing = 0, false, false
			afterRaw, afterSplit = true, true
			i++
			continue
		}
		// "\", ";", or an escape the loop above left: one of "/", "\" or
		// ";", which separate segments or start a parameter in some
		// readings (anything else cannot be read). d is what it stands
		// for; the normal form writes a raw ";" as it is, the others
		// percent-encoded with upper-case hex digits.
		d, kind, width := c, tokAmbiguous, 1
		if c == ';' {
			kind = tokParam
		}
		if c == '%' {
			if i+2 >= len(path) {
				return false
			}
			hi, lo := hexValue[path[i+1]], hexValue[path[i+2]]
			if hi < 0 || lo < 0 {
				return false
			}
			d, width = byte(hi<<4|lo), 3
			switch d {
			case '/', '\\':
			case ';':
				kind = tokParam
			default:
				return false // a control character
			}
		}
		enc := c != ';'
		same := !enc || width == 3 && path[i+1] == hexDigits[d>>4] && path[i+2] == hexDigits[d&15]
		if !same && !changed {
			nb, changed = startNorm(path, i), true
		}
		at, written := pos(nb, changed, i), int8(1)
		if enc {
			written = 3
		}
		if changed {
			if enc {
				nb = append(nb, '%', hexDigits[d>>4], hexDigits[d&15])
			} else {
				nb = append(nb, d)
			}
		}
		if !pr.event(at, kind, written) {
			return false
		}
		choice = true
		if kind == tokAmbiguous {
			pr.has.split = true
			if afterSplit {
				pr.merges[0][1], pr.merges[1][1] = true, true
			}
			afterRaw, afterSplit = false, true
		} else {
			pr.has.strip = true
			// A parameter right after a separator empties its segment
			// when parameters are stripped.
			pr.merges[1][0] = pr.merges[1][0] || afterRaw
			pr.merges[1][1] = pr.merges[1][1] || afterSplit
			afterRaw, afterSplit = false, false
		}
		i += width
	}
	end := choice || trailing // the last segment is one every reading looks at
	pr.has.merge = pr.merges != [2][2]bool{}
	pr.norm = path
	if changed {
		pr.norm = unsafe.String(unsafe.SliceData(nb), len(nb))
	}
	pr.plain = !changed && len(pr.events) == 0 && !end
	return true
}

// startNorm starts the normalized path with what path has before i, which
// needed no change.
func startNorm(path string, i int) []byte {
	nb := make([]byte, i, len(path)+64)
	copy(nb, path[:i])
	return nb
}

// pos is where the next character goes in the normalized path: i while it
// is the path itself.
func pos(nb []byte, changed bool, i int) int32 {
	if changed {
		return int32(len(nb))
	}
	return int32(i)
}

// event notes an event; it reports false if there are too many.
func (pr *prepared) event(at int32, kind tokKind, width int8) bool {
	if len(pr.events) == maxEvents {
		return false
	}
	pr.events = append(pr.events, event{pos: at, kind: kind, width: width})
	return true
}

// The classes of a path's bytes.
const (
	classPlain   = iota // written as it is, and not special: unreserved, sub-delimiters but ";", and ":", "@"
	classEncoded        // written percent-encoded: '"', '<', '>', '^', '`', '{', '|', '}' and non-ASCII bytes
	classBad            // a path with it cannot be read safely: controls, space, '#', DEL
	classSpecial        // "/", "\\", ";", "%"
)

// Tables of the bytes, for the loops over a path: in a Wasm module a
// lookup costs less than a comparison chain or a call.
var (
	classes    [256]uint8
	unreserved [256]bool // letters, digits, "-", ".", "_", "~": decoded when percent-encoded
	hexValue   [256]int8 // the value of a hex digit, -1 for other bytes
)

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		unreserved[c] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			b == '-' || b == '.' || b == '_' || b == '~'
		hexValue[c] = int8(query.Unhex(b))
		switch {
		case b == '/' || b == '\\' || b == ';' || b == '%':
			classes[c] = classSpecial
		case b <= ' ' || b == 0x7f || b == '#':
			classes[c] = classBad
		case unreserved[c] || strings.IndexByte("!$&'()*+,=:@", b) >= 0:
			classes[c] = classPlain
		default:
			classes[c] = classEncoded
		}
	}
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
	switch classes[c] {
	case classPlain:
		return tok{c: c}, i + 1, true
	case classEncoded:
		return tok{c: c, enc: true}, i + 1, true
	case classBad:
		return t, 0, false
	}
	switch c {
	case '/':
		return tok{kind: tokSlash, c: c}, i + 1, true
	case '\\':
		return tok{kind: tokAmbiguous, c: c, enc: true}, i + 1, true
	case ';':
		return tok{kind: tokParam, c: c}, i + 1, true
	}
	// '%'
	if i+2 >= len(path) || hexValue[path[i+1]] < 0 || hexValue[path[i+2]] < 0 {
		return t, 0, false
	}
	d := byte(hexValue[path[i+1]]<<4 | hexValue[path[i+2]])
	switch {
	case d < 0x20 || d == 0x7f:
		return t, 0, false
	case d == '/' || d == '\\':
		return tok{kind: tokAmbiguous, c: d, enc: true}, i + 3, true
	case d == ';':
		return tok{kind: tokParam, c: d, enc: true}, i + 3, true
	}
	return tok{c: d, enc: !unreserved[d]}, i + 3, true
}

func unhex(c byte) int { return int(hexValue[c]) }

const hexDigits = "0123456789ABCDEF"

// reading is one way of reading a path strictly.
type reading struct {
	strip bool // ";" starts a parameter, removed up to the segment's end
	split bool // "\", "%2F" and "%5C" separate segments
	merge bool // empty segments are dropped
}

// output is one reading being written: rd's choices, the region w it is
// written in, its length n, and the segments its loose form changes (trim:
// empty ones and those that end with a dot or a space, as [start, end) in
// w).
type output struct {
	rd    reading
	w     []byte
	n     int
	trim  [maxEvents + 1][2]int32
	trims int
}

// render writes the path as o.rd reads it into o.w, normalized, its dot
// segments removed as RFC 3986 (section 5.2.4) says: it copies the
// normalized path from one event to the next, and decides at each event. It
// reports false if a segment of the reading is made of dots and spaces
// alone (see dotsAndSpaces).
func (pr *prepared) render(o *output) bool {
	norm, w := pr.norm, o.w
	w[0] = '/'
	n, seg := 1, 1 // the reading's length, where its current segment starts
	next := 1      // the first byte of norm not yet read
	inParam := false
	for k := 0; ; k++ {
		last := k == len(pr.events)
		stop := len(norm)
		var ev event
		if !last {
			ev = pr.events[k]
			stop = int(ev.pos)
		}
		// No "/" of the stretch ends a segment with a parameter: such
		// segments end at an event.
		if !inParam && stop > next {
			stretch := norm[next:stop]
			copy(w[n:], stretch)
			if j := strings.LastIndexByte(stretch, '/'); j >= 0 {
				seg = n + j + 1
			}
			n += len(stretch)
		}
		if !last {
			next = stop + int(ev.width)
		}
		switch {
		case last, ev.kind == tokSlash, ev.kind == tokAmbiguous && o.rd.split:
			start, end := seg, n
			var trim, dots bool
			n, seg, trim, dots = endSegment(w, n, seg, o.rd.merge, last)
			if dots {
				return false
			}
			for o.trims > 0 && int(o.trim[o.trims-1][0]) >= n {
				o.trims-- // removed by ".."
			}
			if trim {
				o.trim[o.trims] = [2]int32{int32(start), int32(end)}
				o.trims++
			}
			inParam = false
		case ev.kind == tokParam && o.rd.strip:
			inParam = true
		case inParam:
		default:
			n += copy(w[n:], norm[stop:next])
		}
		if last {
			o.n = n
			return true
		}
	}
}

// loosen writes the loose form of the reading o into out and returns its
// length: every segment without its trailing dots and spaces ("%20"), the
// segments that are then empty dropped, and no trailing "/" (the root
// aside). Only the segments o noted change; the rest is copied.
func (o *output) loosen(out []byte) int {
	s := o.w[:o.n]
	n, next := 0, 0 // out's length; the first byte of s not yet read
	for _, t := range o.trim[:o.trims] {
		start, end := int(t[0]), int(t[1])
		n += copy(out[n:], s[next:start]) // up to the segment, with the "/" before it
		if body := trimSegment(string(s[start:end])); body != "" {
			n += copy(out[n:], body)
			if end < len(s) {
				out[n] = '/'
				n++
			}
		}
		next = min(end+1, len(s)) // after the "/" that ends it
	}
	n += copy(out[n:], s[next:])
	if n > 1 && out[n-1] == '/' {
		n--
	}
	return n
}

// endSegment ends the segment w[seg:n] of a reading written in w: it drops
// a "." segment, and a ".." segment with the one before it, and an empty
// segment if merge (unless last); otherwise it keeps it, followed by "/"
// unless last. It returns the reading's new length, where the next segment
// starts, whether the segment kept is one the loose form trims or drops
// (empty, or ending with a dot or "%20"), and whether the segment is made
// of dots and spaces (see dotsAndSpaces).
func endSegment(w []byte, n, seg int, merge, last bool) (next, start int, trim, dots bool) {
	s := w[seg:n]
	if len(s) > 0 && (s[0] == '.' || s[0] == '%') && dotsAndSpaces(s) {
		return n, seg, false, true
	}
	switch {
	case len(s) == 0 && merge && !last:
		return n, seg, false, false
	case len(s) == 1 && s[0] == '.':
		return seg, seg, false, false // "/a/." is "/a/"
	case len(s) == 2 && s[0] == '.' && s[1] == '.':
		n = seg - 1 // without "/.."
		if j := lastSlash(w[:n]); j >= 0 {
			n = j
		}
		w[n] = '/' // "/a/b/.." is "/a/"; "/.." is "/"
		return n + 1, n + 1, false, false
	}
	trim = len(s) == 0 && !last || len(s) > 0 && s[len(s)-1] == '.' ||
		len(s) >= 3 && s[len(s)-3] == '%' && s[len(s)-2] == '2' && s[len(s)-1] == '0'
	if !last {
		w[n] = '/'
		n++
	}
	return n, n, trim, false
}

// dotsAndSpaces reports whether the segment s is made of dots and spaces
// ("%20") alone, with a dot, without being "." or "..": backends that trim
// segments read it in different ways ("...", "..%20", ". "), so a path
// with one cannot be read safely.
func dotsAndSpaces[T string | []byte](s T) bool {
	dots := 0
	for i := 0; i < len(s); {
		switch {
		case s[i] == '.':
			dots++
			i++
		case i+2 < len(s) && s[i] == '%' && s[i+1] == '2' && s[i+2] == '0':
			i += 3
		default:
			return false
		}
	}
	return dots > 0 && !(dots == len(s) && dots <= 2)
}

// lastSlash is the index of the last "/" of w, or -1.
func lastSlash(w []byte) int {
	for j := len(w) - 1; j >= 0; j-- {
		if w[j] == '/' {
			return j
		}
	}
	return -1
}

// looseForm is the loose form of a path in normal form, a pattern's or a
// reading's (see output.loosen).
func looseForm(normal string) string {
	var b strings.Builder
	for _, seg := range strings.Split(normal[1:], "/") {
		if body := trimSegment(seg); body != "" {
			b.WriteByte('/')
			b.WriteString(body)
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
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
