// Package throttle keeps a filter's log of repeated faults (invalid values,
// unreadable bodies) to one line a minute, each line saying how many it
// left out, so that a flood of bad requests cannot flood the proxy's log.
package throttle

import "time"

// Period is how often a Log lets a line through at most.
const Period = time.Minute

// Log is when a line was last let through, and how many faults were counted
// but not described since. The zero Log lets the first line through.
type Log struct {
	logged     bool
	last       time.Time
	unreported int
}

// Report counts n faults seen at now, the first of which a line would
// describe. It reports whether to log that line, and how many faults,
// counted since the last line, the line does not describe. Within Period
// of the last line (or with a clock gone backwards) it only counts.
func (l *Log) Report(now time.Time, n int) (log bool, more int) {
	if l.logged && now.Sub(l.last) < Period {
		l.unreported += n
		return false, 0
	}
	more = l.unreported + n - 1
	l.logged, l.last, l.unreported = true, now, 0
	return true, more
}

// Logged reports whether a line has been let through.
func (l *Log) Logged() bool { return l.logged }
