package httptoken

import "testing"

func TestMediaType(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   string
		ok     bool
		json   bool
	}{
		{[]string{"application/json"}, "application/json", true, true},
		{[]string{" Application/JSON ; charset=utf-8"}, "application/json", true, true},
		{[]string{"application/problem+json"}, "application/problem+json", true, true},
		{[]string{"text/event-stream"}, "text/event-stream", true, false},
		{[]string{"+json"}, "+json", true, false},
		{[]string{"application/json", "text/plain"}, "", false, false},
		{nil, "", false, false},
	} {
		got, ok := MediaType(c.values)
		if got != c.want || ok != c.ok || IsJSON(got) != c.json {
			t.Errorf("MediaType(%q) = %q, %v (JSON %v); want %q, %v (JSON %v)", c.values, got, ok, IsJSON(got), c.want, c.ok, c.json)
		}
	}
}

func TestEncoded(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   string
		ok     bool
	}{
		{nil, "", false},
		{[]string{"identity"}, "", false},
		{[]string{" IDENTITY ", ""}, "", false},
		{[]string{"identity", "gzip"}, "gzip", true},
		{[]string{" br "}, "br", true},
	} {
		if got, ok := Encoded(c.values); got != c.want || ok != c.ok {
			t.Errorf("Encoded(%q) = %q, %v; want %q, %v", c.values, got, ok, c.want, c.ok)
		}
	}
}
