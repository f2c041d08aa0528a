package match

import "strings"

// The addresses and ranges of source_ips, and the IP addresses of hosts,
// parsed, compared and written here rather than with net/netip: that
// package's initialization interns IPv6 zones with package unique, and the
// two together are some 70 KB of code in a Wasm module for what a matcher
// needs, which is this. parseIP and parseCIDR accept net/netip's syntax
// and give its results, and appendTo writes its text (tests compare them);
// parseIPv4Legacy reads the older spellings of IPv4 addresses in hosts.

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

// parseIPv4Legacy parses an IPv4 address in any of the spellings that
// inet_aton and the WHATWG URL standard's IPv4 parser accept, since clients
// and backends read hosts such as "127.1", "2130706433" and "0x7f.0.0.1" as
// 127.0.0.1: one to four dot-separated numbers, each decimal, hex after
// "0x" or "0X" (no digits is 0) or octal after a leading "0"; every number
// but the last is a byte, and the last fills the remaining bytes ("10.0.258"
// is 10.0.1.2). s has no trailing dot.
func parseIPv4Legacy(s string) (ip, bool) {
	var parts [4]uint64
	n := 0
	for {
		f, rest, more := strings.Cut(s, ".")
		v, ok := ipv4Number(f)
		if !ok || n == len(parts) {
			return ip{}, false
		}
		parts[n] = v
		n++
		if !more {
			break
		}
		s = rest
	}
	last := parts[n-1]
	if last >= 1<<(8*(5-n)) {
		return ip{}, false
	}
	for i, v := range parts[:n-1] {
		if v > 255 {
			return ip{}, false
		}
		last |= v << (8 * (3 - i))
	}
	a := ip{kind: 4}
	a.b[10], a.b[11] = 0xff, 0xff
	a.b[12], a.b[13], a.b[14], a.b[15] = byte(last>>24), byte(last>>16), byte(last>>8), byte(last)
	return a, true
}

// ipv4Number parses one number of a legacy IPv4 address: decimal, hex
// after "0x" or "0X" (no digits is 0), or octal after a leading "0".
// Values above 1<<32, too big for any part of an address, are returned as
// 1<<32, so that any number of digits can be read without overflow.
func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	v := uint64(0)
	for i := 0; i < len(s); i++ {
		d := unhex(s[i])
		if d < 0 || uint64(d) >= base {
			return 0, false
		}
		v = min(v*base+uint64(d), 1<<32)
	}
	return v, true
}

// appendTo appends the text of a to b, as netip.Addr.String writes it but
// without a zone, which ip does not keep: an IPv4 address in dotted
// decimal; an IPv6 address in the form of RFC 5952, with lower-case hex
// groups without leading zeros and the first longest run of two or more
// zero groups as "::"; an IPv4-mapped one as "::ffff:192.0.2.7".
func (a ip) appendTo(b []byte) []byte {
	switch {
	case a.kind == 4:
		return appendIPv4(b, a.b[12:])
	case a.is4In6():
		return appendIPv4(append(b, "::ffff:"...), a.b[12:])
	case a.kind != 6:
		return b
	}
	zeros, n := -1, 0 // the run of zero groups to write as "::", and its length
	for i := 0; i < 8; i++ {
		j := i
		for j < 8 && a.group(j) == 0 {
			j++
		}
		if j-i >= 2 && j-i > n {
			zeros, n = i, j-i
		}
		i = j // group j is not zero (or past the end)
	}
	for i := 0; i < 8; i++ {
		if i == zeros {
			b = append(b, "::"...)
			i += n - 1
			continue
		}
		if i > 0 && i != zeros+n {
			b = append(b, ':')
		}
		b = appendHex16(b, a.group(i))
	}
	return b
}

// group is the ith of the eight 16-bit groups of an IPv6 address.
func (a ip) group(i int) uint16 { return uint16(a.b[2*i])<<8 | uint16(a.b[2*i+1]) }

// appendIPv4 appends the four bytes of an IPv4 address in dotted decimal.
func appendIPv4(b []byte, v4 []byte) []byte {
	for i, c := range v4 {
		if i > 0 {
			b = append(b, '.')
		}
		if c >= 100 {
			b = append(b, '0'+c/100)
		}
		if c >= 10 {
			b = append(b, '0'+c/10%10)
		}
		b = append(b, '0'+c%10)
	}
	return b
}

// appendHex16 appends v in lower-case hex without leading zeros.
func appendHex16(b []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	for shift := 12; shift > 0; shift -= 4 {
		if v>>shift != 0 {
			b = append(b, digits[v>>shift&0xf])
		}
	}
	return append(b, digits[v&0xf])
}
