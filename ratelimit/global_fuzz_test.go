package ratelimit

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// FuzzJSONString: any header value becomes one valid JSON string, which
// reads back as the value when the value is UTF-8.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "c1", `a"b\c`, "\x00\x1f\x7f", "\xff\xfe", "é\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		doc := `{"v":` + string(b) + `}`
		if !gjson.Valid(doc) {
			t.Fatalf("%q: not valid JSON: %s", s, b)
		}
		got := gjson.Get(doc, "v")
		if got.Type != gjson.String {
			t.Fatalf("%q: read back as %v", s, got.Type)
		}
		if utf8.ValidString(s) && got.Str != s {
			t.Fatalf("%q: read back as %q", s, got.Str)
		}
		if !utf8.ValidString(s) && !strings.Contains(got.Str, "\ufffd") {
			t.Fatalf("%q: invalid UTF-8 kept as %q", s, got.Str)
		}
	})
}

// FuzzStatuses: the statuses of any answer are read without panicking, and
// whatever is accepted gives headers of digits and a retry time.
func FuzzStatuses(f *testing.F) {
	f.Add(`[{"code":"OVER_LIMIT","currentLimit":{"requestsPerUnit":3,"unit":"MINUTE"},"durationUntilReset":"41.200s"},{"code":"OK"}]`)
	f.Add(`[{"limitRemaining":"5","currentLimit":{"requestsPerUnit":"7","unit":"SECOND"}}]`)
	f.Fuzz(func(t *testing.T, doc string) {
		if !gjson.Valid(doc) {
			return
		}
		st, err := parseStatuses(gjson.Parse(doc))
		if err != "" {
			return
		}
		if st.retryAfter <= 0 {
			t.Fatalf("%s: retry after %v", doc, st.retryAfter)
		}
		for _, h := range st.headers() {
			if h[1] == "" || strings.ContainsAny(h[1], "\r\n\x00") {
				t.Fatalf("%s: header %q", doc, h)
			}
		}
	})
}
