package policy

import "testing"

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1:5000":     "10.0.0.1",
		"10.0.0.1":          "10.0.0.1",
		"[2001:db8::1]:443": "2001:db8::1",
		"2001:db8::1":       "2001:db8::1",
		"":                  "",
	} {
		if got := hostOf(in); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeaderNameIsASCIIOnly(t *testing.T) {
	for in, want := range map[string]string{"X-Trace": "x-trace", "x-é": "x-é", "X-É": "x-É", "ÄB": "Äb", "你好": "你好", "": ""} {
		if got := HeaderName(in); got != want {
			t.Errorf("HeaderName(%q) = %q, want %q", in, got, want)
		}
	}
}
