package policy

import (
	"slices"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// The Exchange's header getters match names ASCII case-insensitively, as
// the setters do; the tests below hold headers both as Envoy stores them
// (lower case) and as given (mixed case).

func loadedExchange(req, resp [][2]string) *Exchange {
	return &Exchange{reqHeaders: req, reqLoaded: true, respHeaders: resp, respLoaded: true}
}

func TestHeaderGettersIgnoreASCIICase(t *testing.T) {
	for _, stored := range []struct {
		name      string
		req, resp [][2]string
	}{
		{"stored lower case", [][2]string{{":path", "/"}, {"x-role", "admin"}, {"x-role", "ops"}},
			[][2]string{{":status", "200"}, {"content-type", "text/plain"}}},
		{"stored mixed case", [][2]string{{":path", "/"}, {"X-Role", "admin"}, {"x-ROLE", "ops"}},
			[][2]string{{":status", "200"}, {"Content-Type", "text/plain"}}},
	} {
		t.Run(stored.name, func(t *testing.T) {
			x := loadedExchange(stored.req, stored.resp)
			for _, name := range []string{"x-role", "X-Role", "X-ROLE"} {
				if v, ok := x.RequestHeader(name); !ok || v != "admin" {
					t.Errorf("RequestHeader(%q) = %q, %v; want admin", name, v, ok)
				}
				if got := x.RequestHeaderValues(name); !slices.Equal(got, []string{"admin", "ops"}) {
					t.Errorf("RequestHeaderValues(%q) = %q, want [admin ops]", name, got)
				}
			}
			for _, name := range []string{"content-type", "Content-Type", "CONTENT-TYPE"} {
				if v, ok := x.ResponseHeader(name); !ok || v != "text/plain" {
					t.Errorf("ResponseHeader(%q) = %q, %v; want text/plain", name, v, ok)
				}
				if got := x.ResponseHeaderValues(name); !slices.Equal(got, []string{"text/plain"}) {
					t.Errorf("ResponseHeaderValues(%q) = %q", name, got)
				}
			}
		})
	}
}

func TestHeaderGettersFoldOnlyASCII(t *testing.T) {
	// strings.EqualFold would match the Kelvin sign U+212A with 'k'; HTTP
	// header names fold ASCII letters only.
	x := loadedExchange([][2]string{{"x-key", "1"}, {"x-é", "2"}}, [][2]string{{"x-key", "1"}})
	for _, name := range []string{"x-\u212aey", "X-\u212aEY"} {
		if v, ok := x.RequestHeader(name); ok {
			t.Errorf("RequestHeader(%q) = %q, want no match for x-key", name, v)
		}
		if got := x.RequestHeaderValues(name); got != nil {
			t.Errorf("RequestHeaderValues(%q) = %q, want none", name, got)
		}
		if v, ok := x.ResponseHeader(name); ok {
			t.Errorf("ResponseHeader(%q) = %q, want no match for x-key", name, v)
		}
	}
	// A non-ASCII letter is left as it is: x-É is not x-é.
	if v, ok := x.RequestHeader("X-É"); ok {
		t.Errorf("RequestHeader(X-É) = %q, want no match for x-é", v)
	}
	if v, ok := x.RequestHeader("X-é"); !ok || v != "2" {
		t.Errorf("RequestHeader(X-é) = %q, %v; want 2", v, ok)
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"x-key", "x-key", true}, {"X-Key", "x-key", true}, {"x-key", "X-KEY", true},
		{"x-kez", "x-key", false}, {"x-ke", "x-key", false}, {"x-\u212aey", "x-key", false},
		{"x-[", "x-{", false}, {"x-@", "x-`", false}, // bytes 0x20 apart that are not letters
	} {
		if got := sameName(c.a, c.b); got != c.want {
			t.Errorf("sameName(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestHeaderSettersReplaceAnySpelling(t *testing.T) {
	got := set([][2]string{{"X-Role", "admin"}, {"x-other", "1"}, {"x-ROLE", "ops"}}, "x-role", "guest")
	want := [][2]string{{"x-other", "1"}, {"x-role", "guest"}}
	if !slices.Equal(got, want) {
		t.Errorf("set = %q, want %q", got, want)
	}
	got = remove([][2]string{{"X-Role", "admin"}, {"x-other", "1"}, {"x-role", "ops"}}, "x-role")
	if want := [][2]string{{"x-other", "1"}}; !slices.Equal(got, want) {
		t.Errorf("remove = %q, want %q", got, want)
	}
}

// headerProbe reads headers through the Exchange in the emulator, whose
// maps hold the names lower case whatever the test sends.
type headerProbe struct {
	role, roles, contentType, kelvin string
}

func (p *headerProbe) OnRequestHeaders(x *Exchange) Result {
	p.role, _ = x.RequestHeader("X-Role")
	p.roles = ""
	for _, v := range x.RequestHeaderValues("X-ROLE") {
		p.roles += v + ";"
	}
	p.kelvin, _ = x.RequestHeader("x-\u212aey")
	return Continue()
}

func (p *headerProbe) OnResponseHeaders(x *Exchange) Result {
	// The first response header looked up is read on its own (respOne).
	p.contentType, _ = x.ResponseHeader("Content-Type")
	return Continue()
}

func TestHeaderGettersInEmulator(t *testing.T) {
	probe := &headerProbe{}
	opt := proxytest.NewEmulatorOption().WithVMContext(Static(Use("probe", probe)))
	host, reset := proxytest.NewHostEmulator(opt)
	defer reset()
	if host.StartPlugin() != types.OnPluginStartStatusOK {
		t.Fatalf("plugin did not start: %q", host.GetCriticalLogs())
	}
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, [][2]string{{":path", "/"}, {"X-Role", "admin"}, {"x-role", "ops"}, {"x-key", "k"}}, true)
	host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"Content-Type", "text/plain"}}, true)
	host.CompleteHttpContext(id)
	if probe.role != "admin" || probe.roles != "admin;ops;" || probe.contentType != "text/plain" || probe.kelvin != "" {
		t.Errorf("probe read %+v", *probe)
	}
}

