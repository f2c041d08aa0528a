package httptoken

import "testing"

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"GET": true, "x-request-id": true, "PROPFIND": true, "a!#$%&'*+.^_`|~": true,
		"": false, "x y": false, "x:y": false, "a\"b": false, "é": false, "a\x7f": false, "x/y": false,
	} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestControlChar(t *testing.T) {
	for s, want := range map[string]int{
		"": -1, "text/plain; charset=utf-8": -1, "a\tb": -1, "é": -1, "\x80\xff": -1,
		"\x00": 0, "a\rb": 1, "a\nb": 1, "ab\x1f": 2, "a\x7f": 1, "\x1b[31m": 0, "a\r\nb": 1,
	} {
		if got := ControlChar(s); got != want {
			t.Errorf("ControlChar(%q) = %d, want %d", s, got, want)
		}
		if got := ValidValue(s); got != (want < 0) {
			t.Errorf("ValidValue(%q) = %v, want %v", s, got, want < 0)
		}
	}
}
