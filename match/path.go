package match

import "strings"

// A request path can be read in more than one way. Envoy forwards it with
// dot segments resolved (Istio's default), but backends differ on the rest:
// Tomcat, Jetty and Spring cut ";" parameters off each segment (so "/..;/"
// is "/../"), some servers decode "%2F" or "\" into a separator, some merge
// "//" into "/", some ignore case. A policy decision must hold for every one
// of these readings, so the normalizer gives all of them: a path that only
// some reading sends to "/admin" is denied by a deny rule on "/admin" and is
// never let through by an allow rule elsewhere.
//
// Every reading is normalized the same way: the query is removed, percent-
// encoded unreserved characters (letters, digits, "-", ".", "_", "~") are
// decoded, other percent-encodings are written with upper-case hex digits,
// characters that may not appear in a path (space aside, which is refused,
// and non-ASCII bytes) are percent-encoded, and the dot segments "." and
// ".." are removed as RFC 3986 (section 5.2.4) says. Readings differ in
// three choices, each made both ways when the path gives it a meaning:
//   - ";" (or "%3B") starts a parameter that ends the segment, or is text;
//   - "\", "%2F" and "%5C" separate segments, or are text (kept encoded);
//   - empty segments ("//") are dropped, or kept.
//
// A path that cannot be read safely has no reading: one that does not start
// with "/", or that contains "#", a control character or a space (raw or
// percent-encoded, NUL included), or a malformed percent-encoding.

// maxReadings bounds the readings of one path: three choices, two ways.
const maxReadings = 8

// NormalizePath returns the normal form of a request path (with or without
// its query): the reading that resolves the most, with ";" parameters
// removed, "\", "%2F" and "%5C" taken as separators and empty segments
// dropped. ok is false if the path cannot be read safely. Normalizing a
// normal form returns it unchanged.
//
//	match.NormalizePath("/a/./b/../c//d;x?q=1") // "/a/c/d", true
//	match.NormalizePath("/%61dmin/..%2Fx")       // "/x", true
//	match.NormalizePath("/a%00")                 // "", false
func NormalizePath(path string) (normal string, ok bool) {
	path = cutQuery(path)
	if plain(path) {
		return path, true
	}
	toks, ok := tokenize(path)
	if !ok {
		return "", false
	}
	return render(toks, reading{strip: true, split: true, merge: true}), true
}

// readPath appends the distinct readings of path to out; ok is false if the
// path cannot be read safely.
func readPath(out []string, path string) ([]string, bool) {
	path = cutQuery(path)
	if plain(path) {
		return append(out, path), true
	}
	toks, ok := tokenize(path)
	if !ok {
		return out, false
	}
	var has reading // the choices this path gives a meaning to
	for _, t := range toks {
		switch t.kind {
		case tokParam:
			has.strip = true
		case tokAmbiguous:
			has.split = true
		}
	}
	has.merge = true // cheap to try; duplicates are dropped
	start := len(out)
	for i := 0; i < maxReadings; i++ {
		rd := reading{strip: i&1 != 0, split: i&2 != 0, merge: i&4 != 0}
		if rd.strip && !has.strip || rd.split && !has.split || rd.merge && !has.merge {
			continue
		}
		s := render(toks, rd)
		dup := false
		for _, o := range out[start:] {
			dup = dup || o == s
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out, true
}

func cutQuery(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i]
	}
	return path
}

