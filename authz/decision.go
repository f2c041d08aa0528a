package authz

import (
	"errors"

	"github.com/wasmpolicy/policy"
)

// Kind name of every authz filter, in logs and in the plugin configuration.
const kindName = "authz"

// defaultDenyBody is the body of a denial that sets none.
const defaultDenyBody = "access denied\n"

// Decision is an authorizer's verdict on one request.
type Decision struct {
	// Allowed lets the request continue; the other fields are then unused.
	Allowed bool
	// Status is the denial's status code, 403 when 0.
	Status uint32
	// Reason says why, for the proxy's log; it is not sent to the client.
	Reason string
	// Headers are added to the denial.
	Headers [][2]string
	// Body is the denial's body, "access denied\n" when nil.
	Body []byte
}

// Allow lets the request continue.
func Allow() Decision { return Decision{Allowed: true} }

// Deny answers the request with status (403 when 0) and the body "access
// denied\n". reason goes to the log only.
func Deny(status uint32, reason string) Decision {
	return Decision{Status: status, Reason: reason}
}

// DenyWith is Deny with response headers, such as www-authenticate for a 401.
func DenyWith(status uint32, reason string, headers [][2]string) Decision {
	return Decision{Status: status, Reason: reason, Headers: headers}
}

// WithBody returns d with the denial's body set to body.
func (d Decision) WithBody(body string) Decision {
	d.Body = []byte(body)
	return d
}

// Result is the chain verdict d stands for.
func (d Decision) Result() policy.Result {
	if d.Allowed {
		return policy.Continue()
	}
	body := d.Body
	if body == nil {
		body = []byte(defaultDenyBody)
	}
	status := d.Status
	if status == 0 {
		status = 403
	}
	return policy.Deny(policy.Response{Status: status, Headers: d.Headers, Body: string(body), Reason: d.Reason})
}

// Func is the simplest authorizer: f sees each request's headers and
// decides. It returns a chain step for policy.Static; set the Spec's ID to
// tell several of them apart in logs and metrics, and its Mode to try f in
// shadow mode first.
//
//	authz.Func(func(x *policy.Exchange) authz.Decision {
//		if x.Method() == "DELETE" {
//			return authz.Deny(405, "deletes are disabled")
//		}
//		return authz.Allow()
//	})
//
// f runs once per request, before the body arrives. In upstream Go builds a
// panic in f is recovered by the chain and fails the request closed (500)
// unless the plugin fails open; TinyGo builds cannot recover.
func Func(f func(x *policy.Exchange) Decision) policy.Spec {
	return policy.Spec{Kind: kindName, Build: func(*policy.Env) (policy.Filter, error) {
		if f == nil {
			return nil, errors.New("authz.Func was given a nil function")
		}
		return funcFilter(f), nil
	}}
}

// funcFilter adapts a function to the chain's request headers phase.
type funcFilter func(x *policy.Exchange) Decision

func (f funcFilter) OnRequestHeaders(x *policy.Exchange) policy.Result { return f(x).Result() }

var _ policy.RequestHeadersFilter = funcFilter(nil)
