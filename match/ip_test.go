package match

import (
	"net/netip"
	"testing"
)

// ipSeeds are addresses and ranges, well formed or not, in every syntax
// net/netip knows.
var ipSeeds = []string{
	"", ".", ":", "::", ":::", "%", "%eth0", "/", "0", "1", "a",
	"0.0.0.0", "192.0.2.7", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.",
	"01.2.3.4", "1.02.3.4", "0.0.0.00", "1.2.3.4%eth0", "1.2.3.-4", "1.2.3.+4", "1.2.3.4 ", " 1.2.3.4", "１.2.3.4",
	"2001:db8::1", "2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8",
	"1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
	"1::2::3", "1:::2", "1:", ":1", "1::", "::1", "12345::", "0000::", "00000::", "g::", "1:2:3:4:5:6:7:8%",
	"fe80::1%eth0", "fe80::1%", "fe80::1%eth0%1", "fe80::1%25", "::%x",
	"::ffff:192.0.2.7", "::FFFF:192.0.2.7", "::ffff:c000:207", "::ffff:192.0.2.7%eth0", "::192.0.2.7", "1:2:3:4:5:6:1.2.3.4",
	"1:2:3:4:5:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5:6::1.2.3.4", "1::1.2.3.4", "1.2.3.4::", "::1.2.3.4:5", "::1.2.3",
	"::ffff:1.2.3.4.5", "::ffff:01.2.3.4",
	"10.0.0.0/8", "10.1.2.3/8", "0.0.0.0/0", "192.0.2.7/32", "192.0.2.7/33", "1.2.3.4/08", "1.2.3.4/+8", "1.2.3.4/-1",
	"1.2.3.4/", "1.2.3.4//8", "/8", "1.2.3.4/8/8", "1.2.3.4/0008", "1.2.3.4/1000",
	"2001:db8::/32", "2001:db8::1/128", "2001:db8::/129", "::/0", "fe80::1%eth0/64", "::ffff:10.0.0.0/104",
	"::ffff:10.0.0.0/95", "::ffff:10.0.0.0/96", "::ffff:10.0.0.0/128", "::ffff:0:0/96",
}

func FuzzIP(f *testing.F) {
	for _, s := range ipSeeds {
		f.Add(s, "192.0.2.7")
		f.Add(s, "::ffff:10.1.2.3")
	}
	f.Fuzz(func(t *testing.T, s, req string) {
		sameAddr(t, s)
		sameAddr(t, req)
		samePrefix(t, s)
		sameMatch(t, s, req)
	})
}

func TestIPAsNetip(t *testing.T) {
	for _, s := range ipSeeds {
		sameAddr(t, s)
		samePrefix(t, s)
		for _, req := range ipSeeds {
			sameMatch(t, s, req)
		}
	}
}

// sameAddr checks that parseIP reads s as netip.ParseAddr does, and that
// appendTo writes the address as netip.Addr.String does (without the zone).
func sameAddr(t *testing.T, s string) {
	t.Helper()
	want, err := netip.ParseAddr(s)
	got, ok := parseIP(s)
	if ok != (err == nil) {
		t.Fatalf("parseIP(%q): ok %v, netip: %v", s, ok, err)
	}
	if ok && (got.b != want.As16() || (got.kind == 4) != want.Is4() || got.zone != (want.Zone() != "")) {
		t.Fatalf("parseIP(%q) = %x (IPv%d, zone %v), netip has %s", s, got.b, got.kind, got.zone, want)
	}
	if ok && string(got.appendTo(nil)) != want.WithZone("").String() {
		t.Fatalf("parseIP(%q) writes as %q, netip as %s", s, got.appendTo(nil), want.WithZone(""))
	}
}

// samePrefix checks that parseCIDR reads s as netip.ParsePrefix does.
func samePrefix(t *testing.T, s string) {
	t.Helper()
	want, err := netip.ParsePrefix(s)
	got, ok := parseCIDR(s)
	if ok != (err == nil) {
		t.Fatalf("parseCIDR(%q): ok %v, netip: %v", s, ok, err)
	}
	if ok && (got.a.b != want.Addr().As16() || (got.a.kind == 4) != want.Addr().Is4() || got.bits != want.Bits()) {
		t.Fatalf("parseCIDR(%q) = %x/%d, netip has %s", s, got.a.b, got.bits, want)
	}
	if ok && got.masked().a.b != want.Masked().Addr().As16() {
		t.Fatalf("parseCIDR(%q) masked is %x, netip has %s", s, got.masked().a.b, want.Masked())
	}
}

// sameMatch checks that source_ips [s] compiles and matches a request from
// req as the filters did with net/netip.
func sameMatch(t *testing.T, s, req string) {
	t.Helper()
	got, err := compileIPs([]string{s})
	want, wantOK := netipCompile(s)
	if (err == nil) != wantOK {
		t.Fatalf("source_ips [%q]: error %v, netip ok %v", s, err, wantOK)
	}
	if err != nil {
		return
	}
	var a ip
	if p, ok := parseIP(req); ok {
		a = p.unmap()
	}
	wa, werr := netip.ParseAddr(req)
	if werr == nil {
		wa = wa.Unmap()
	}
	if a.valid() != wa.IsValid() {
		t.Fatalf("request from %q: valid %v, netip %v", req, a.valid(), wa.IsValid())
	}
	if got[0].contains(a) != want.Contains(wa) {
		t.Fatalf("source_ips [%q], request from %q: contains %v, netip %v", s, req, got[0].contains(a), want.Contains(wa))
	}
}

// netipCompile is compileIPs as written with net/netip.
func netipCompile(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		a = a.Unmap()
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}
