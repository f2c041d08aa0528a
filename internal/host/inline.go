package host

import "github.com/wasmpolicy/policy/internal/envoyheaders"

// mapKind is the kind of an Envoy header map, which decides its inline
// headers (package envoyheaders).
type mapKind = envoyheaders.Map

const (
	requestHeaderMap   = envoyheaders.RequestHeaders
	requestTrailerMap  = envoyheaders.RequestTrailers
	responseHeaderMap  = envoyheaders.ResponseHeaders
	responseTrailerMap = envoyheaders.ResponseTrailers
)

// inline reports whether name (lower case) is inline in a map of kind k.
func inline(k mapKind, name string) bool { return envoyheaders.Inline(k, name) }

// canonical is the name Envoy files name under in a map of kind k: a
// request header map keeps "host" as :authority, so that adding, reading,
// replacing or removing "host" works on :authority.
func canonical(k mapKind, name string) string {
	name = lowerName(name)
	if k == requestHeaderMap && name == "host" {
		return ":authority"
	}
	return name
}
