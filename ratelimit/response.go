package ratelimit

import (
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/sjson"

	"github.com/wasmpolicy/policy"
)

// match returns the first rule that matches the request, nil if none.
func (c *compiled) match(x *policy.Exchange) *rule {
	for _, r := range c.rules {
		if r.matches(x) {
			return r
		}
	}
	return nil
}

func (r *rule) matches(x *policy.Exchange) bool {
	if len(r.methods) > 0 {
		method, found := x.Method(), false
		for _, m := range r.methods {
			found = found || m == method
		}
		if !found {
			return false
		}
	}
	if r.path != "" && pathOnly(x.Path()) != r.path {
		return false
	}
	if r.prefix != "" && !strings.HasPrefix(pathOnly(x.Path()), r.prefix) {
		return false
	}
	for _, h := range r.headers {
		v, present := x.RequestHeader(h.Name)
		switch {
		case h.Absent && present, !h.Absent && !present:
			return false
		case h.Equals != "" && v != h.Equals:
			return false
		}
	}
	return true
}

// denial is the local reply to a request r's bucket denied.
func (c *compiled) denial(r *rule, q quota) policy.Response {
	retry := seconds(q.retryAfter)
	body := c.body
	if body == nil {
		body, _ = sjson.SetBytes(r.jsonBody, "retry_after", retry)
	}
	headers := [][2]string{{"retry-after", strconv.FormatInt(retry, 10)}, {"content-type", c.contentType}}
	if c.headers && q.known {
		headers = append(headers, q.headers()...)
	}
	reason := "rate limit exceeded: " + r.describe + " (" + r.name + ")"
	if !q.known {
		reason = "rate limit state unavailable; failing closed (" + r.name + ")"
	}
	return policy.Response{Status: c.status, Headers: headers, Body: body, Reason: reason}
}

// headers are the x-ratelimit-* headers for q.
func (q *quota) headers() [][2]string {
	return [][2]string{
		{"x-ratelimit-limit", strconv.FormatInt(q.limit, 10)},
		{"x-ratelimit-remaining", strconv.FormatInt(q.remaining, 10)},
		{"x-ratelimit-reset", strconv.FormatInt(seconds(q.reset), 10)},
	}
}

// seconds is d in whole seconds, rounded up: a client that waits that long
// finds the tokens there.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// errorLog reports shared-data failures without flooding the log: the first
// failure of a burst is logged at once, later ones at most once a minute,
// with the number left out in between.
type errorLog struct {
	logf    func(format string, args ...any) // proxywasm.LogWarnf
	logged  bool
	last    int64 // when the last line was logged, Unix nanoseconds
	skipped int
}

const errorLogPeriod = int64(time.Minute)

func (e *errorLog) report(id string, now int64, err error, failClosed bool) {
	if e.logged && now-e.last < errorLogPeriod { // an earlier request time counts as within
		e.skipped++
		return
	}
	outcome := "letting requests through (failure_mode open)"
	if failClosed {
		outcome = "denying requests (failure_mode closed)"
	}
	e.logf("ratelimit %s: shared data failed: %v; %s; %d more failures since the last report",
		id, err, outcome, e.skipped)
	e.logged, e.last, e.skipped = true, now, 0
}
