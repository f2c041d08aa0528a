package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/httptoken"
)

// Conversions between net/http and the header lists a plugin sees: lower-case
// names, one entry per value, pseudo-headers for the request and status line.

// hopByHop are the headers of one connection, which a proxy does not pass on.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "te": true,
	"transfer-encoding": true, "upgrade": true, "trailer": true,
}

// headerList lists h's entries with lower-case names, sorted by name.
func headerList(h http.Header) [][2]string {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	var out [][2]string
	for _, name := range names {
		lower := strings.ToLower(name)
		if hopByHop[lower] {
			continue
		}
		for _, v := range h[name] {
			out = append(out, [2]string{lower, v})
		}
	}
	return out
}

// toRequest reads r as the plugin gets it: the pseudo-headers, the
// headers, what Envoy adds at the edge (x-request-id and x-forwarded-for
// when absent, x-forwarded-proto replaced), and the whole body.
func toRequest(r *http.Request, route string) (*host.Request, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("request body larger than %d bytes", maxBody)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	headers := [][2]string{{":authority", r.Host}, {":path", r.RequestURI}, {":method", r.Method}, {":scheme", scheme}}
	for _, h := range headerList(r.Header) {
		if h[0] != "x-forwarded-proto" {
			headers = append(headers, h)
		}
	}
	if r.Header.Get("X-Request-Id") == "" {
		headers = append(headers, [2]string{"x-request-id", requestID()})
	}
	if _, ok := r.Header["X-Forwarded-For"]; !ok {
		if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			headers = append(headers, [2]string{"x-forwarded-for", ip})
		}
	}
	headers = append(headers, [2]string{"x-forwarded-proto", scheme})
	req := &host.Request{Headers: headers, Body: body, Source: r.RemoteAddr, Route: route}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		req.Destination = addr.String()
	}
	return req, nil
}

// requestID is a random UUID (version 4), as Envoy generates.
func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func pseudo(headers [][2]string, name string) string {
	for _, h := range headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// roundTrip sends a request described by headers (with :method, :path and
// :authority) and body to base (its scheme, host and path prefix), and
// returns the response with its headers as a list.
func (p *proxy) roundTrip(ctx context.Context, base *url.URL, headers [][2]string, body []byte) (int, [][2]string, []byte, error) {
	path := pseudo(headers, ":path")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target, err := url.Parse(strings.TrimSuffix(base.String(), "/") + path)
	if err != nil {
		return 0, nil, nil, err
	}
	out, err := http.NewRequestWithContext(ctx, pseudo(headers, ":method"), target.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	out.Host = pseudo(headers, ":authority") // kept, as Envoy keeps it
	for _, h := range headers {
		if name := h[0]; !strings.HasPrefix(name, ":") && !hopByHop[name] && name != "content-length" && name != "host" && httptoken.Valid(name) {
			// net/http writes the canonical keys it knows (User-Agent)
			// itself: a key in another spelling would be sent besides them.
			key := http.CanonicalHeaderKey(name)
			out.Header[key] = append(out.Header[key], h[1])
		}
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // net/http would send its own
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, nil, err
	}
	if len(respBody) > maxBody {
		return 0, nil, nil, errors.New("response body larger than " + strconv.Itoa(maxBody) + " bytes")
	}
	return resp.StatusCode, headerList(resp.Header), respBody, nil
}

// writeResponse sends resp to the client; nothing was written before.
func writeResponse(w http.ResponseWriter, resp *host.Response) {
	h := w.Header()
	for _, e := range resp.Headers {
		if name := e[0]; !strings.HasPrefix(name, ":") && !hopByHop[name] && name != "content-length" && httptoken.Valid(name) {
			key := http.CanonicalHeaderKey(name)
			h[key] = append(h[key], e[1])
		}
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // net/http would guess one; Envoy does not
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	w.Write(resp.Body)
}
