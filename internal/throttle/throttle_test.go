package throttle

import (
	"testing"
	"time"
)

func TestReport(t *testing.T) {
	var l Log
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at   time.Duration
		n    int
		log  bool
		more int
	}{
		{0, 1, true, 0},              // the first line goes through
		{time.Second, 2, false, 0},   // within the period: counted
		{-time.Hour, 1, false, 0},    // a clock gone backwards: counted
		{Period, 3, true, 3 + 3 - 1}, // the next line: 3 left out before, 2 of its own
		{Period + time.Second, 1, false, 0},
		{3 * Period, 1, true, 1},
	}
	for i, s := range steps {
		log, more := l.Report(t0.Add(s.at), s.n)
		if log != s.log || more != s.more {
			t.Errorf("step %d: Report = %v, %d; want %v, %d", i, log, more, s.log, s.more)
		}
	}
}
