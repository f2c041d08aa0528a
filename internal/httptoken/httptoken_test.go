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
