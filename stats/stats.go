// Package stats defines proxy metrics once per plugin and names them with
// tags that Envoy's stats_tags regexes can turn into Prometheus labels. The
// public face of this package is the metrics package; the dispatcher uses it
// directly.
package stats

import "strings"

// Tag is one label of a metric. Its value must come from configuration or
// from a closed set (a decision, a status class), never from request data:
// every distinct value is a new metric in the proxy's memory.
type Tag struct{ Key, Value string }

// Name encodes a metric's tags and name the way Istio does:
//
//	filter=.=ratelimit;.;decision=.=denied;.;policy_filter_requests_total
//
// Each tag is KEY=.=VALUE;.; and the name comes last. The delimiters cannot
// occur inside a key, a value or the name, so a regex for one key matches
// exactly that tag and never swallows the next one. Name enforces this
// rather than trusting its callers: in keys and the name every character
// outside [A-Za-z0-9_] becomes '_', in values every character outside
// [A-Za-z0-9_/-] does (see ValidName and Valid). An empty key or name
// becomes "_".
func Name(name string, tags ...Tag) string {
	var b strings.Builder
	for _, t := range tags {
		clean(&b, t.Key, nameChar, "_")
		b.WriteString("=.=")
		clean(&b, t.Value, valueChar, "")
		b.WriteString(";.;")
	}
	clean(&b, name, nameChar, "_")
	return b.String()
}

// clean writes s to b with every byte that keep rejects replaced by '_', or
// empty if s is empty.
func clean(b *strings.Builder, s string, keep func(byte) bool, empty string) {
	if s == "" {
		b.WriteString(empty)
		return
	}
	for i := 0; i < len(s); i++ {
		if keep(s[i]) {
			b.WriteByte(s[i])
		} else {
			b.WriteByte('_')
		}
	}
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func valueChar(c byte) bool { return nameChar(c) || c == '-' || c == '/' }

// Valid reports whether s may be used as a tag value: non-empty, and only
// letters, digits, '_', '-' and '/' (no '.', '=' or ';', which delimit
// tags). Name would replace any other character.
func Valid(s string) bool { return all(s, valueChar) }

// ValidName reports whether s may be used as a metric name, a name prefix or
// a tag key: a letter or '_' followed by letters, digits and '_', which is
// also what Prometheus accepts as a metric or label name.
func ValidName(s string) bool {
	return all(s, nameChar) && !(s[0] >= '0' && s[0] <= '9')
}

func all(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
