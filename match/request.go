package match

// Source is what matchers read from a request; *policy.Exchange is one.
type Source interface {
	Method() string
	Path() string
	Authority() string
	RequestHeaderValues(name string) []string
	SourceIP() string
}

// Request is one request as matchers see it: the readings of its path and
// its normal form, its host and its source address are derived once, on
// first use, however many rules look at them. Reset it for each request; a filter can keep one and
// reuse it, since a VM runs one request at a time.
type Request struct {
	src Source

	readings             []string
	pathDone, pathOK     bool
	normal               string
	normalDone, normalOK bool
	host                 string
	hostDone, hostOK     bool
	addr                 ip
	addrDone             bool
}

// Reset makes r the request src, keeping r's buffers.
func (r *Request) Reset(src Source) {
	readings := r.readings[:0]
	*r = Request{src: src, readings: readings}
}

// Source is the request r reads.
func (r *Request) Source() Source { return r.src }

// paths returns the readings of the request path; ok is false if it cannot
// be read safely.
func (r *Request) paths() ([]string, bool) {
	if !r.pathDone {
		r.pathDone = true
		r.readings, r.pathOK = readPath(r.readings[:0], r.src.Path())
	}
	return r.readings, r.pathOK
}

// NormalPath is the request path in normal form (see NormalizePath); ok is
// false if it cannot be read safely.
func (r *Request) NormalPath() (path string, ok bool) {
	if !r.normalDone {
		r.normalDone = true
		r.normal, r.normalOK = NormalizePath(r.src.Path())
	}
	return r.normal, r.normalOK
}

func (r *Request) hostName() (string, bool) {
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
