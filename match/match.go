package match

import (
	"strings"

	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
)

// Match is a set of conditions on a request, in the JSON shape every filter
// uses for its "match" objects:
//
//	{"methods": ["GET", "HEAD"],
//	 "path": {"glob": "/api/*/orders/**", "ignore_case": true},
//	 "hosts": ["api.example.com", "*.example.com"],
//	 "headers": [{"name": "x-tenant", "equals": "acme"}, {"name": "x-debug", "absent": true}],
//	 "source_ips": ["10.0.0.0/8", "2001:db8::/32"],
//	 "routes": ["checkout", "login"]}
//
// Every condition that is set must hold. Lists of alternatives (methods,
// hosts, source IPs, routes) hold if one entry does; Headers are
// conditions that must all hold. The zero Match matches every request.
type Match struct {
	// Methods ("methods") are request methods, any of which matches. They
	// compare ignoring ASCII case ("get" is "GET"), since some backends
	// treat them so.
	Methods []string
	// Path ("path") is a condition on the request path, read as the
	// package documentation says.
	Path Path
	// Hosts ("hosts") are host names matched against the request's
	// authority in normal form (see NormalizeHost): "api.example.com", or
	// "*.example.com" for any subdomain of example.com (not example.com
	// itself). No port.
	Hosts []string
	// Headers ("headers") are conditions on request headers, all of which
	// must hold.
	Headers []Header
	// SourceIPs ("source_ips") are addresses ("192.0.2.7") and CIDR ranges
	// ("10.0.0.0/8") of the downstream peer (the proxy's source.address),
	// any of which matches. Behind another proxy that is the other proxy's
	// address, not the client's.
	SourceIPs []string
	// Routes ("routes") are names of the Envoy routes the request may have
	// matched (the route_name attribute: the name of a route of Envoy's
	// route configuration, or of an http route of an Istio
	// VirtualService), any of which matches. Names compare exactly. A
	// request that matched no route, or a route without a name, matches
	// none: Envoy answers it with 404 itself.
	Routes []string
	// Body ("body") are conditions on fields of the request's JSON body,
	// all of which must hold (see BodyField and "JSON bodies").
	Body []BodyField
}

// Path is a condition on the request path. Exactly one of Exact, Prefix
// and Glob is set, in normal form (NormalizePath leaves it unchanged).
type Path struct {
	// Exact ("exact") is the whole path: "/healthz".
	Exact string
	// Prefix ("prefix") is a string prefix: "/api/" matches "/api/users".
	// "/admin" also matches "/administrator"; end a prefix with "/" or use
	// Glob to match whole segments.
	Prefix string
	// Glob ("glob") matches segment by segment: a "*" segment matches any
	// one non-empty segment, and a final "**" segment matches the rest of
	// the path, zero or more segments. "/status/*" matches "/status/418"
	// but not "/status" or "/status/418/x"; "/admin/**" matches "/admin",
	// "/admin/" and "/admin/users/7".
	Glob string
	// IgnoreCase ("ignore_case") lets a permitting rule match the path in
	// any ASCII case. A restricting rule always does.
	IgnoreCase bool
}

// Header is a condition on a request header, whose name matches ignoring
// ASCII case. Exactly one of Present, Absent, Equals and Prefix is set.
// Pseudo-headers cannot be named: the method, path and host have
// conditions of their own, which normalize them.
type Header struct {
	// Name ("name") is the header's name.
	Name string
	// Present ("present": true) requires the header, with any value.
	Present bool
	// Absent ("absent": true) requires that the header is missing.
	Absent bool
	// Equals ("equals") is the value the header must have.
	Equals string
	// Prefix ("prefix") is a prefix its value must start with.
	Prefix string
	// IgnoreCase ("ignore_case") compares Equals and Prefix ignoring ASCII
	// case.
	IgnoreCase bool
}

