package match

import "github.com/wasmpolicy/policy/internal/ascii"

// Source is what matchers read from a request; *policy.Exchange is one.
type Source interface {
	Method() string
	Path() string
	Authority() string
	RequestHeaderValues(name string) []string
	SourceIP() string
	// RouteName is the name of the Envoy route the request matched
	// (route_name), empty when it has none.
	RouteName() string
}

// Request is one request as matchers see it. What they read of it (the
// readings of its path and its normal form, its host, the methods it
// claims, its source address) is worked out on first use and then shared by
// every rule that looks at it. A policy.Exchange keeps one per request for
// all the filters of a chain (Exchange.Request); outside a chain, Reset one
// for each request.
type Request struct {
	src Source

	paths            paths
	pathDone, pathOK bool
	key              string
	keyDone          bool
	host             string
	hostDone, hostOK bool
	overrides        []string
	overridesDone    bool
	addr             ip
	addrDone         bool
	body             requestBody
}

// Reset makes r the request src, keeping r's buffers. Call it again when
// the request changes (a header or the path is rewritten): what r had
// worked out is forgotten.
func (r *Request) Reset(src Source) {
	// The slices are kept, their strings dropped: they may hold on to the
	// last request's buffers.
	p, o := r.paths, r.overrides
	if len(p.strict) > 0 {
		clear(p.strict)
		clear(p.loose)
	}
	if len(o) > 0 {
		clear(o)
	}
	p.strict, p.loose = p.strict[:0], p.loose[:0]
	*r = Request{src: src, paths: p, overrides: o[:0]}
}

// Changed tells r that the request header name (in lower case) changed:
// what r derived from it (the path's readings and key from :path, the host
// from :authority, the methods claimed from an override header or :path,
// whether the body can be read from content-encoding) is worked out again
// when next asked for. Conditions on other headers
// read them as they are, and need nothing forgotten.
func (r *Request) Changed(name string) {
	switch name {
	case ":path":
		r.pathDone, r.keyDone, r.overridesDone = false, false, false
	case ":authority":
		r.hostDone = false
	case "content-encoding":
		r.body.parsed, r.body.json = false, JSONBody{}
	default:
		for _, h := range overrideHeaders {
			if name == h {
				r.overridesDone = false
			}
		}
	}
}

// Source is the request r reads.
func (r *Request) Source() Source { return r.src }

// readings returns the strict readings of the request path and their loose
// forms; ok is false if the path cannot be read safely.
func (r *Request) readings() (strict, loose []string, ok bool) {
	if !r.pathDone {
		r.pathDone = true
		r.pathOK = r.paths.read(r.src.Path())
	}
	return r.paths.strict, r.paths.loose, r.pathOK
}

// NormalPath is the request path in normal form (see NormalizePath); ok is
// false if it cannot be read safely.
func (r *Request) NormalPath() (path string, ok bool) {
	strict, _, ok := r.readings()
	if !ok {
		return "", false
	}
	return strict[0], true
}

// PathKey is the request path as a key that every spelling of it shares:
// its normal form read loosely (without trailing dots and spaces in its
// segments, nor a trailing "/") in ASCII lower case. "/Login", "/login/",
// "/login." and "/a/../login;x" have the key "/login". Rate limits key
// their buckets and their descriptors with it. ok is false if the path
// cannot be read safely; key is "" then, which no readable path has.
func (r *Request) PathKey() (key string, ok bool) {
	if !r.keyDone {
		r.keyDone = true
		if _, loose, ok := r.readings(); ok {
			r.key = ascii.Lower(loose[0])
		}
	}
	return r.key, r.key != ""
}

// Host is the request's host in normal form (see NormalizeHost); ok is
// false if its authority is not a host name or an IP address with an
// optional port.
func (r *Request) Host() (host string, ok bool) {
	if !r.hostDone {
		r.hostDone = true
		r.host, r.hostOK = NormalizeHost(r.src.Authority())
	}
	return r.host, r.hostOK
}

func (r *Request) ip() ip {
	if !r.addrDone {
		r.addrDone = true
		if a, ok := parseIP(r.src.SourceIP()); ok {
			r.addr = a.unmap()
		}
	}
	return r.addr
}
