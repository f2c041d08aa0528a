package ratelimit

import (
	"strconv"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/throttle"
)

// denial is the local reply to a request r's bucket denied.
func (c *compiled) denial(r *rule, q quota) policy.Response {
	retry := seconds(q.retryAfter)
	resp := c.deny
	if resp.Body == "" {
		resp.Body = withRetryAfter(r.jsonBody, retry)
	}
	resp.Headers = append([][2]string{{"retry-after", strconv.FormatInt(retry, 10)}}, c.deny.Headers...)
	if c.headers && q.known {
		resp.Headers = append(resp.Headers, q.headers()...)
	}
	resp.Reason = "rate limit exceeded: " + r.describe + " (" + r.name + ")"
	if !q.known {
		resp.Status = c.onError
		if c.deny.Body == "" {
			resp.Body = `{"error":"rate limit state unavailable"}`
		}
		resp.Reason = "rate limit state unavailable; failing closed (" + r.name + ")"
	}
	return resp
}

// headers are the x-ratelimit-* headers for q.
func (q *quota) headers() [][2]string {
	return [][2]string{
		{"x-ratelimit-limit", strconv.FormatInt(q.limit, 10)},
		{"x-ratelimit-remaining", strconv.FormatInt(max(0, q.remaining), 10)}, // below 0 after a cost overdrew it
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

// errorLog reports failures without flooding the log: the first failure of
// a burst is logged at once, later ones at most once a minute, with the
// number left out in between (package throttle). The filter keeps one for
// its shared-data failures and, with a global limit, one for the service's.
type errorLog struct {
	log func(msg string) // the filter's Logger, at warning level
	throttle.Log
}

// warnings is an errorLog writing to the filter's log at warning level.
func warnings(env *policy.Env) errorLog {
	l := env.Log()
	return errorLog{log: func(msg string) { l.Warnf("%s", msg) }}
}

// due reports whether a failure at now (Unix nanoseconds) is to be logged;
// if so, skipped is the number of failures left out since the last line.
func (e *errorLog) due(now int64) (skipped string, ok bool) {
	ok, more := e.Report(time.Unix(0, now), 1)
	return strconv.Itoa(more), ok
}

func (e *errorLog) report(now int64, err error, failClosed bool) {
	skipped, ok := e.due(now)
	if !ok {
		return
	}
	outcome := "letting requests through (failure_mode open)"
	if failClosed {
		outcome = "denying requests (failure_mode closed)"
	}
	e.log("shared data failed: " + err.Error() + "; " + outcome + "; " +
		skipped + " more failures since the last report")
}
