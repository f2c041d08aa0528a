package ratelimit

import (
	"strconv"
	"strings"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/text"
	"github.com/wasmpolicy/policy/match"
)

// keyPart is one compiled part of a Limit's Key.
type keyPart struct {
	kind     partKind
	header   string   // lower-cased, for partHeader
	segments int      // for partSegments
	field    []string // the path of the body field, for partBody
}

type partKind uint8

const (
	partHeader partKind = iota
	partSourceIP
	partPath
	partSegments
	partRoute
	partBody
)

const keyParts = "header:<name>, source_ip, path, path_segments:<n>, route or body:<path>"

// parseKey compiles a Limit's Key; errors are at "[i]".
func parseKey(spec []string) ([]keyPart, error) {
	if len(spec) == 0 {
		return nil, text.Errorf("must list at least one part (%s); omit it for one bucket", keyParts)
	}
	parts := make([]keyPart, 0, len(spec))
	for i, s := range spec {
		p, err := parsePart(s)
		if err == nil {
			for j, q := range parts {
				if q.kind == p.kind && q.header == p.header && q.segments == p.segments && strings.Join(q.field, ".") == strings.Join(p.field, ".") {
					err = text.Errorf("repeats key[%d]", j)
				}
			}
		}
		if err != nil {
			return nil, conf.Within(conf.Index(i), err)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

func parsePart(s string) (keyPart, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	switch {
	case kind == "header" && hasArg:
		if arg == "" {
			return keyPart{}, text.Errorf(`needs a header name: "header:x-api-key"`)
		}
		return keyPart{kind: partHeader, header: policy.HeaderName(arg)}, nil
	case kind == "path_segments" && hasArg:
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > 64 {
			return keyPart{}, text.Errorf("path_segments needs a number from 1 to 64, not %q", arg)
		}
		return keyPart{kind: partSegments, segments: n}, nil
	case kind == "body" && hasArg:
		field, err := match.ParseFieldPath(arg)
		if err != nil {
			return keyPart{}, text.Errorf("body: the field's path %v", err)
		}
		return keyPart{kind: partBody, field: field}, nil
	case s == "source_ip":
		return keyPart{kind: partSourceIP}, nil
	case s == "path":
		return keyPart{kind: partPath}, nil
	case s == "route":
		return keyPart{kind: partRoute}, nil
	}
	return keyPart{}, text.Errorf("unknown key part %q; use %s", s, keyParts)
}

// appendKey appends the key of the current request, x, to buf: its parts
// separated by NUL, which no header value, path or address contains. ok is
// false if the request lacks a part.
func (l *Limiter) appendKey(buf []byte, parts []keyPart, x *policy.Exchange) (_ []byte, ok bool) {
	for i, p := range parts {
		v, ok := l.value(p, x)
		if !ok {
			return buf, false
		}
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = append(buf, v...)
	}
	return buf, true
}

func (l *Limiter) value(p keyPart, x *policy.Exchange) (string, bool) {
	switch p.kind {
	case partHeader:
		return x.RequestHeader(p.header)
	case partSourceIP:
		ip := x.SourceIP()
		return ip, ip != ""
	case partPath:
		key, _ := x.Request().PathKey()
		return key, true
	case partSegments:
		key, _ := x.Request().PathKey()
		return segments(key, p.segments), true
	case partBody:
		v, ok, _ := bodyField(x.Request(), p.field)
		return v, ok
	}
	route := x.RouteName()
	return route, route != ""
}

// bodyField is the value of a body field as a key part or a descriptor
// value: a string, number or boolean that every reading of the body agrees
// on (ok). absent is set when every reading agrees the field is missing.
func bodyField(r *match.Request, field []string) (value string, ok, absent bool) {
	readings, readable := r.JSONBody().Readings(field)
	if !readable || len(readings) != 1 {
		return "", false, false
	}
	switch v := readings[0]; v.Kind {
	case match.JSONString, match.JSONNumber, match.JSONBool:
		return v.Text, true, false
	case match.JSONAbsent:
		return "", false, true
	}
	return "", false, false
}

// segments is path's first n segments: "/a/b" for "/a/b/c" and n = 2.
func segments(path string, n int) string {
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			if n--; n == 0 {
				return path[:i]
			}
		}
	}
	return path
}
