package ratelimit

import (
	"math"
	"time"
)

// bucket is a token bucket with time as a parameter, in integer
// arithmetic: whole tokens and nanoseconds, so that its state packs exactly
// into a shared-data record and every worker computes the same result from
// the same record.
//
// The bucket holds at most burst tokens and starts full. Every interval
// since the last fill adds fill tokens; the fills are computed from the
// elapsed time when a request arrives, so no timer is needed. This is
// Envoy's local_ratelimit bucket: with fill = burst = 2 and a 1 s interval,
// a third request within the second is denied, however the two before it
// were spaced.
//
// A full bucket carries no history: its fill clock restarts when it is
// first drawn from, so a full bucket and a fresh one behave alike. Idle
// buckets can therefore be reclaimed without changing any decision.
type bucket struct {
	rate
	state
}

// rate is the shape of a bucket; it comes from the configuration.
type rate struct {
	fill     int64 // tokens added per interval, > 0
	interval int64 // nanoseconds, > 0
	burst    int64 // capacity, > 0
}

// state is what changes; it is what a record stores.
type state struct {
	tokens int64 // -burst ≤ tokens ≤ burst; below 0 only when a cost overdrew it
	last   int64 // Unix nanoseconds of the last fill, or of the first draw from full
}

// full is the state of a fresh bucket at now.
func (r rate) full(now int64) state { return state{tokens: r.burst, last: now} }

// advance adds the fills due at now. A clock that went backwards (another
// worker's request carrying an earlier time) adds nothing and never moves
// the fill clock back.
func (b *bucket) advance(now int64) {
	if b.tokens >= b.burst {
		b.tokens = b.burst
		if now > b.last {
			b.last = now // a full bucket's clock restarts at its first draw
		}
		return
	}
	if now <= b.last {
		return
	}
	fills := (now - b.last) / b.interval
	if fills == 0 {
		return
	}
	if need := ceilDiv(b.burst-b.tokens, b.fill); fills >= need {
		b.tokens, b.last = b.burst, now
		return
	}
	b.tokens += fills * b.fill // < burst: no overflow
	b.last += fills * b.interval
}

// allowN takes n tokens at now if the bucket has them, and reports whether
// it did. The state changes only when it does, or when fills were due.
func (b *bucket) allowN(now int64, n int64) bool {
	b.advance(now)
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

// draw takes n tokens at now whether the bucket has them or not, down to
// -burst: the charge of a request whose cost is known only once it is
// served. A bucket below zero admits nothing until fills bring it back.
func (b *bucket) draw(now int64, n int64) {
	b.advance(now)
	b.tokens = max(b.tokens-min(n, maxCount), -b.burst)
}

// idle reports whether the bucket is full at now: it may be forgotten.
func (b bucket) idle(now int64) bool {
	b.advance(now)
	return b.tokens >= b.burst
}

// wait is how long after now the bucket will hold n tokens (0 if it does
// now), or a very long time if n exceeds the burst. Call it after advance.
func (b *bucket) wait(now int64, n int64) time.Duration {
	if b.tokens >= n {
		return 0
	}
	if n > b.burst {
		return math.MaxInt64
	}
	fills := ceilDiv(n-b.tokens, b.fill)
	return time.Duration(satAdd(b.last, satMul(fills, b.interval)) - now)
}

// reset is how long after now the next fill comes (0 for a full bucket).
// Call it after advance.
func (b *bucket) reset(now int64) time.Duration {
	if b.tokens >= b.burst {
		return 0
	}
	return time.Duration(satAdd(b.last, b.interval) - now)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// satMul multiplies non-negative numbers, saturating at MaxInt64.
func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// satAdd adds a non-negative b to a, saturating at MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
