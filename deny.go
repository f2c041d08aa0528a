package policy

import (
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
)

// DenyResponse is the local reply a filter sends when it denies a request,
// in the shape every filter's "deny" object has:
//
//	"deny": {"status": 403, "body": "no access\n", "content_type": "text/plain",
//	         "headers": {"www-authenticate": "ApiKey realm=\"api\""}}
//
// Every field is optional; each filter documents its defaults.
type DenyResponse struct {
	// Status ("status") is the status code, from 300 to 599; 0 means the
	// filter's default, which its Deny field documents (403 for an access
	// check, 429 for a rate limit, 400 for a header or body it cannot
	// rewrite).
	Status uint32
	// Headers ("headers", an object of strings) are added to the reply.
	// Names are lower-cased; values must not contain CR, LF or NUL.
	Headers [][2]string
	// Body ("body") is the reply's body; empty means the filter's default.
	Body string
	// ContentType ("content_type") is the reply's content-type; when empty,
	// "text/plain; charset=utf-8" for a configured body and the filter's
	// choice for its default body.
	ContentType string
}

// DecodeDenyResponse reads a DenyResponse from o, a "deny" object, recording
// any error in o.
func DecodeDenyResponse(o *conf.Object) DenyResponse {
	return DenyResponse{
		Status:      status(o, "status", 0),
		Headers:     o.StringMap("headers"),
		Body:        o.String("body", ""),
		ContentType: o.String("content_type", ""),
	}
}

// Response validates d and returns the reply it describes, taking what d
// leaves unset from def (whose Headers come after d's). Errors name the
// field within the "deny" object: `status: must be ...`.
func (d DenyResponse) Response(def Response) (Response, error) {
	r := Response{Status: d.Status, Body: d.Body, Reason: def.Reason}
	if err := checkStatus("status", d.Status); err != nil {
		return r, err
	}
	if r.Status == 0 {
		r.Status = def.Status
	}
	if len(d.Body) > MaxBody {
		return r, conf.Errorf("body", "is %d bytes; a reply's body may have at most %d", len(d.Body), MaxBody)
	}
	contentType := d.ContentType
	if d.Body == "" {
		r.Body = def.Body
	} else if contentType == "" && !hasHeaderFold(d.Headers, "content-type") {
		contentType = "text/plain; charset=utf-8"
	}
	if contentType != "" {
		if !httptoken.ValidValue(contentType) {
			return r, conf.Errorf("content_type", "must not contain control characters, not %q", contentType)
		}
		r.Headers = append(r.Headers, [2]string{"content-type", contentType})
	}
	for _, h := range d.Headers {
		name := HeaderName(h[0])
		switch {
		case !httptoken.Valid(name):
			return r, conf.Errorf("headers", "%q is not a header name", h[0])
		case !httptoken.ValidValue(h[1]):
			return r, conf.Errorf(conf.Join("headers", h[0]), "must not contain CR, LF, NUL or other control characters")
		case len(h[1]) > MaxHeaderValue:
			return r, conf.Errorf(conf.Join("headers", h[0]), "is %d bytes; a header value may have at most %d", len(h[1]), MaxHeaderValue)
		case name == "content-type" && d.ContentType != "":
			return r, conf.Errorf(conf.Join("headers", h[0]), "cannot be combined with content_type; set one of them")
		}
		r.Headers = append(r.Headers, [2]string{name, h[1]})
	}
	for _, h := range def.Headers {
		if _, ok := r.Header(h[0]); !ok {
			r.Headers = append(r.Headers, h)
		}
	}
	return r, nil
}

// hasHeaderFold reports whether headers has name (lower case), in any case.
func hasHeaderFold(headers [][2]string, name string) bool {
	for _, h := range headers {
		if HeaderName(h[0]) == name {
			return true
		}
	}
	return false
}

// Limits on what a filter sends, checked when the plugin starts: Envoy
// refuses header sections over 60 KiB by default, and a local reply is
// held in memory on every worker.
const (
	// MaxHeaderValue is the longest header value a filter sets, in bytes.
	MaxHeaderValue = 8 << 10
	// MaxBody is the longest body of a configured reply, in bytes.
	MaxBody = 64 << 10
)

// MinStatus and MaxStatus bound the status of every reply a filter sends:
// a denial can redirect (3xx) or refuse (4xx, 5xx), never succeed.
const (
	MinStatus = 300
	MaxStatus = 599
)

// status reads a status code at key, def if absent; the range is checked
// where it is used, so a Go configuration gets the same message.
func status(o *conf.Object, key string, def uint32) uint32 {
	if !o.Has(key) {
		return def
	}
	n := o.Int(key, 0)
	if n < MinStatus || n > MaxStatus {
		o.Fail(key, "must be an HTTP status code from %d to %d, not %d", MinStatus, MaxStatus, n)
		return def
	}
	return uint32(n)
}

// DecodeStatus reads the status code at key of o, def if absent, recording
// an error in o for a number outside MinStatus to MaxStatus.
func DecodeStatus(o *conf.Object, key string, def uint32) uint32 { return status(o, key, def) }

func checkStatus(key string, s uint32) error {
	if s != 0 && (s < MinStatus || s > MaxStatus) {
		return conf.Errorf(key, "must be an HTTP status code from %d to %d, not %d", MinStatus, MaxStatus, s)
	}
	return nil
}

// CheckStatus checks a status code of a Go configuration: 0 (the default)
// or MinStatus to MaxStatus. The error is at key.
func CheckStatus(key string, s uint32) error { return checkStatus(key, s) }

// FailureMode says what a filter does with a request it cannot decide
// because something it depends on failed: a remote service, the proxy's
// shared data, the filter itself (a panic). In JSON it is "failure_mode",
// beside "status_on_error", the status of the reply when failing closed.
// The empty FailureMode means the default of the place it is used in.
type FailureMode string

const (
	// FailOpen lets the request continue.
	FailOpen FailureMode = "open"
	// FailClosed answers the request with an error reply.
	FailClosed FailureMode = "closed"
)

// DecodeFailureMode reads "failure_mode" from o, def if absent.
func DecodeFailureMode(o *conf.Object, def FailureMode) FailureMode {
	return FailureMode(o.OneOf("failure_mode", string(orDefault(def, FailClosed)), string(FailOpen), string(FailClosed)))
}

// Check checks m and the status used when failing closed; errors are at
// "failure_mode" and "status_on_error".
func (m FailureMode) Check(statusOnError uint32) error { return checkFailure(m, statusOnError) }

func checkFailure(m FailureMode, statusOnError uint32) error {
	switch m {
	case "", FailOpen, FailClosed:
	default:
		return conf.Errorf("failure_mode", `must be "open" or "closed", not %q`, string(m))
	}
	return checkStatus("status_on_error", statusOnError)
}

func orDefault(m, def FailureMode) FailureMode {
	if m == "" {
		return def
	}
	return m
}
