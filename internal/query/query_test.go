package query

import (
	"slices"
	"testing"
)

func TestValues(t *testing.T) {
	for _, c := range []struct {
		query, name string
		want        []string
	}{
		{"_method=DELETE", "_method", []string{"DELETE"}},
		{"a=1&_method=PUT&_method=GET", "_method", []string{"PUT", "GET"}},
		{"a=1;_method=PUT", "_method", []string{"PUT"}},
		{"%5Fmethod=DEL%45TE", "_method", []string{"DELETE"}},
		{"%5fmethod=x+y", "_method", []string{"x y"}},
		{"_method", "_method", []string{""}},
		{"_method=", "_method", []string{""}},
		{"_method=%zz%4", "_method", []string{"%zz%4"}},
		{"x_method=1&_methods=2&_METHOD=3&=4", "_method", nil},
		{"access%5Ftoken=a&access_token=b", "access_token", []string{"a", "b"}},
		{"", "a", nil},
		{"&&;", "", []string{"", "", ""}},
	} {
		if got := Values(nil, c.query, c.name); !slices.Equal(got, c.want) {
			t.Errorf("Values(%q, %q) = %q, want %q", c.query, c.name, got, c.want)
		}
	}
}

func TestOf(t *testing.T) {
	for path, want := range map[string]string{"/a?b=1?c": "b=1?c", "/a": "", "/a?": ""} {
		if got := Of(path); got != want {
			t.Errorf("Of(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestValuesAllocatesOnlyToDecode(t *testing.T) {
	out := make([]string, 0, 4)
	if n := testing.AllocsPerRun(50, func() { Values(out[:0], "a=1&_method=PUT;b=%41", "_method") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func TestWithout(t *testing.T) {
	for _, c := range []struct {
		query, name, rest string
		removed           bool
	}{
		{"access_token=a", "access_token", "", true},
		{"x=1&access_token=a&y=2", "access_token", "x=1&y=2", true},
		{"x=1;access_token=a;y=2", "access_token", "x=1;y=2", true},
		{"access_token=a&access%5Ftoken=b&y=2", "access_token", "y=2", true},
		{"x=1&access_token=a", "access_token", "x=1", true},
		{"access_token&x=%41", "access_token", "x=%41", true},
		{"x=1&y=2", "access_token", "", false},
		{"access_tokens=a", "access_token", "", false},
		{"a=1&&b=2&access_token=c", "access_token", "a=1&&b=2", true},
	} {
		rest, removed := Without(c.query, c.name)
		if rest != c.rest || removed != c.removed {
			t.Errorf("Without(%q, %q) = %q, %v; want %q, %v", c.query, c.name, rest, removed, c.rest, c.removed)
		}
	}
}
