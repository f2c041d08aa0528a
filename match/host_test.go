package match

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// hostCases are authorities and their normal forms; "" is refused.
var hostCases = []struct{ in, want string }{
	// host names
	{"example.com", "example.com"},
	{"Example.COM.:8080", "example.com"},
	{"1.example", "1.example"},
	{"a.1b", "a.1b"},
	{"a1", "a1"},
	{"1.0x1g", "1.0x1g"},
	{"0x", "0.0.0.0"},
	{"svc_a.ns-1", "svc_a.ns-1"},

	// IPv6 literals
	{"[::1]", "[::1]"},
	{"[0::1]", "[::1]"},
	{"[0:0:0:0:0:0:0:1]:8080", "[::1]"},
	{"[::]", "[::]"},
	{"[::FFFF:127.0.0.1]", "127.0.0.1"},
	{"[::ffff:7f00:1]", "127.0.0.1"},
	{"[0:0:0:0:0:ffff:127.0.0.1]:443", "127.0.0.1"},
	{"[::ffff:0:0]", "0.0.0.0"},
	{"[::127.0.0.1]", "[::7f00:1]"},
	{"[2001:DB8::0:1]", "[2001:db8::1]"},
	{"[2001:0db8:0000:0000:0000:0000:0000:0001]", "[2001:db8::1]"},
	{"[2001:db8:0:0:1:0:0:1]", "[2001:db8::1:0:0:1]"},
	{"[2001:0:0:1:0:0:0:1]", "[2001:0:0:1::1]"},
	{"[1:0:2:0:3:0:4:0]", "[1:0:2:0:3:0:4:0]"},
	{"[1:0:0:2:0:0:0:0]", "[1:0:0:2::]"},
	{"[FE80::1]", "[fe80::1]"},
	{"[fe80::1%25eth0]", ""},
	{"[fe80::1%eth0]", ""},
	{"[1::2::3]", ""},
	{"[1:2:3:4:5:6:7:8:9]", ""},
	{"[1.2.3.4]", ""},
	{"[v1.x]", ""},
	{"[]", ""},
	{"[::1]x", ""},
	{"[::1]:", ""},
	{"[::1", ""},

	// IPv4 addresses in their spellings
	{"127.0.0.1", "127.0.0.1"},
	{"127.0.0.1:80", "127.0.0.1"},
	{"127.0.0.1.", "127.0.0.1"},
	{"127.1", "127.0.0.1"},
	{"2130706433", "127.0.0.1"},
	{"0x7f.0.0.1", "127.0.0.1"},
	{"0X7F.0.0.1.", "127.0.0.1"},
	{"0177.0.0.1", "127.0.0.1"},
	{"0x7f000001", "127.0.0.1"},
	{"0x7f.1", "127.0.0.1"},
	{"10.0.258", "10.0.1.2"},
	{"0x.0.0.1", "0.0.0.1"},
	{"1.2.3.0x", "1.2.3.0"},
	{"1.2.3.00", "1.2.3.0"},
	{"1.0xffffff", "1.255.255.255"},
	{"4294967295", "255.255.255.255"},
	{"0xffffffff", "255.255.255.255"},
	{"037777777777", "255.255.255.255"},
	{"0x00000000000000000000000000000001", "0.0.0.1"},
	{"00000000000000000000000000000000001", "0.0.0.1"},
	{"1.2.3.999", ""},
	{"1.2.3.4.5", ""},
	{"08.0.0.1", ""},
	{"1.2.3.09", ""},
	{"0x1g.0.0.1", ""},
	{"4294967296", ""},
	{"040000000000", ""},
	{"99999999999999999999999999", ""},
	{"256.0.0.1", ""},
	{"1.0x1000000", ""},
	{"1.2.65536", ""},
	{"a.1", ""},
	{"example.123", ""},
	{"1.2.3.4..", ""},
	{"127.0.0.1:99999", ""},

	// not hosts
	{"", ""},
	{":80", ""},
	{"a:", ""},
	{"a:x", ""},
	{"a:80:80", ""},
	{"a:-1", ""},
	{"user@a", ""},
	{"a..b", ""},
	{".a", ""},
	{"a b", ""},
	{"ä.example", ""},
}