func TestHeaderLookupLowerCaseAllocatesNothing(t *testing.T) {
	x := loadedExchange([][2]string{{":path", "/"}, {"x-request-id", "1"}, {"X-Role", "admin"}},
		[][2]string{{":status", "200"}, {"content-type", "text/plain"}})
	if n := testing.AllocsPerRun(100, func() {
		x.RequestHeader("x-role")
		x.RequestHeader("x-missing")
		x.ResponseHeader("content-type")
	}); n != 0 {
		t.Errorf("a lower-case lookup allocates %v times, want 0", n)
	}
}

func BenchmarkRequestHeader(b *testing.B) {
	headers := [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "example.com"},
		{"user-agent", "curl"}, {"accept", "*/*"}, {"x-request-id", "1"}, {"x-role", "admin"}}
	x := loadedExchange(headers, nil)
	for _, name := range []string{"x-role", "X-Role"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, ok := x.RequestHeader(name); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
}

// addProbe adds to a header the request has and to one it lacks, then
// reads both back.
type addProbe struct{ forwarded, tags []string }

func (p *addProbe) OnRequestHeaders(x *Exchange) Result {
	x.RequestHeaders() // loaded before the adds
	x.AddRequestHeader("x-forwarded-for", "10.0.0.1")
	x.AddRequestHeader("x-tag", "a")
	p.forwarded, p.tags = x.RequestHeaderValues("x-forwarded-for"), x.RequestHeaderValues("x-tag")
	return Continue()
}

// After an add to a present header, the getters read what the proxy made
// of it, which depends on the header (Envoy joins the values of its inline
// headers, the emulator those of every header), rather than assume a
// separate entry; an add to an absent header is one entry everywhere.
func TestAddedHeaderReadBack(t *testing.T) {
	probe := &addProbe{}
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(Static(Use("probe", probe))))
	defer reset()
	if host.StartPlugin() != types.OnPluginStartStatusOK {
		t.Fatalf("plugin did not start: %q", host.GetCriticalLogs())
	}
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, [][2]string{{":path", "/"}, {"x-forwarded-for", "192.0.2.1"}}, true)
	held := lookupAll(host.GetCurrentRequestHeaders(id), "x-forwarded-for")
	if !slices.Equal(probe.forwarded, held) || !slices.Equal(probe.tags, []string{"a"}) {
		t.Errorf("read back x-forwarded-for %q (the proxy holds %q), x-tag %q (want [a])", probe.forwarded, held, probe.tags)
	}
}
