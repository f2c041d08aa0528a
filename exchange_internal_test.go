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

func TestLowerIsASCIIOnly(t *testing.T) {
	for in, want := range map[string]string{"X-Trace": "x-trace", "x-é": "x-é", "X-É": "x-É", "你好": "你好"} {
		if got := lower(in); got != want {
			t.Errorf("lower(%q) = %q, want %q", in, got, want)
		}
	}
}