func TestNormalizeHostCases(t *testing.T) {
	for _, c := range hostCases {
		got, ok := NormalizeHost(c.in)
		if ok != (c.want != "") || got != c.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}

// TestNormalizeHostAllocs checks that a host name, and an address already
// in normal form, cost no allocation.
func TestNormalizeHostAllocs(t *testing.T) {
	for _, in := range []string{"api.example.com:8443", "a.1b", "10.0.0.1:80", "[2001:db8::1]:443"} {
		if n := testing.AllocsPerRun(10, func() { NormalizeHost(in) }); n != 0 {
			t.Errorf("NormalizeHost(%q) allocates %v times", in, n)
		}
	}
	if n := testing.AllocsPerRun(10, func() { NormalizeHost("[0:0::1]") }); n > 1 {
		t.Errorf("NormalizeHost(%q) allocates %v times", "[0:0::1]", n)
	}
}

// TestNormalizeHostAsNetip compares the normal form of IPv6 literals with
// netip's text for many addresses: every pattern of zero groups, with
// random other groups, written out in full with leading zeros and upper
// case.
func TestNormalizeHostAsNetip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var addrs [][16]byte
	for zeros := 0; zeros < 1<<8; zeros++ {
		for range 4 {
			var b [16]byte
			for g := range 8 {
				if zeros&(1<<g) != 0 {
					continue
				}
				v := 1 + r.IntN(0xffff) // not zero
				if r.IntN(2) == 0 {
					v = 1 + r.IntN(0xff) // with a leading zero byte
				}
				b[2*g], b[2*g+1] = byte(v>>8), byte(v)
			}
			addrs = append(addrs, b)
		}
	}
	for _, s := range []string{"::", "::1", "::ffff:0:0", "::ffff:127.0.0.1", "::ffff:255.255.255.255", "::127.0.0.1", "::fffe:1.2.3.4",
		"64:ff9b::1.2.3.4", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1::", "::ffff", "0:0:0:0:0:ffff:0:1", "1:0:0:0:0:ffff:1:2"} {
		addrs = append(addrs, netip.MustParseAddr(s).As16())
	}
	for _, b := range addrs {
		a := netip.AddrFrom16(b)
		want := "[" + a.String() + "]"
		if a.Is4In6() {
			want = a.Unmap().String()
		}
		var full strings.Builder
		for g := range 8 {
			if g > 0 {
				full.WriteByte(':')
			}
			fmt.Fprintf(&full, "%04X", int(b[2*g])<<8|int(b[2*g+1]))
		}
		for _, in := range []string{"[" + full.String() + "]", "[" + a.String() + "]:80"} {
			if got, ok := NormalizeHost(in); !ok || got != want {
				t.Fatalf("NormalizeHost(%q) = %q, %v; netip has %q", in, got, ok, want)
			}
		}
	}
}

// FuzzNormalizeHost checks that the normal form is normal (normalizing it
// again changes nothing; no upper case, no port), that an IP host's normal
// form is its address as netip writes it, and that any other host's is the
// host as written, lower-cased and without a trailing dot.
func FuzzNormalizeHost(f *testing.F) {
	for _, c := range hostCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		normal, ok := NormalizeHost(in)
		if !ok {
			return
		}
		if again, ok := NormalizeHost(normal); !ok || again != normal {
			t.Fatalf("%q: normal form %q normalizes to %q, %v", in, normal, again, ok)
		}
		if normal != lower(normal) {
			t.Fatalf("%q: normal form %q has upper case", in, normal)
		}
		if inside, ok := strings.CutPrefix(normal, "["); ok {
			// an IPv6 literal: the address of the input, not IPv4-mapped
			inside, ok = strings.CutSuffix(inside, "]")
			a, err := netip.ParseAddr(inside)
			if !ok || err != nil || !a.Is6() || a.Is4In6() || a.String() != inside {
				t.Fatalf("%q: normal form %q is not an IPv6 address as netip writes it", in, normal)
			}
			orig, err := netip.ParseAddr(in[1:strings.IndexByte(in, ']')])
			if err != nil || orig != a {
				t.Fatalf("%q: normal form %q is another address (%v)", in, normal, err)
			}
			return
		}
		if strings.Contains(normal, ":") {
			t.Fatalf("%q: normal form %q has a port", in, normal)
		}
		if strings.HasPrefix(in, "[") {
			// an IPv4-mapped IPv6 literal: the IPv4 address
			orig, err := netip.ParseAddr(in[1:strings.IndexByte(in, ']')])
			if err != nil || !orig.Is4In6() || orig.Unmap().String() != normal {
				t.Fatalf("%q: normal form %q is not its IPv4 address (%v)", in, normal, err)
			}
			return
		}
		host, _, _ := strings.Cut(in, ":")
		if a, err := netip.ParseAddr(strings.TrimSuffix(host, ".")); err == nil && a.String() != normal {
			t.Fatalf("%q: normal form %q, netip reads %s", in, normal, a)
		}
		if endsInNumber(normal) {
			if a, err := netip.ParseAddr(normal); err != nil || !a.Is4() || a.String() != normal {
				t.Fatalf("%q: normal form %q is not an IPv4 address as netip writes it", in, normal)
			}
			return
		}
		if want := lower(strings.TrimSuffix(host, ".")); normal != want {
			t.Fatalf("%q: normal form %q, not the host as written (%q)", in, normal, want)
		}
	})
}
