// Package query reads the parameters of a URL's query string the way
// backends do, so that a policy that looks for a parameter finds every
// spelling a backend would take for it: parameters are separated by "&" or
// ";", and names and values are percent-decoded ("+" is a space). A
// malformed percent-encoding is kept as it is written, as browsers and most
// servers keep it.
package query

import "strings"

// Of returns the query of a request path (what follows the first "?"), or
// "" if it has none.
func Of(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[i+1:]
	}
	return ""
}

// Values appends to out the decoded values of every parameter of query
// whose decoded name is name, in order, and returns it. It allocates only
// for a value that must be decoded, or when it appends.
func Values(out []string, query, name string) []string {
	for query != "" {
		var param string
		if i := strings.IndexAny(query, "&;"); i >= 0 {
			param, query = query[:i], query[i+1:]
		} else {
			param, query = query, ""
		}
		k, v, _ := strings.Cut(param, "=")
		if sameDecoded(k, name) {
			out = append(out, Decode(v))
		}
	}
	return out
}

// Without returns query without the parameters whose decoded name is
// name, the others kept as they are written, each after the separator that
// came before it; removed reports whether there was one.
func Without(query, name string) (rest string, removed bool) {
	var b strings.Builder
	var sep byte // the separator before the current parameter
	for {
		param, after, more := query, "", false
		if i := strings.IndexAny(query, "&;"); i >= 0 {
			param, after, more = query[:i], query[i+1:], true
		}
		k, _, _ := strings.Cut(param, "=")
		if sameDecoded(k, name) {
			removed = true
		} else {
			if b.Len() > 0 {
				b.WriteByte(sep)
			}
			b.WriteString(param)
		}
		if !more {
			break
		}
		sep, query = query[len(param)], after
	}
	if !removed {
		return "", false
	}
	return b.String(), true
}

// sameDecoded reports whether the encoded text enc decodes to plain,
// without decoding it into a new string.
func sameDecoded(enc, plain string) bool {
	j := 0
	for i := 0; i < len(enc); j++ {
		var c byte
		c, i = decodeAt(enc, i)
		if j == len(plain) || plain[j] != c {
			return false
		}
	}
	return j == len(plain)
}

// Decode percent-decodes s, with "+" as a space. It returns s itself when
// there is nothing to decode.
func Decode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		var c byte
		c, i = decodeAt(s, i)
		b = append(b, c)
	}
	return string(b)
}

// decodeAt decodes the character at s[i] and returns it with the index
// after it.
func decodeAt(s string, i int) (byte, int) {
	switch c := s[i]; {
	case c == '+':
		return ' ', i + 1
	case c == '%' && i+2 < len(s) && Unhex(s[i+1]) >= 0 && Unhex(s[i+2]) >= 0:
		return byte(Unhex(s[i+1])<<4 | Unhex(s[i+2])), i + 3
	default:
		return c, i + 1
	}
}

// Unhex is the value of the hexadecimal digit c, or -1 if c is none.
func Unhex(c byte) int {
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