// Decode reads the fields of a Match from the JSON object o (a "match"
// object), recording any error in o.
func Decode(o *conf.Object) Match {
	m := Match{Methods: o.Strings("methods"), Hosts: o.Strings("hosts"), SourceIPs: o.Strings("source_ips"), Routes: o.Strings("routes")}
	if p := o.Object("path"); p.Raw().Exists() {
		m.Path = Path{
			Exact:      nonEmpty(p, "exact"),
			Prefix:     nonEmpty(p, "prefix"),
			Glob:       nonEmpty(p, "glob"),
			IgnoreCase: p.Bool("ignore_case", false),
		}
		if m.Path.Exact == "" && m.Path.Prefix == "" && m.Path.Glob == "" && p.Err() == nil {
			o.Fail("path", "set one of exact, prefix and glob")
		}
	}
	for _, h := range o.Objects("headers") {
		if h.Has("present") && !h.Bool("present", true) {
			h.Fail("present", `must be true; for a header that must be missing, write "absent": true`)
		}
		m.Headers = append(m.Headers, Header{
			Name:       h.RequiredString("name"),
			Present:    h.Bool("present", false),
			Absent:     h.Bool("absent", false),
			Equals:     nonEmpty(h, "equals"),
			Prefix:     nonEmpty(h, "prefix"),
			IgnoreCase: h.Bool("ignore_case", false),
		})
	}
	return m
}

// DecodeWithBody reads a Match as Decode does, and its "body" conditions
// too. Only a filter that decides its rules once the request body is there
// (Matcher.ReadsBody, Request.SetBody) reads match objects with it; for the
// others "body" is an unknown field, and the plugin refuses to start.
func DecodeWithBody(o *conf.Object) Match {
	m := Decode(o)
	m.Body = decodeBody(o)
	return m
}

// IsZero reports whether m sets no condition, and so matches every request.
func (m *Match) IsZero() bool {
	return m.Methods == nil && m.Path == (Path{}) && m.Hosts == nil && len(m.Headers) == 0 &&
		m.SourceIPs == nil && m.Routes == nil && m.Body == nil
}

// nonEmpty reads an optional string that must not be empty when present:
// an empty value could not be told from an absent one.
func nonEmpty(o *conf.Object, key string) string {
	if o.Has(key) {
		return o.RequiredString(key)
	}
	return ""
}

// Matcher is a compiled Match. It is immutable, so one serves every request.
// The nil *Matcher matches every request.
type Matcher struct {
	methods []string
	path    *pathCond
	hosts   *hostCond
	headers []headerCond
	ips     []cidr
	routes  []string
	body    []bodyCond
}

// Compile validates m and compiles it. Its errors name the offending field
// by its JSON path within the match object: `path.glob: ...`,
// `headers[1].name: ...`.
func Compile(m Match) (*Matcher, error) {
	c := &Matcher{}
	if m.Methods != nil {
		if len(m.Methods) == 0 {
			return nil, conf.Errorf("methods", `must list at least one method, such as ["GET"]; leave it out to match any method`)
		}
		for i, meth := range m.Methods {
			if !httptoken.Valid(meth) {
				return nil, conf.Errorf("methods"+conf.Index(i), "must be an HTTP method such as \"GET\", not %q", meth)
			}
			c.methods = append(c.methods, strings.ToUpper(meth))
		}
	}
	if m.Path != (Path{}) {
		p, err := compilePath(m.Path)
		if err != nil {
			return nil, conf.Within("path", err)
		}
		c.path = p
	}
	if m.Hosts != nil {
		h, err := compileHosts(m.Hosts)
		if err != nil {
			return nil, err
		}
		c.hosts = h
	}
	for i, h := range m.Headers {
		hc, err := compileHeader(h)
		if err != nil {
			return nil, conf.Within("headers"+conf.Index(i), err)
		}
		c.headers = append(c.headers, hc)
	}
	if m.SourceIPs != nil {
		ips, err := compileIPs(m.SourceIPs)
		if err != nil {
			return nil, err
		}
		c.ips = ips
	}
	if m.Routes != nil {
		if len(m.Routes) == 0 {
			return nil, conf.Errorf("routes", "must list at least one route name; leave it out to match any route")
		}
		for i, r := range m.Routes {
			if r == "" || httptoken.ControlChar(r) >= 0 {
				return nil, conf.Errorf("routes"+conf.Index(i), "must be the name of a route of Envoy's route configuration, not empty and without control characters, not %q", r)
			}
		}
		c.routes = m.Routes
	}
	if m.Body != nil && len(m.Body) == 0 {
		return nil, conf.Errorf("body", "must list at least one condition; leave it out to match any body")
	}
	for i, f := range m.Body {
		bc, err := compileBody(f)
		if err != nil {
			return nil, conf.Within("body"+conf.Index(i), err)
		}
		c.body = append(c.body, bc)
	}
	return c, nil
}

