package policy

import (
	"strings"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	"github.com/wasmpolicy/policy/internal/text"
)

// Logger writes a filter's lines to the proxy's log (Envoy's wasm log
// component, at the level of the method called), each one starting with
// "policy: filter ID: ", so that a line names the filter of the chain that
// wrote it. A filter gets its Logger from Env.Log when it is built, or
// from Exchange.Log while it handles a request:
//
//	type tenantCheck struct{ header string }
//
//	func (c tenantCheck) OnRequestHeaders(x *policy.Exchange) policy.Result {
//		if _, ok := x.RequestHeader(c.header); !ok {
//			x.Log().Debugf("no %s header; denied", c.header)
//			return policy.Deny(policy.Response{Status: 403})
//		}
//		return policy.Continue()
//	}
//
// The format takes the verbs %s, %q, %v and %d, for strings, numbers,
// errors, booleans and values with a String method: the module's
// filters format without package fmt, which would make every image
// larger, and so does the Logger.
//
// A line never carries a secret of the plugin's configuration: every
// value a filter declared secret with Env.Secret (an API key, an HMAC
// key) is replaced with "[secret]" wherever it appears in a line, in a
// value the filter logs by mistake as much as in one a client sent back.
//
// Envoy drops lines below its log level (--component-log-level wasm:debug
// shows debug lines); a line is formatted whatever the level, so keep
// debug lines off the path of every request unless they are cheap.
type Logger struct {
	prefix  string
	secrets *secrets
}

// secrets are the plugin's secret values, shared by its filters' Loggers.
type secrets struct{ values []string }

// Debugf logs at debug level.
func (l Logger) Debugf(format string, args ...any) { proxywasm.LogDebug(l.line(format, args)) }

// Infof logs at info level.
func (l Logger) Infof(format string, args ...any) { proxywasm.LogInfo(l.line(format, args)) }

// Warnf logs at warning level.
func (l Logger) Warnf(format string, args ...any) { proxywasm.LogWarn(l.line(format, args)) }

// Errorf logs at error level.
func (l Logger) Errorf(format string, args ...any) { proxywasm.LogError(l.line(format, args)) }

// line is the text of a line: the prefix, then the message, secrets
// replaced.
func (l Logger) line(format string, args []any) string {
	msg := l.prefix + text.Sprintf(format, args...)
	if l.secrets != nil {
		for _, s := range l.secrets.values {
			if strings.Contains(msg, s) {
				msg = strings.ReplaceAll(msg, s, "[secret]")
			}
		}
	}
	return msg
}

// Log is the filter's Logger.
func (e *Env) Log() Logger { return e.log }

// Secret declares values of the filter's configuration secret (API keys,
// shared keys): no line of a Logger of the plugin shows them (see Logger).
// Call it when the filter is built. Empty values are ignored.
func (e *Env) Secret(values ...string) {
	for _, v := range values {
		if v != "" {
			e.pc.secrets.values = append(e.pc.secrets.values, v)
		}
	}
}

// Log is the Logger of the filter that is running: lines name it.
// Outside a filter's call they start with "policy: ".
func (x *Exchange) Log() Logger {
	s := x.stream
	if s == nil {
		return Logger{prefix: "policy: "}
	}
	if x.current < 0 || x.current >= len(s.pc.links) {
		return Logger{prefix: "policy: ", secrets: &s.pc.secrets}
	}
	return s.pc.links[x.current].log
}
