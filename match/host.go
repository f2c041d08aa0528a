package match

import (
	"strings"

	"github.com/wasmpolicy/policy/internal/ascii"
)

// NormalizeHost returns the host of an authority ("Example.COM.:8080") in
// normal form ("example.com"): lower-cased, without its port and without a
// trailing dot. ok is false for an authority that is not a host name or IP
// literal with an optional numeric port: "a:80:80", "a:", "a:x", "user@a",
// "a..b", "".
//
// An IP address has one normal form however it is spelled, so that a rule
// on an address holds for every spelling of it: an IPv6 literal is written
// as RFC 5952 says, in brackets ("[0:0::01]" is "[::1]"), except that an
// IPv4-mapped one is its IPv4 address ("[::ffff:127.0.0.1]" is
// "127.0.0.1"); a host whose last label is a number is an IPv4 address in
// any spelling the WHATWG URL standard accepts ("127.1", "2130706433",
// "0x7f.0.0.1" and "0177.0.0.1" are "127.0.0.1"). An IPv6 literal with a
// zone, and a host that ends in a number but is no such address
// ("1.2.3.999"), are refused.
func NormalizeHost(authority string) (host string, ok bool) {
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", false
		}
		host, port = authority[:end+1], authority[end+1:]
	} else if i := strings.IndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i:]
	}
	if port != "" && !validPort(port) {
		return "", false
	}
	if host == "" {
		return "", false
	}
	if host[0] == '[' {
		a, ok := parseIPv6(host[1 : len(host)-1])
		if !ok || a.zone {
			return "", false
		}
		return ipHost(host, a.unmap()), true
	}
	host = strings.TrimSuffix(host, ".")
	if !hostName(host) {
		return "", false
	}
	if endsInNumber(host) {
		a, ok := parseIPv4Legacy(host)
		if !ok {
			return "", false
		}
		return ipHost(host, a), true
	}
	return lower(host), true
}

// ipHost returns the normal form of a host that is the address a: its
// text, in brackets for IPv6. It allocates only when host is spelled
// otherwise.
func ipHost(host string, a ip) string {
	var buf [48]byte
	b := buf[:0]
	if a.kind == 6 {
		b = append(b, '[')
	}
	b = a.appendTo(b)
	if a.kind == 6 {
		b = append(b, ']')
	}
	if string(b) == host {
		return host
	}
	return string(b)
}

// endsInNumber reports whether the last label of the host name s is a
// number as the WHATWG URL standard reads one: decimal digits, or "0x" or
// "0X" and hex digits. Such a host is read as an IPv4 address.
func endsInNumber(s string) bool {
	last := s[strings.LastIndexByte(s, '.')+1:]
	hex := len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')
	if hex {
		last = last[2:]
	}
	for i := 0; i < len(last); i++ {
		if c := last[i]; hex && unhex(c) < 0 || !hex && (c < '0' || c > '9') {
			return false
		}
	}
	return true
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