// Certainly reports whether the request matches however it is read: every
// reading of its path, every value of a header, its authority and method as
// they are. It is the test for a rule that lets a request through (an allow
// rule, a bypass): a request that cannot be read safely, or whose readings
// disagree, does not certainly match.
func (m *Matcher) Certainly(r *Request) bool { return m.eval(r, false) }

// Possibly reports whether the request matches under some reading: of its
// path (and ignoring case), of the values of a header. It is the test for a
// rule that denies, limits or checks a request: a request whose path or
// authority cannot be read safely, or whose source address is unknown,
// possibly matches every condition on it.
func (m *Matcher) Possibly(r *Request) bool { return m.eval(r, true) }

func (m *Matcher) eval(r *Request, possibly bool) bool {
	if m == nil {
		return true
	}
	if m.methods != nil && !m.methodsMatch(r, possibly) {
		return false
	}
	if m.path != nil && !m.path.match(r, possibly) {
		return false
	}
	if m.hosts != nil && !m.hosts.match(r, possibly) {
		return false
	}
	for i := range m.headers {
		if !m.headers[i].match(r, possibly) {
			return false
		}
	}
	if m.ips != nil {
		a := r.ip()
		if !a.valid() {
			return possibly
		}
		found := false
		for _, c := range m.ips {
			found = found || c.contains(a)
		}
		if !found {
			return false
		}
	}
	if m.routes != nil && !m.routeMatch(r) {
		return false
	}
	for i := range m.body {
		if !m.body[i].match(r, possibly) {
			return false
		}
	}
	return true
}

// routeMatch reports whether the request's route is one of m's. The
// route is the proxy's choice, not the client's, and has one reading.
func (m *Matcher) routeMatch(r *Request) bool {
	name := r.src.RouteName()
	for _, want := range m.routes {
		if name == want {
			return name != ""
		}
	}
	return false
}

// methodsMatch checks the request's method and the methods it claims
// through an override header or parameter (see the package
// documentation): the request possibly matches if one of them is listed,
// and certainly matches only if each of them is.
func (m *Matcher) methodsMatch(r *Request, possibly bool) bool {
	if m.method(r.src.Method()) == possibly {
		return possibly
	}
	for _, claimed := range r.claimedMethods() {
		if m.method(claimed) == possibly {
			return possibly
		}
	}
	return !possibly
}

func (m *Matcher) method(got string) bool {
	for _, want := range m.methods {
		if equal(got, want, true) {
			return true
		}
	}
	return false
}

// pathCond is a compiled Path.
type pathCond struct {
	exact, prefix string
	glob          []string // the pattern's segments, after its leading "/"
	fold          bool     // IgnoreCase
	// The pattern read loosely, as the loose forms of a request's readings
	// are compared with it: a loose reading applies to the pattern too.
	// looseRoot is a prefix ending in "/" read loosely as a whole path
	// ("/admin" for "/admin/"), which the path of that name matches.
	looseExact, loosePrefix, looseRoot string
	looseGlob                          []string
}

