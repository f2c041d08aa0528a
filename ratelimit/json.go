package ratelimit

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The JSON the filter writes, built here rather than by encoding/json
// (which sjson.SetBytes calls for values that are not raw JSON): that
// package and the reflection it needs would be most of a plugin's size
// beyond the runtime.

// exceededBody is the default denial body for a limit described as limit
// ("2 per second"; none if empty), unfinished: withRetryAfter completes it.
func exceededBody(limit string) []byte {
	b := []byte(`{"error":"rate limit exceeded"`)
	if limit != "" {
		b = appendJSONString(append(b, `,"limit":`...), limit)
	}
	return b
}

// withRetryAfter returns a copy of body, an object that exceededBody
// started, with retry_after seconds and closed.
func withRetryAfter(body []byte, retry int64) string {
	var b strings.Builder
	b.Grow(len(body) + len(`,"retry_after":}`) + 20)
	b.Write(body)
	b.WriteString(`,"retry_after":`)
	var digits [20]byte
	b.Write(strconv.AppendInt(digits[:0], retry, 10))
	b.WriteByte('}')
	return b.String()
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; bytes that are not UTF-8
// become U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}
