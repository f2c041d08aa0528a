package match

import (
	"strings"

	"github.com/wasmpolicy/policy/internal/query"
)

// overrideHeaders are the headers through which web frameworks let a
// client claim a method other than the request's own (Express's
// method-override, Rails, Symfony, ASP.NET, Google's APIs): a POST with
// "X-HTTP-Method-Override: DELETE" is a DELETE to such a backend.
var overrideHeaders = [...]string{"x-http-method-override", "x-method-override", "x-http-method"}

// overrideParam is the query parameter that Rails, Laravel, Symfony and
// Spring read for the same purpose.
const overrideParam = "_method"

// claimedMethods returns the methods the request claims through an
// override header or parameter, each value split at commas and trimmed of
// spaces and tabs, empty ones left out. It is worked out once per request.
func (r *Request) claimedMethods() []string {
	if !r.overridesDone {
		r.overridesDone = true
		out := r.overrides[:0]
		for _, h := range overrideHeaders {
			for _, v := range r.src.RequestHeaderValues(h) {
				out = appendClaims(out, v)
			}
		}
		if q := query.Of(r.src.Path()); q != "" {
			for _, v := range query.Values(nil, q, overrideParam) {
				out = appendClaims(out, v)
			}
		}
		r.overrides = out
	}
	return r.overrides
}

func appendClaims(out []string, v string) []string {
	for v != "" {
		var m string
		m, v, _ = strings.Cut(v, ",")
		if m = strings.Trim(m, " \t"); m != "" {
			out = append(out, m)
		}
	}
	return out
}