func compilePath(p Path) (*pathCond, error) {
	var key, pattern string
	for _, f := range [][2]string{{"exact", p.Exact}, {"prefix", p.Prefix}, {"glob", p.Glob}} {
		if f[1] == "" {
			continue
		}
		if key != "" {
			return nil, conf.Errorf("", "set only one of exact, prefix and glob")
		}
		key, pattern = f[0], f[1]
	}
	if key == "" {
		return nil, conf.Errorf("", "set one of exact, prefix and glob")
	}
	if pattern[0] != '/' {
		return nil, conf.Errorf(key, "must start with \"/\", not %q", pattern)
	}
	if strings.ContainsAny(pattern, "?#") {
		return nil, conf.Errorf(key, "must not contain '?' or '#' (paths are matched without their query), not %q", pattern)
	}
	if normal, ok := NormalizePath(pattern); !ok || normal != pattern {
		switch {
		case !ok:
			return nil, conf.Errorf(key, "%q is not a path a request could have", pattern)
		case resolves(pattern):
			// Proposing the resolved path could widen the rule: "/public/..;/"
			// resolves to "/".
			return nil, conf.Errorf(key, `must be in normal form, without "." or ".." segments and ";" parameters, not %q: requests are matched in normal form`, pattern)
		}
		return nil, conf.Errorf(key, "must be in normal form (%q), not %q: requests are matched in normal form", normal, pattern)
	}
	c := &pathCond{exact: p.Exact, prefix: p.Prefix, fold: p.IgnoreCase}
	switch {
	case p.Exact != "":
		c.looseExact = looseForm(p.Exact)
	case p.Prefix != "":
		// The segments the prefix completes are read loosely; the one it
		// starts is kept as written ("/download/file." is a prefix of
		// "/download/file.txt").
		done := p.Prefix[:strings.LastIndexByte(p.Prefix, '/')+1]
		c.looseRoot = looseForm(done)
		c.loosePrefix = strings.TrimSuffix(c.looseRoot, "/") + "/" + p.Prefix[len(done):]
		if done != p.Prefix || c.looseRoot == "/" {
			c.looseRoot = ""
		}
	default:
		c.looseGlob = strings.Split(looseForm(p.Glob)[1:], "/")
	}
	if p.Glob != "" {
		c.glob = strings.Split(p.Glob[1:], "/")
		for i, seg := range c.glob {
			if seg == "**" && i != len(c.glob)-1 {
				return nil, conf.Errorf("glob", "\"**\" may only be the last segment, in %q", p.Glob)
			}
			if seg != "*" && seg != "**" && strings.Contains(seg, "*") {
				return nil, conf.Errorf("glob", "'*' must be a whole segment (\"/a/*/b\"), in %q", p.Glob)
			}
		}
	}
	return c, nil
}

// match checks every reading of the request's path, strictly and loosely:
// the request possibly matches if one of them matches, and certainly
// matches only if all of them do.
func (c *pathCond) match(r *Request, possibly bool) bool {
	strict, loose, ok := r.readings()
	if !ok {
		return possibly
	}
	fold := c.fold || possibly
	for i := range strict {
		hit := c.matchOne(strict[i], fold)
		if hit != possibly {
			hit = c.matchLoose(loose[i], fold)
		}
		if hit == possibly {
			return possibly // some reading matches; or one does not
		}
	}
	return !possibly
}

// matchLoose matches the loose form of a reading against the pattern read
// loosely.
func (c *pathCond) matchLoose(path string, fold bool) bool {
	switch {
	case c.looseGlob != nil:
		return globMatch(c.looseGlob, path, fold)
	case c.loosePrefix != "":
		return hasPrefix(path, c.loosePrefix, fold) || c.looseRoot != "" && equal(path, c.looseRoot, fold)
	}
	return equal(path, c.looseExact, fold)
}

func (c *pathCond) matchOne(path string, fold bool) bool {
	switch {
	case c.glob != nil:
		return globMatch(c.glob, path, fold)
	case c.prefix != "":
		return hasPrefix(path, c.prefix, fold)
	}
	return equal(path, c.exact, fold)
}

// globMatch matches path segment by segment against pattern: "*" is any one
// non-empty segment, a final "**" is the rest of the path.
func globMatch(pattern []string, path string, fold bool) bool {
	rest, more := path[1:], true
	for _, seg := range pattern {
		if seg == "**" {
			return true
		}
		if !more {
			return false
		}
		tok := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			tok, rest = rest[:i], rest[i+1:]
		} else {
			rest, more = "", false
		}
		if seg == "*" && tok == "" || seg != "*" && !equal(tok, seg, fold) {
			return false
		}
	}
	return !more
}

