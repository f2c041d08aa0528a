// Package httptoken checks HTTP tokens (RFC 9110, section 5.6.2): the syntax
// of methods and header field names.
package httptoken

import "strings"

// Valid reports whether s is a non-empty token: visible ASCII characters
// other than the delimiters "(),/:;<=>?@[\]{} and the double quote.
func Valid(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
