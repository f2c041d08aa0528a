package policy_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy"
)

func TestDenyResponse(t *testing.T) {
	def := policy.Response{Status: 403, Body: "access denied\n", Headers: [][2]string{{"x-default", "1"}}}
	cases := []struct {
		name    string
		d       policy.DenyResponse
		status  uint32
		body    string
		headers [][2]string
		err     string
	}{
		{name: "defaults", status: 403, body: "access denied\n", headers: [][2]string{{"x-default", "1"}}},
		{name: "a body is text", d: policy.DenyResponse{Status: 451, Body: "gone"}, status: 451, body: "gone",
			headers: [][2]string{{"content-type", "text/plain; charset=utf-8"}, {"x-default", "1"}}},
		{name: "content type", d: policy.DenyResponse{Body: "{}", ContentType: "application/json"}, status: 403, body: "{}",
			headers: [][2]string{{"content-type", "application/json"}, {"x-default", "1"}}},
		{name: "content type as a header", d: policy.DenyResponse{Body: "<b>no</b>", Headers: [][2]string{{"Content-Type", "text/html"}}}, status: 403, body: "<b>no</b>",
			headers: [][2]string{{"content-type", "text/html"}, {"x-default", "1"}}},
		{name: "redirect", d: policy.DenyResponse{Status: 302, Headers: [][2]string{{"Location", "/login"}, {"X-Default", "2"}}}, status: 302, body: "access denied\n",
			headers: [][2]string{{"location", "/login"}, {"x-default", "2"}}},
		{name: "success is no denial", d: policy.DenyResponse{Status: 200}, err: "status: must be an HTTP status code from 300 to 599, not 200"},
		{name: "too high", d: policy.DenyResponse{Status: 600}, err: "status: must be an HTTP status code from 300 to 599, not 600"},
		{name: "content type twice", d: policy.DenyResponse{ContentType: "a/b", Headers: [][2]string{{"content-type", "c/d"}}}, err: "headers.content-type: cannot be combined with content_type; set one of them"},
		{name: "header injection", d: policy.DenyResponse{Headers: [][2]string{{"x-a", "b\r\nset-cookie: c"}}}, err: "headers.x-a: must not contain CR, LF, NUL or other control characters"},
		{name: "NUL in a value", d: policy.DenyResponse{Headers: [][2]string{{"x-a", "b\x00"}}}, err: "headers.x-a: must not contain CR, LF, NUL or other control characters"},
		{name: "a huge header value", d: policy.DenyResponse{Headers: [][2]string{{"x-a", strings.Repeat("a", 8<<10+1)}}}, err: "headers.x-a: is 8193 bytes; a header value may have at most 8192"},
		{name: "a huge body", d: policy.DenyResponse{Body: strings.Repeat("a", 64<<10+1)}, err: "body: is 65537 bytes; a reply's body may have at most 65536"},
		{name: "bad name", d: policy.DenyResponse{Headers: [][2]string{{"x a", "b"}}}, err: `headers: "x a" is not a header name`},
		{name: "pseudo-header", d: policy.DenyResponse{Headers: [][2]string{{":status", "200"}}}, err: `headers: ":status" is not a header name`},
		{name: "content type with a line break", d: policy.DenyResponse{ContentType: "text/plain\r\nx: y"}, err: `content_type: must not contain control characters, not "text/plain\r\nx: y"`},
	}
	for _, c := range cases {
		r, err := c.d.Response(def)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || r.Status != c.status || string(r.Body) != c.body || !reflect.DeepEqual(r.Headers, c.headers) {
			t.Errorf("%s: %d %q %q, %v; want %d %q %q", c.name, r.Status, r.Body, r.Headers, err, c.status, c.body, c.headers)
		}
	}
}
