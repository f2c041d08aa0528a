package metrics_test

import (
	"testing"

	"github.com/wasmpolicy/policy/metrics"
)

func TestMethodTag(t *testing.T) {
	for method, want := range map[string]string{
		"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "DELETE": "DELETE", "PATCH": "PATCH",
		"OPTIONS": "OPTIONS", "CONNECT": "CONNECT", "TRACE": "TRACE",
		"get": "other", "PROPFIND": "other", "": "other", "GET /": "other",
	} {
		if got := metrics.MethodTag(method); got != want {
			t.Errorf("MethodTag(%q) = %q, want %q", method, got, want)
		}
	}
}

func TestCodeClassTag(t *testing.T) {
	for status, want := range map[string]string{
		"100": "1xx", "101": "1xx", "200": "2xx", "299": "2xx", "302": "3xx", "404": "4xx", "429": "4xx",
		"500": "5xx", "599": "5xx",
		"": "none", "099": "none", "600": "none", "2000": "none", "20": "none", "2x0": "none", "-20": "none",
	} {
		if got := metrics.CodeClassTag(status); got != want {
			t.Errorf("CodeClassTag(%q) = %q, want %q", status, got, want)
		}
	}
}

func TestClosedSets(t *testing.T) {
	if m := metrics.Methods(); len(m) != 10 || m[9] != metrics.OtherMethod {
		t.Errorf("Methods = %v", m)
	}
	if c := metrics.CodeClasses(); len(c) != 6 || c[5] != metrics.NoCode {
		t.Errorf("CodeClasses = %v", c)
	}
	metrics.Methods()[0] = "changed" // a copy: the filter's set cannot be altered
	if metrics.MethodTag("GET") != "GET" {
		t.Error("Methods returned the filter's own array")
	}
	for _, v := range append(metrics.Methods(), metrics.CodeClasses()...) {
		if !metrics.Valid(v) {
			t.Errorf("tag value %q is not valid", v)
		}
	}
	for _, k := range metrics.Keys() {
		if !metrics.ValidName(k) {
			t.Errorf("key %q is not valid", k)
		}
	}
}
