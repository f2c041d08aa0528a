package ratelimit

import (
	"encoding/json"
	"testing"
)

// The default denial body is what encoding/json would write, and stays
// valid JSON whatever the limit's text holds.
func TestDenialBody(t *testing.T) {
	if got, want := string(withRetryAfter(exceededBody("2 per second"), 1)), `{"error":"rate limit exceeded","limit":"2 per second","retry_after":1}`; got != want {
		t.Errorf("body %s, want %s", got, want)
	}
	if got, want := string(withRetryAfter(exceededBody(""), 42)), `{"error":"rate limit exceeded","retry_after":42}`; got != want {
		t.Errorf("body without a limit %s, want %s", got, want)
	}
	for _, limit := range []string{"3 per \"min\\ute\"", "1 per\n\t\x00\x1f\x7f", "5 per é\u2028<&>", "2 per \xff"} {
		body := exceededBody(limit)
		b := withRetryAfter(body, 7)
		var v struct {
			Error      string `json:"error"`
			Limit      string `json:"limit"`
			RetryAfter int64  `json:"retry_after"`
		}
		if err := json.Unmarshal([]byte(b), &v); err != nil {
			t.Fatalf("limit %q: body %s is not JSON: %v", limit, b, err)
		}
		want, _ := json.Marshal(limit) // invalid UTF-8 becomes U+FFFD, as in ours
		var wantLimit string
		_ = json.Unmarshal(want, &wantLimit)
		if v.Error != "rate limit exceeded" || v.Limit != wantLimit || v.RetryAfter != 7 {
			t.Errorf("limit %q: body %s reads as %+v", limit, b, v)
		}
		if string(withRetryAfter(body, 7)) != string(b) {
			t.Errorf("withRetryAfter changed its argument")
		}
	}
}
