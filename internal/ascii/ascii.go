// Package ascii compares and lower-cases strings by their ASCII letters
// only. HTTP header names, methods and host names are case-insensitive in
// ASCII alone: Unicode case folding (strings.EqualFold) would also equate
// names such as "x-\u212aey" (Kelvin sign) and "x-key", which the proxy and
// the backend treat as different.
package ascii

// Lower returns s with its ASCII letters lower-cased, without allocating
// when it has none in upper case.
func Lower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

// EqualFold reports whether a and b are equal with their ASCII letters
// folded. Equal strings cost one comparison.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if a == b {
		return true
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// HasPrefixFold reports whether s begins with prefix, ASCII letters folded.
func HasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && EqualFold(s[:len(prefix)], prefix)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