// hostCond matches the authority against exact names and "*." suffixes.
type hostCond struct {
	exact    []string
	suffixes []string // ".example.com" for "*.example.com"
}

func compileHosts(list []string) (*hostCond, error) {
	if len(list) == 0 {
		return nil, conf.Errorf("hosts", "must list at least one host; leave it out to match any host")
	}
	h := &hostCond{}
	for i, s := range list {
		name, wild := strings.CutPrefix(s, "*.")
		normal, ok := NormalizeHost(name)
		if !ok || withPort(name) {
			return nil, conf.Errorf("hosts"+conf.Index(i), `must be a host name ("api.example.com") or "*." and a domain ("*.example.com"), without a port, not %q`, s)
		}
		if wild {
			h.suffixes = append(h.suffixes, "."+normal)
		} else {
			h.exact = append(h.exact, normal)
		}
	}
	return h, nil
}

// withPort reports whether a configured host has a port.
func withPort(host string) bool {
	if i := strings.LastIndexByte(host, ']'); i >= 0 {
		host = host[i:]
	}
	return strings.IndexByte(host, ':') >= 0
}

func (h *hostCond) match(r *Request, possibly bool) bool {
	host, ok := r.Host()
	if !ok {
		return possibly
	}
	for _, e := range h.exact {
		if host == e {
			return true
		}
	}
	for _, s := range h.suffixes {
		if len(host) > len(s) && strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// headerCond is a compiled Header.
type headerCond struct {
	name           string
	absent         bool
	equals, prefix string
	fold           bool
}

func compileHeader(h Header) (headerCond, error) {
	switch {
	case h.Name == "":
		return headerCond{}, conf.Errorf("name", "is required")
	case strings.HasPrefix(h.Name, ":"):
		return headerCond{}, conf.Errorf("name", "%q is a pseudo-header; use methods, path or hosts, which normalize it", h.Name)
	case !httptoken.Valid(h.Name):
		return headerCond{}, conf.Errorf("name", "%q is not a header name", h.Name)
	}
	set := 0
	for _, b := range []bool{h.Present, h.Absent, h.Equals != "", h.Prefix != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return headerCond{}, conf.Errorf("", "set exactly one of present, absent, equals and prefix")
	}
	if h.IgnoreCase && h.Equals == "" && h.Prefix == "" {
		return headerCond{}, conf.Errorf("ignore_case", "applies to equals and prefix only")
	}
	return headerCond{name: lower(h.Name), absent: h.Absent, equals: h.Equals, prefix: h.Prefix, fold: h.IgnoreCase}, nil
}

// match checks the header's values. A header sent several times possibly
// matches if one value does, and certainly matches only if every value
// does: backends differ on which copy they read.
func (h *headerCond) match(r *Request, possibly bool) bool {
	values := r.src.RequestHeaderValues(h.name)
	if h.absent {
		return len(values) == 0
	}
	if len(values) == 0 {
		return false
	}
	if h.equals == "" && h.prefix == "" {
		return true
	}
	for _, v := range values {
		ok := h.equals != "" && equal(v, h.equals, h.fold) || h.prefix != "" && hasPrefix(v, h.prefix, h.fold)
		if ok == possibly {
			return possibly
		}
	}
	return !possibly
}

func compileIPs(list []string) ([]cidr, error) {
	if len(list) == 0 {
		return nil, conf.Errorf("source_ips", "must list at least one address or CIDR range; leave it out to match any source")
	}
	out := make([]cidr, 0, len(list))
	for i, s := range list {
		c, ok := parseCIDR(s)
		if !ok {
			a, ok := parseIP(s)
			if !ok || a.zone {
				return nil, conf.Errorf("source_ips"+conf.Index(i), `must be an IP address ("192.0.2.7") or a CIDR range ("10.0.0.0/8"), not %q`, s)
			}
			a = a.unmap()
			c = cidr{a: a, bits: a.bitLen()}
		}
		if c.a.is4In6() && c.bits >= 96 {
			c = cidr{a: c.a.unmap(), bits: c.bits - 96}
		}
		out = append(out, c.masked())
	}
	return out, nil
}
