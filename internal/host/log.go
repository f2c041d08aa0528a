package host

import (
	"bytes"
	"strconv"
)

// LogLevel is the level of a plugin log line (proxy_log's first argument).
type LogLevel uint32

// The proxy-wasm log levels.
const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
	LogCritical
)

func (l LogLevel) String() string {
	switch l {
	case LogTrace:
		return "trace"
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	case LogError:
		return "error"
	case LogCritical:
		return "critical"
	}
	return "level" + strconv.Itoa(int(l))
}

// ParseLogLevel reads a level name as String writes it.
func ParseLogLevel(s string) (LogLevel, bool) {
	for l := LogTrace; l <= LogCritical; l++ {
		if l.String() == s {
			return l, true
		}
	}
	return 0, false
}

// lineWriter turns what the plugin writes to a file descriptor into log
// lines at one level. The VM calls it only while it holds its lock.
type lineWriter struct {
	vm    *VM
	level LogLevel
	buf   []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.vm.log(w.level, string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) == 0 {
		w.buf = nil
	}
	return len(p), nil
}
