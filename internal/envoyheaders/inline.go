// Package envoyheaders knows which headers Envoy keeps "inline", for the
// kit's host, which behaves as Envoy's header maps do, and for the
// dispatcher, which must know when the proxy joined an added value to the
// one present.
//
// Envoy keeps some headers "inline": a header map holds at most one entry
// for each of them, in a slot it reaches in O(1). Adding a value to an
// inline header that is present appends the value to that one entry,
// after a comma, where any other header gets one more entry. Which headers
// are inline depends on the map (request or response, headers or
// trailers) and on the Envoy build: Envoy declares some itself, every
// extension compiled in may register more, and the bootstrap's
// inline_headers adds others (a cookie header made inline there is joined
// with "; " rather than a comma). Envoy logs each map's inline headers
// when it starts ("request header map: ... bytes: :authority,:method,...").
//
// The sets below are those of Envoy as the Envoy project builds it, with
// all its extensions and no inline_headers in the bootstrap. A proxy built
// with another set of extensions (Istio's, say) may have fewer or more;
// the headers Envoy declares itself (the pseudo-headers, connection,
// content-length, content-type, te, transfer-encoding, upgrade,
// user-agent, via, x-forwarded-for and its kin, x-request-id, the x-envoy-
// headers Envoy acts on, date, location, server, grpc-status,
// grpc-message, ...) are inline in every build. Cookie and set-cookie are
// not inline by default.
package envoyheaders

// Map is the kind of an Envoy header map, which decides its inline
// headers.
type Map uint8

// The maps of a stream.
const (
	RequestHeaders Map = iota
	RequestTrailers
	ResponseHeaders
	ResponseTrailers
)

// inlineBoth are inline in request and response header maps.
var inlineBoth = []string{
	"cache-control", "connection", "content-encoding", "content-length", "content-type", "keep-alive",
	"proxy-connection", "proxy-status", "transfer-encoding", "upgrade", "via", "x-envoy-attempt-count",
	"x-envoy-decorator-operation", "x-request-id",
}

// inlineRequest are inline in request header maps only.
var inlineRequest = []string{
	":authority", ":method", ":path", ":protocol", ":scheme",
	"accept", "accept-encoding", "access-control-request-headers", "access-control-request-method",
	"access-control-request-private-network", "authentication", "authorization", "cdn-loop", "expect",
	"grpc-accept-encoding", "grpc-timeout", "if-match", "if-modified-since", "if-none-match", "if-range",
	"if-unmodified-since", "origin", "pragma", "referer", "te", "user-agent",
	"x-client-trace-id", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node",
	"x-envoy-expected-rq-timeout-ms", "x-envoy-external-address", "x-envoy-force-trace",
	"x-envoy-hedge-on-per-try-timeout", "x-envoy-internal", "x-envoy-ip-tags", "x-envoy-is-timeout-retry",
	"x-envoy-max-retries", "x-envoy-original-path", "x-envoy-original-url", "x-envoy-retriable-header-names",
	"x-envoy-retriable-status-codes", "x-envoy-retry-grpc-on", "x-envoy-retry-on",
	"x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-per-try-timeout-ms",
	"x-envoy-upstream-rq-timeout-alt-response", "x-envoy-upstream-rq-timeout-ms",
	"x-envoy-upstream-stream-duration-ms", "x-forwarded-client-cert", "x-forwarded-for", "x-forwarded-host",
	"x-forwarded-port", "x-forwarded-proto",
}

// inlineResponse are inline in response header maps only.
var inlineResponse = []string{
	":status",
	"access-control-allow-credentials", "access-control-allow-headers", "access-control-allow-methods",
	"access-control-allow-origin", "access-control-allow-private-network", "access-control-expose-headers",
	"access-control-max-age", "age", "date", "etag", "expires", "last-modified", "location", "server", "vary",
	"x-envoy-degraded", "x-envoy-immediate-health-check-fail", "x-envoy-ratelimited", "x-envoy-upstream-canary",
	"x-envoy-upstream-healthchecked-cluster", "x-envoy-upstream-service-time",
}

// inlineResponseTrailers are inline in response header and trailer maps.
// Request trailer maps have no inline header.
var inlineResponseTrailers = []string{"grpc-message", "grpc-status"}

var inlineSets = func() [4]map[string]bool {
	set := func(lists ...[]string) map[string]bool {
		m := map[string]bool{}
		for _, l := range lists {
			for _, name := range l {
				m[name] = true
			}
		}
		return m
	}
	return [4]map[string]bool{
		RequestHeaders:   set(inlineBoth, inlineRequest),
		RequestTrailers:  {},
		ResponseHeaders:  set(inlineBoth, inlineResponse, inlineResponseTrailers),
		ResponseTrailers: set(inlineResponseTrailers),
	}
}()

// Inline reports whether name (lower case) is inline in a map of kind m:
// a value added to it when it is present is appended to the one entry
// after a comma, where any other header gets one more entry.
func Inline(m Map, name string) bool { return inlineSets[m][name] }