// plain reports whether path is its own only reading: it starts with "/",
// and has only characters that need no decoding or encoding, no ";", no
// empty segment and no dot segment.
func plain(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	for i := 1; i < len(path); i++ {
		c := path[i]
		if c == '/' {
			if path[i-1] == '/' {
				return false
			}
			continue
		}
		if !pathChar(c) || c == ';' {
			return false
		}
		if c == '.' && path[i-1] == '/' {
			// "." or ".." as a whole segment.
			j := i + 1
			if j < len(path) && path[j] == '.' {
				j++
			}
			if j == len(path) || path[j] == '/' {
				return false
			}
		}
	}
	return true
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

type tokKind uint8

const (
	tokText      tokKind = iota // text, written as lit
	tokSlash                    // "/"
	tokAmbiguous                // "\", "%2F", "%5C": a separator or text
	tokParam                    // ";", "%3B": a parameter's start or text
)

// token is one character of a path, decoded.
type token struct {
	kind tokKind
	lit  string // how it is written as text
}

// tokenize splits path (which starts with "/") into tokens; ok is false if
// it cannot be read safely.
func tokenize(path string) ([]token, bool) {
	if path == "" || path[0] != '/' {
		return nil, false
	}
	toks := make([]token, 0, len(path))
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '/':
			toks = append(toks, token{kind: tokSlash})
		case c == '\\':
			toks = append(toks, token{kind: tokAmbiguous, lit: "%5C"})
		case c == ';':
			toks = append(toks, token{kind: tokParam, lit: ";"})
		case c == '%':
			if i+2 >= len(path) || unhex(path[i+1]) < 0 || unhex(path[i+2]) < 0 {
				return nil, false
			}
			d := byte(unhex(path[i+1])<<4 | unhex(path[i+2]))
			i += 2
			switch {
			case d < 0x20 || d == 0x7f:
				return nil, false
			case d == '/' || d == '\\':
				toks = append(toks, token{kind: tokAmbiguous, lit: encoded(d)})
			case d == ';':
				toks = append(toks, token{kind: tokParam, lit: "%3B"})
			case unreserved(d):
				toks = append(toks, token{lit: string(rune(d))}) // one ASCII byte
			default:
				toks = append(toks, token{lit: encoded(d)})
			}
		case c <= ' ' || c == 0x7f || c == '#':
			return nil, false
		case pathChar(c):
			toks = append(toks, token{lit: path[i : i+1]})
		default: // '"', '<', '>', '^', '`', '{', '|', '}' and non-ASCII bytes
			toks = append(toks, token{lit: encoded(c)})
		}
	}
	return toks, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

const hexDigits = "0123456789ABCDEF"

func encoded(c byte) string { return string([]byte{'%', hexDigits[c>>4], hexDigits[c&15]}) }

// reading is one way of reading a path.
type reading struct {
	strip bool // ";" starts a parameter, removed up to the segment's end
	split bool // "\", "%2F" and "%5C" separate segments
	merge bool // empty segments are dropped
}

// render writes the tokens of a path as reading rd reads them, normalized.
func render(toks []token, rd reading) string {
	var segs []string
	var cur strings.Builder
	inParam := false
	end := func() {
		segs = append(segs, cur.String())
		cur.Reset()
		inParam = false
	}
	for _, t := range toks[1:] { // toks[0] is the leading "/"
		switch {
		case t.kind == tokSlash, t.kind == tokAmbiguous && rd.split:
			end()
		case t.kind == tokParam && rd.strip:
			inParam = true
		case !inParam:
			cur.WriteString(t.lit)
		}
	}
	end()
	if rd.merge {
		kept := segs[:0]
		for i, s := range segs {
			if s != "" || i == len(segs)-1 {
				kept = append(kept, s)
			}
		}
		segs = kept
	}
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
			continue
		}
		if last {
			out = append(out, "") // "/a/b/.." is "/a/"
		}
	}
	return "/" + strings.Join(out, "/")
}

// resolves reports whether normalizing path does more than decode,
// re-encode or merge slashes: it has a parameter, or a dot segment in some
// reading.
func resolves(path string) bool {
	toks, ok := tokenize(cutQuery(path))
	if !ok {
		return false
	}
	for _, t := range toks {
		if t.kind == tokParam {
			return true
		}
	}
	for _, rd := range []reading{{}, {split: true}} {
		for _, seg := range strings.Split(segmentsOf(toks, rd), "/") {
			if seg == "." || seg == ".." {
				return true
			}
		}
	}
	return false
}

// segmentsOf writes the tokens as reading rd reads them, without removing
// dot segments.
func segmentsOf(toks []token, rd reading) string {
	var b strings.Builder
	for _, t := range toks {
		switch {
		case t.kind == tokSlash, t.kind == tokAmbiguous && rd.split:
			b.WriteByte('/')
		default:
			b.WriteString(t.lit)
		}
	}
	return b.String()
}
