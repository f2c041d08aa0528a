package ratelimit

import (
	"errors"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/conf"
)

// FuzzParseConfig feeds arbitrary JSON to the decoder and the validator.
// Neither may panic; their errors must be path errors with a reason; a
// configuration they accept must be usable: every limit's bucket admits
// exactly its burst at one instant, and the denial is valid JSON with the
// retry time. Seeds are in testdata/fuzz/FuzzParseConfig.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"requests_per_unit": 2, "unit": "second"}`))
	f.Add([]byte(`{"global": {"cluster": "rl", "domain": "api", "descriptors": [{"entries": [{"request_header": {"name": "x-client", "key": "client"}}, {"path": {}}]}]}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !gjson.ValidBytes(doc) {
			return
		}
		cfg, err := ParseConfig(gjson.ParseBytes(doc))
		if err != nil {
			requirePathError(t, err)
			return
		}
		c, err := compile(cfg, "fuzz")
		if err != nil {
			requirePathError(t, err)
			return
		}
		if c.deny.Status < 300 || c.deny.Status > 599 || c.onError < 300 || c.onError > 599 || len(c.rules) == 0 && c.global == nil {
			t.Fatalf("%s: accepted status %d (%d on error) with %d rules", doc, c.deny.Status, c.onError, len(c.rules))
		}
		for _, r := range c.rules {
			rt := r.tbl.rate
			if rt.fill < 1 || rt.interval < 1 || rt.burst < 1 || rt.burst > maxCount || (r.parts != nil) != (r.tbl.slots > 0) {
				t.Fatalf("%s: rule %s compiled to %+v, %d slots", doc, r.name, rt, r.tbl.slots)
			}
			data := newMemStore()
			granted := int64(0)
			for i := int64(0); i <= min(rt.burst, 100); i++ {
				if take(data, r.tbl, r.tbl.single, nil, t0).allowed {
					granted++
				}
			}
			if granted != min(rt.burst, 101) {
				t.Fatalf("%s: rule %s granted %d at one instant, burst %d", doc, r.name, granted, rt.burst)
			}
			resp := c.denial(r, quota{known: true, retryAfter: 1500 * ms})
			if c.deny.Body == "" && (!gjson.Valid(resp.Body) || gjson.Get(resp.Body, "retry_after").Int() != 2) {
				t.Fatalf("%s: denial body %s", doc, resp.Body)
			}
			if n := countHeader(resp.Headers, "content-type"); n != 1 {
				t.Fatalf("%s: denial has %d content-types: %q", doc, n, resp.Headers)
			}
			if n := countHeader(resp.Headers, "retry-after"); n != 1 {
				t.Fatalf("%s: denial has %d retry-afters: %q", doc, n, resp.Headers)
			}
		}
	})
}

func countHeader(headers [][2]string, name string) (n int) {
	for _, h := range headers {
		if h[0] == name {
			n++
		}
	}
	return n
}

func requirePathError(t *testing.T, err error) {
	var e *conf.Error
	if !errors.As(err, &e) || e.Reason == "" {
		t.Fatalf("error %q is not a path error with a reason", err)
	}
}
