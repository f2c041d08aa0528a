package host

import (
	"slices"
	"testing"
)

// TestHeaderMapAddAsEnvoy: proxy_add_header_map_value appends to a present
// inline header after a comma and gives any other header one more entry,
// with the inline headers of the map it is made on.
func TestHeaderMapAddAsEnvoy(t *testing.T) {
	for _, c := range []struct {
		name       string
		kind       mapKind
		have       headerMap
		key, value string
		want       headerMap
	}{
		{"inline request header present", requestHeaderMap,
			headerMap{{"x-forwarded-for", "192.0.2.1"}, {"x-a", "1"}}, "x-forwarded-for", "10.0.0.1",
			headerMap{{"x-forwarded-for", "192.0.2.1,10.0.0.1"}, {"x-a", "1"}}},
		{"other request header present", requestHeaderMap,
			headerMap{{"x-tag", "a"}, {"x-a", "1"}}, "x-tag", "b",
			headerMap{{"x-tag", "a"}, {"x-a", "1"}, {"x-tag", "b"}}},
		{"inline response header present", responseHeaderMap,
			headerMap{{":status", "200"}, {"via", "1.1 upstream"}}, "Via", "policy",
			headerMap{{":status", "200"}, {"via", "1.1 upstream,policy"}}},
		{"other response header present", responseHeaderMap,
			headerMap{{":status", "200"}, {"set-cookie", "a=1"}}, "set-cookie", "b=2",
			headerMap{{":status", "200"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}}},
		{"cookie is not inline", requestHeaderMap,
			headerMap{{"cookie", "a=1"}}, "cookie", "b=2",
			headerMap{{"cookie", "a=1"}, {"cookie", "b=2"}}},
		{"vary is inline in responses only", requestHeaderMap,
			headerMap{{"vary", "accept"}}, "vary", "origin",
			headerMap{{"vary", "accept"}, {"vary", "origin"}}},
		{"vary in a response", responseHeaderMap,
			headerMap{{"vary", "accept"}}, "vary", "origin",
			headerMap{{"vary", "accept,origin"}}},
		{"no inline request trailer", requestTrailerMap,
			headerMap{{"grpc-status", "0"}}, "grpc-status", "1",
			headerMap{{"grpc-status", "0"}, {"grpc-status", "1"}}},
		{"inline response trailer", responseTrailerMap,
			headerMap{{"grpc-message", "a"}}, "grpc-message", "b",
			headerMap{{"grpc-message", "a,b"}}},
		{"an empty value appends nothing", requestHeaderMap,
			headerMap{{"user-agent", "curl"}}, "user-agent", "",
			headerMap{{"user-agent", "curl"}}},
		{"no comma after an empty value", requestHeaderMap,
			headerMap{{"user-agent", ""}}, "user-agent", "curl",
			headerMap{{"user-agent", "curl"}}},
		{"inline header absent", requestHeaderMap,
			headerMap{{"x-a", "1"}}, "x-request-id", "r1",
			headerMap{{"x-a", "1"}, {"x-request-id", "r1"}}},
		{"host is :authority in requests", requestHeaderMap,
			headerMap{{":authority", "a.example"}, {"x-a", "1"}}, "Host", "b.example",
			headerMap{{":authority", "a.example,b.example"}, {"x-a", "1"}}},
		{"host in a response", responseHeaderMap,
			headerMap{{":status", "200"}}, "host", "b.example",
			headerMap{{":status", "200"}, {"host", "b.example"}}},
		{"a new pseudo-header goes with the others", requestHeaderMap,
			headerMap{{":method", "GET"}, {"x-a", "1"}}, ":path", "/",
			headerMap{{":method", "GET"}, {":path", "/"}, {"x-a", "1"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.have.clone()
			m.add(c.kind, c.key, c.value)
			if !slices.Equal(m, c.want) {
				t.Errorf("adding %s: %q to %q gives %q, want %q", c.key, c.value, c.have, m, c.want)
			}
		})
	}
}

// TestHeaderMapHostIsAuthority: a request header map reads, replaces and
// removes "host" as :authority, as Envoy's does.
func TestHeaderMapHostIsAuthority(t *testing.T) {
	m := headerMap{{":authority", "a.example"}, {"x-a", "1"}}
	if v, ok := m.get(canonical(requestHeaderMap, "Host")); !ok || v != "a.example" {
		t.Errorf("host reads %q, %v; want :authority's a.example", v, ok)
	}
	m.replace(requestHeaderMap, "host", "b.example")
	if !slices.Equal(m, headerMap{{":authority", "b.example"}, {"x-a", "1"}}) {
		t.Errorf("after replacing host: %q", m)
	}
	m.remove(requestHeaderMap, "host")
	if !slices.Equal(m, headerMap{{"x-a", "1"}}) {
		t.Errorf("after removing host: %q", m)
	}
}

// TestHeaderMapSetPairsAddsEach: proxy_set_header_map_pairs adds the pairs
// one by one, so that an inline header named twice ends as one entry.
func TestHeaderMapSetPairsAddsEach(t *testing.T) {
	m := headerMap{{"x-old", "1"}}
	m.set(requestHeaderMap, headerMap{{":path", "/"}, {"via", "a"}, {"x-b", "1"}, {"via", "b"}, {"x-b", "2"}})
	want := headerMap{{":path", "/"}, {"via", "a,b"}, {"x-b", "1"}, {"x-b", "2"}}
	if !slices.Equal(m, want) {
		t.Errorf("set pairs: %q, want %q", m, want)
	}
}

// TestAddHeaderThroughThePlugin adds a value to present headers through
// proxy_add_header_map_value, from build/headermutate.wasm: an inline
// header gets one entry with both values, any other header two entries.
func TestAddHeaderThroughThePlugin(t *testing.T) {
	h, _ := newHost(t, "headermutate", Config{PluginConfig: []byte(`{
		"request":  {"add": {"x-forwarded-for": "10.0.0.1", "x-tag": "b"}},
		"response": {"add": {"via": "policy", "x-served": "2"}}}`)})
	vm := newVM(t, h)
	up := &upstream{resp: Response{Status: 200, Headers: [][2]string{{"via", "1.1 upstream"}, {"x-served", "1"}}}}
	resp := serve(t, vm, get("/", [2]string{"x-forwarded-for", "192.0.2.1"}, [2]string{"x-tag", "a"}), up.serve)
	seen := up.last(t).Headers
	for _, c := range []struct {
		headers    [][2]string
		name, side string
		values     []string
	}{
		{seen, "x-forwarded-for", "request", []string{"192.0.2.1,10.0.0.1"}},
		{seen, "x-tag", "request", []string{"a", "b"}},
		{resp.Headers, "via", "response", []string{"1.1 upstream,policy"}},
		{resp.Headers, "x-served", "response", []string{"1", "2"}},
	} {
		if got := values(c.headers, c.name); !slices.Equal(got, c.values) {
			t.Errorf("%s %s: %q, want %q", c.side, c.name, got, c.values)
		}
	}
}
