// Package httptoken checks HTTP tokens (RFC 9110, section 5.6.2): the syntax
// of methods and header field names; and what a header field value may
// hold.
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

// ControlChar is the index of the first byte of s that a header field value
// must not hold, -1 if there is none: a control character other than tab
// (NUL to 0x1f, CR and LF among them, and DEL). Bytes from 0x80 up are
// allowed, as HTTP's obs-text is.
func ControlChar(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return i
		}
	}
	return -1
}

// ValidValue reports whether s can be sent as a header field value: it
// holds no control character other than tab.
func ValidValue(s string) bool { return ControlChar(s) < 0 }
