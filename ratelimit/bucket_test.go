package ratelimit

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano()

// step is one call of allowN at t0+at, and what must follow.
type step struct {
	at     time.Duration
	n      int64
	ok     bool
	tokens int64         // tokens left after the call
	wait   time.Duration // wait(now, 1) after the call
	reset  time.Duration // reset(now) after the call
}

func runSteps(t *testing.T, r rate, steps []step) {
	t.Helper()
	b := bucket{rate: r, state: r.full(t0)}
	for i, s := range steps {
		now := t0 + int64(s.at)
		n := s.n
		if n == 0 {
			n = 1
		}
		if ok := b.allowN(now, n); ok != s.ok {
			t.Fatalf("step %d (t0+%v, n=%d): allowed %v, want %v (state %+v)", i, s.at, n, ok, s.ok, b.state)
		}
		if b.tokens != s.tokens {
			t.Fatalf("step %d (t0+%v): %d tokens left, want %d", i, s.at, b.tokens, s.tokens)
		}
		if w := b.wait(now, 1); w != s.wait {
			t.Fatalf("step %d (t0+%v): wait %v, want %v", i, s.at, w, s.wait)
		}
		if rs := b.reset(now); rs != s.reset {
			t.Fatalf("step %d (t0+%v): reset %v, want %v", i, s.at, rs, s.reset)
		}
	}
}

const ms = time.Millisecond

func TestBucketTutorialRate(t *testing.T) {
	// 2 per second: three requests 0.25 s apart get yes, yes, no; the
	// next second brings two more.
	runSteps(t, rate{fill: 2, interval: int64(time.Second), burst: 2}, []step{
		{at: 0, ok: true, tokens: 1, reset: time.Second},
		{at: 250 * ms, ok: true, tokens: 0, wait: 750 * ms, reset: 750 * ms},
		{at: 500 * ms, ok: false, tokens: 0, wait: 500 * ms, reset: 500 * ms},
		{at: 999 * ms, ok: false, tokens: 0, wait: 1 * ms, reset: 1 * ms},
		{at: 1000 * ms, ok: true, tokens: 1, reset: time.Second},
		{at: 1100 * ms, ok: true, tokens: 0, wait: 900 * ms, reset: 900 * ms},
		{at: 1200 * ms, ok: false, tokens: 0, wait: 800 * ms, reset: 800 * ms},
	})
}

func TestBucketRefillKeepsItsPhase(t *testing.T) {
	// 1 per second into a bucket of 5: partial intervals are not lost.
	runSteps(t, rate{fill: 1, interval: int64(time.Second), burst: 5}, []step{
		{at: 0, n: 5, ok: true, tokens: 0, wait: time.Second, reset: time.Second},
		{at: 2500 * ms, ok: true, tokens: 1, reset: 500 * ms}, // two fills, at 1 s and 2 s
		{at: 2999 * ms, ok: true, tokens: 0, wait: 1 * ms, reset: 1 * ms},
		{at: 3000 * ms, ok: true, tokens: 0, wait: time.Second, reset: time.Second},
		{at: 3000 * ms, ok: false, tokens: 0, wait: time.Second, reset: time.Second},
		{at: 5000 * ms, n: 3, ok: false, tokens: 2, wait: 0, reset: time.Second},
		{at: 5000 * ms, n: 2, ok: true, tokens: 0, wait: time.Second, reset: time.Second},
	})
}

func TestBucketBurst(t *testing.T) {
	// A burst larger than a fill lets a quiet client catch up at once,
	// never beyond the burst.
	steps := []step{}
	for i := int64(0); i < 10; i++ {
		steps = append(steps, step{at: 0, ok: true, tokens: 9 - i, reset: 3 * time.Second})
	}
	steps[9].wait = 3 * time.Second
	steps = append(steps,
		step{at: 0, ok: false, tokens: 0, wait: 3 * time.Second, reset: 3 * time.Second},
		step{at: 3 * time.Second, n: 4, ok: true, tokens: 0, wait: 3 * time.Second, reset: 3 * time.Second},
		step{at: 3 * time.Second, ok: false, tokens: 0, wait: 3 * time.Second, reset: 3 * time.Second},
		step{at: 9 * time.Second, n: 8, ok: true, tokens: 0, wait: 3 * time.Second, reset: 3 * time.Second},
	)
	runSteps(t, rate{fill: 4, interval: int64(3 * time.Second), burst: 10}, steps)
}

