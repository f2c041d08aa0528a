package match

import (
	"strings"

	"github.com/wasmpolicy/policy/internal/ascii"
)

// NormalizeHost returns the host of an authority ("Example.COM.:8080") in
// normal form ("example.com"): lower-cased, without its port and without a
// trailing dot; an IPv6 literal keeps its brackets ("[2001:db8::1]"). ok is
// false for an authority that is not a host name or IP literal with an
// optional numeric port: "a:80:80", "a:", "a:x", "user@a", "a..b", "".
func NormalizeHost(authority string) (host string, ok bool) {
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", false
		}
		host, port = authority[:end+1], authority[end+1:]
		if !ipv6Literal(host[1:end]) {
			return "", false
		}
	} else if i := strings.IndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i:]
	}
	if port != "" && !validPort(port) {
		return "", false
	}
	if host == "" {
		return "", false
	}
	if host[0] != '[' {
		host = strings.TrimSuffix(host, ".")
		if !hostName(host) {
			return "", false
		}
	}
	return lower(host), true
}

// validPort reports whether p is ":" and a port number.
func validPort(p string) bool {
	if len(p) < 2 || len(p) > 6 || p[0] != ':' {
		return false
	}
	n := 0
	for i := 1; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// hostName reports whether s is dot-separated labels of letters, digits,
// '-' and '_' (which internal names use).
func hostName(s string) bool {
	if s == "" {
		return false
	}
	start := 0 // of the current label
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if i == start {
				return false // an empty label
			}
			start = i + 1
			continue
		}
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ipv6Literal reports whether s looks like the inside of an IPv6 literal:
// hex digits, ':' and '.' (for an embedded IPv4 address).
func ipv6Literal(s string) bool {
	if !strings.Contains(s, ":") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; unhex(c) < 0 && c != ':' && c != '.' {
			return false
		}
	}
	return true
}

func lower(s string) string { return ascii.Lower(s) }

// equal compares a and b, ignoring ASCII case if fold.
func equal(a, b string, fold bool) bool {
	if fold {
		return ascii.EqualFold(a, b)
	}
	return a == b
}

func hasPrefix(s, prefix string, fold bool) bool {
	if fold {
		return ascii.HasPrefixFold(s, prefix)
	}
	return strings.HasPrefix(s, prefix)
}
