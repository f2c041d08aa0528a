package match

import "strings"

// The addresses and ranges of source_ips, parsed and compared here rather
// than with net/netip: that package's initialization interns IPv6 zones
// with package unique, and the two together are some 70 KB of code in a
// Wasm module for what a matcher needs, which is this. The syntax accepted
// is net/netip's, and so are the results (a test compares them).

// ip is an IP address: 16 bytes, an IPv4 address in the last four.
type ip struct {
	b    [16]byte
	kind uint8 // 0 for no address, 4 or 6
	zone bool  // an IPv6 address with a zone ("fe80::1%eth0"): no range contains it
}

// cidr is a range of addresses: those of a's kind whose first bits bits are
// a's. The other bits of a are zero.
type cidr struct {
	a    ip
	bits int
}

func (a ip) valid() bool { return a.kind != 0 }

// bitLen is the length of a's kind of address: 32 or 128.
func (a ip) bitLen() int {
	if a.kind == 4 {
		return 32
	}
	return 128
}

// is4In6 reports whether a is an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
func (a ip) is4In6() bool {
	if a.kind != 6 {
		return false
	}
	for _, c := range a.b[:10] {
		if c != 0 {
			return false
		}
	}
	return a.b[10] == 0xff && a.b[11] == 0xff
}

// unmap turns an IPv4-mapped IPv6 address into the IPv4 address (without
// its zone, as net/netip does).
func (a ip) unmap() ip {
	if a.is4In6() {
		a.kind, a.zone = 4, false
	}
	return a
}

// contains reports whether a is in the range c: an address of the other
// kind or with a zone never is.
func (c cidr) contains(a ip) bool {
	if !a.valid() || a.zone || a.kind != c.a.kind {
		return false
	}
	return prefixEqual(a.b, c.a.b, 128-a.bitLen()+c.bits)
}

// prefixEqual reports whether the first bits bits of x and y are equal.
func prefixEqual(x, y [16]byte, bits int) bool {
	for i := 0; bits > 0; i++ {
		d := x[i] ^ y[i]
		if bits < 8 {
			d &= 0xff << (8 - bits)
		}
		if d != 0 {
			return false
		}
		bits -= 8
	}
	return true
}

// masked is c with the bits of its address after the prefix cleared (the
// first 12 bytes of an IPv4 address, ::ffff, are not its bits).
func (c cidr) masked() cidr {
	keep := 128 - c.a.bitLen() + c.bits
	for i := range c.a.b {
		switch {
		case keep >= 8:
			keep -= 8
		case keep > 0:
			c.a.b[i] &= 0xff << (8 - keep)
			keep = 0
		default:
			c.a.b[i] = 0
		}
	}
	return c
}

// parseIP parses an IPv4 address ("192.0.2.7") or an IPv6 address
// ("2001:db8::1", "::ffff:192.0.2.7", "fe80::1%eth0"), as
// netip.ParseAddr does: IPv4 fields are decimal without leading zeros.
func parseIP(s string) (ip, bool) {
	switch i := strings.IndexAny(s, ".:%"); {
	case i < 0 || s[i] == '%':
		return ip{}, false
	case s[i] == '.':
		return parseIPv4(s)
	}
	return parseIPv6(s)
}

func parseIPv4(s string) (ip, bool) {
	a := ip{kind: 4}
	a.b[10], a.b[11] = 0xff, 0xff
	for i := 12; i < 16; i++ {
		f, rest, more := strings.Cut(s, ".")
		if more == (i == 15) || f == "" || len(f) > 3 || len(f) > 1 && f[0] == '0' {
			return ip{}, false
		}
		v := 0
		for _, c := range []byte(f) {
			if c < '0' || c > '9' {
				return ip{}, false
			}
			v = v*10 + int(c-'0')
		}
		if v > 255 {
			return ip{}, false
		}
		a.b[i] = byte(v)
		s = rest
	}
	return a, true
}

func parseIPv6(s string) (ip, bool) {
	a := ip{kind: 6}
	if i := strings.IndexByte(s, '%'); i >= 0 {
		if i == len(s)-1 {
			return ip{}, false // an empty zone
		}
		s, a.zone = s[:i], true
	}
	head, tail, ellipsis := strings.Cut(s, "::")
	if !ellipsis {
		n, ok := groups(s, a.b[:], true)
		return a, ok && n == 16
	}
	var t [16]byte
	h, ok := groups(head, a.b[:], false)
	n, ok2 := groups(tail, t[:], true)
	if !ok || !ok2 || h+n > 14 { // "::" stands for at least one group of zeros
		return ip{}, false
	}
	copy(a.b[16-n:], t[:n])
	return a, true
}

// groups parses s, colon-separated groups of one to four hex digits, into
// b, and returns the number of bytes written; if v4 is set the last group
// may be an IPv4 address, four bytes. An empty s is no groups.
func groups(s string, b []byte, v4 bool) (int, bool) {
	if s == "" {
		return 0, true
	}
	n := 0
	for {
		g, rest, more := strings.Cut(s, ":")
		if !more && v4 && strings.IndexByte(g, '.') >= 0 {
			a, ok := parseIPv4(g)
			if !ok || n+4 > len(b) {
				return 0, false
			}
			copy(b[n:], a.b[12:])
			return n + 4, true
		}
		if g == "" || len(g) > 4 || n+2 > len(b) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(g) {
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | int(c-'0')
			case 'a' <= c && c <= 'f':
				v = v<<4 | int(c-'a'+10)
			case 'A' <= c && c <= 'F':
				v = v<<4 | int(c-'A'+10)
			default:
				return 0, false
			}
		}
		b[n], b[n+1] = byte(v>>8), byte(v)
		n += 2
		if !more {
			return n, true
		}
		s = rest
	}
}

// parseCIDR parses an address and a prefix length ("10.0.0.0/8",
// "2001:db8::/32"), as netip.ParsePrefix does: no zone, a decimal length
// without sign or leading zeros, at most the address's length. The address
// is kept as written, not masked.
func parseCIDR(s string) (cidr, bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return cidr{}, false
	}
	a, ok := parseIP(s[:i])
	if !ok || a.zone {
		return cidr{}, false
	}
	digits := s[i+1:]
	if digits == "" || len(digits) > 3 || len(digits) > 1 && digits[0] == '0' {
		return cidr{}, false
	}
	bits := 0
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return cidr{}, false
		}
		bits = bits*10 + int(c-'0')
	}
	if bits > a.bitLen() {
		return cidr{}, false
	}
	return cidr{a: a, bits: bits}, true
}