func TestBucketLongIdle(t *testing.T) {
	// Years of idleness fill the bucket to its burst and no further, and
	// its fill clock restarts at the first draw.
	year := 365 * 24 * time.Hour
	runSteps(t, rate{fill: 3, interval: int64(time.Minute), burst: 3}, []step{
		{at: 0, n: 3, ok: true, tokens: 0, wait: time.Minute, reset: time.Minute},
		{at: 10 * year, n: 4, ok: false, tokens: 3, reset: 0},
		{at: 10*year + 30*time.Second, ok: true, tokens: 2, reset: time.Minute},
		{at: 10*year + 30*time.Second, n: 2, ok: true, tokens: 0, wait: time.Minute, reset: time.Minute},
		{at: 10*year + 89*time.Second, ok: false, tokens: 0, wait: time.Second, reset: time.Second},
		{at: 10*year + 90*time.Second, ok: true, tokens: 2, reset: time.Minute},
	})
}

func TestBucketClockGoesBackwards(t *testing.T) {
	// A request stamped earlier than the last fill (another worker's
	// clock, or a request that took long to reach the filter) adds no
	// tokens and does not move the fill clock back.
	runSteps(t, rate{fill: 1, interval: int64(time.Second), burst: 2}, []step{
		{at: 0, n: 2, ok: true, tokens: 0, wait: time.Second, reset: time.Second},
		{at: 5 * time.Second, ok: true, tokens: 1, reset: time.Second}, // full at 2 s, restarted at 5 s
		{at: 3 * time.Second, ok: true, tokens: 0, wait: 3 * time.Second, reset: 3 * time.Second},
		{at: 1 * time.Second, ok: false, tokens: 0, wait: 5 * time.Second, reset: 5 * time.Second},
		{at: 5999 * ms, ok: false, tokens: 0, wait: 1 * ms, reset: 1 * ms},
		{at: 6 * time.Second, ok: true, tokens: 0, wait: time.Second, reset: time.Second},
	})
}

func TestBucketFullBucketRestartsItsClock(t *testing.T) {
	// Full since t0, first drawn at 10.4 s: the next fill is at 11.4 s,
	// as for a bucket created at 10.4 s.
	runSteps(t, rate{fill: 1, interval: int64(time.Second), burst: 1}, []step{
		{at: 10400 * ms, ok: true, tokens: 0, wait: time.Second, reset: time.Second},
		{at: 11 * time.Second, ok: false, tokens: 0, wait: 400 * ms, reset: 400 * ms},
		{at: 11400 * ms, ok: true, tokens: 0, wait: time.Second, reset: time.Second},
	})
}

func TestBucketMoreThanTheBurst(t *testing.T) {
	b := bucket{rate: rate{fill: 1, interval: int64(time.Second), burst: 2}}
	b.state = b.full(t0)
	if b.allowN(t0+int64(time.Hour), 3) {
		t.Fatal("allowed 3 tokens from a bucket of 2")
	}
	if w := b.wait(t0, 3); w != math.MaxInt64 {
		t.Fatalf("wait for more than the burst = %v, want forever", w)
	}
}

func TestBucketIdle(t *testing.T) {
	b := bucket{rate: rate{fill: 2, interval: int64(time.Second), burst: 4}}
	b.state = b.full(t0)
	b.allowN(t0, 3)
	for _, c := range []struct {
		at   time.Duration
		idle bool
	}{{0, false}, {1999 * ms, false}, {1 * time.Second, false}, {2 * time.Second, true}, {-time.Second, false}} {
		if got := b.idle(t0 + int64(c.at)); got != c.idle {
			t.Errorf("idle at t0+%v = %v, want %v", c.at, got, c.idle)
		}
	}
	if b.tokens != 1 || b.last != t0 {
		t.Errorf("idle changed the bucket: %+v", b.state)
	}
}

func TestBucketHugeNumbersDoNotOverflow(t *testing.T) {
	b := bucket{rate: rate{fill: maxCount, interval: math.MaxInt64 / 2, burst: maxCount}}
	b.state = b.full(0)
	if !b.allowN(0, maxCount) || b.allowN(1, 1) {
		t.Fatal("a full bucket of maxCount tokens did not behave")
	}
	if w := b.wait(1, 1); w <= 0 {
		t.Fatalf("wait = %v, want positive", w)
	}
	if !b.allowN(math.MaxInt64, 1) || b.tokens != maxCount-1 {
		t.Fatalf("after the longest wait: %+v", b.state)
	}
}
