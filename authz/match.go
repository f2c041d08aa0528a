package authz

import (
	"net/netip"
	"strings"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
)

// request is what the matchers read from a request; *policy.Exchange
// provides it.
type request interface {
	Method() string
	Path() string
	Authority() string
	RequestHeaderValues(name string) []string
	SourceIP() string
}

// view is one request as the rules see it: values that several matchers
// need are derived once, on first use.
type view struct {
	req request

	path      string
	pathDone  bool
	ip        netip.Addr
	ipDone    bool
	claims    claims
	claimDone bool
}

// Path is the request path without its query string or fragment.
func (v *view) Path() string {
	if !v.pathDone {
		v.path, v.pathDone = v.req.Path(), true
		for i := 0; i < len(v.path); i++ { // strings.IndexAny, without building its set per request
			if v.path[i] == '?' || v.path[i] == '#' {
				v.path = v.path[:i]
				break
			}
		}
	}
	return v.path
}

// IP is the downstream peer's address; invalid if the proxy gave none.
func (v *view) IP() netip.Addr {
	if !v.ipDone {
		v.ipDone = true
		if ip, err := netip.ParseAddr(v.req.SourceIP()); err == nil {
			v.ip = ip.Unmap()
		}
	}
	return v.ip
}

// Claims is the payload of the request's bearer token.
func (v *view) Claims() claims {
	if !v.claimDone {
		v.claims, v.claimDone = bearerClaims(v.req.RequestHeaderValues("authorization")), true
	}
	return v.claims
}

// A matcher is one compiled condition of a rule.
type matcher interface {
	match(v *view) bool
}

// compileMatch validates m and returns its conditions, cheapest first.
// Error paths are relative to the match object.
func compileMatch(m Match) ([]matcher, error) {
	var out []matcher
	if m.Methods != nil {
		ms, err := compileMethods(m.Methods)
		if err != nil {
			return nil, err
		}
		out = append(out, ms)
	}
	if m.Path != (PathMatch{}) {
		p, err := compilePath(m.Path)
		if err != nil {
			return nil, conf.Within("path", err)
		}
		out = append(out, p)
	}
	if m.Hosts != nil {
		h, err := compileHosts(m.Hosts)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	for i, h := range m.Headers {
		hm, err := compileHeader(h)
		if err != nil {
			return nil, conf.Within("headers"+conf.Index(i), err)
		}
		out = append(out, hm)
	}
	if m.SourceIPs != nil {
		c, err := compileCIDRs(m.SourceIPs)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for i, c := range m.Claims {
		cm, err := compileClaim(c)
		if err != nil {
			return nil, conf.Within("claims"+conf.Index(i), err)
		}
		out = append(out, cm)
	}
	return out, nil
}

// methods matches any of a set of request methods.
type methods []string

func compileMethods(list []string) (methods, error) {
	if len(list) == 0 {
		return nil, conf.Errorf("methods", `must list at least one method, such as ["GET"]; leave it out to match any method`)
	}
	for i, m := range list {
		if !httptoken.Valid(m) || strings.ToUpper(m) != m {
			return nil, conf.Errorf("methods"+conf.Index(i), "must be an upper-case HTTP method such as \"GET\", not %q", m)
		}
	}
	return append(methods(nil), list...), nil
}

func (ms methods) match(v *view) bool {
	got := v.req.Method()
	for _, m := range ms {
		if m == got {
			return true
		}
	}
	return false
}

// pathMatch is a compiled PathMatch.
type pathMatch struct {
	exact, prefix string
	glob          []string // the pattern's segments, after its leading "/"
	isGlob        bool
}

func compilePath(p PathMatch) (*pathMatch, error) {
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
	if pattern[0] != '/' {
		return nil, conf.Errorf(key, "must start with \"/\", not %q", pattern)
	}
	if strings.ContainsAny(pattern, "?#") {
		return nil, conf.Errorf(key, "must not contain '?' or '#' (paths are matched without their query string), not %q", pattern)
	}
	m := &pathMatch{exact: p.Exact, prefix: p.Prefix}
	if p.Glob != "" {
		m.isGlob = true
		m.glob = strings.Split(p.Glob[1:], "/")
		for i, seg := range m.glob {
			if seg == "**" && i != len(m.glob)-1 {
				return nil, conf.Errorf("glob", "\"**\" may only be the last segment, in %q", p.Glob)
			}
			if seg != "*" && seg != "**" && strings.Contains(seg, "*") {
				return nil, conf.Errorf("glob", "'*' must be a whole segment (\"/a/*/b\"), in %q", p.Glob)
			}
		}
	}
	return m, nil
}

func (m *pathMatch) match(v *view) bool {
	path := v.Path()
	switch {
	case m.isGlob:
		return globMatch(m.glob, path)
	case m.prefix != "":
		return strings.HasPrefix(path, m.prefix)
	}
	return path == m.exact
}

// globMatch matches path segment by segment against pattern: "*" is any one
// non-empty segment, a final "**" is the rest of the path.
func globMatch(pattern []string, path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
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
		if seg == "*" && tok == "" || seg != "*" && seg != tok {
			return false
		}
	}
	return !more
}

// hosts matches the authority against exact names and "*." suffixes.
type hosts struct {
	exact    []string
	suffixes []string // ".example.com" for "*.example.com"
}

func compileHosts(list []string) (*hosts, error) {
	if len(list) == 0 {
		return nil, conf.Errorf("hosts", "must list at least one host; leave it out to match any host")
	}
	h := &hosts{}
	for i, s := range list {
		s = strings.ToLower(s)
		name, wild := strings.CutPrefix(s, "*.")
		if name == "" || strings.ContainsAny(name, "*:/ ") {
			return nil, conf.Errorf("hosts"+conf.Index(i), `must be a host name ("api.example.com") or "*." and a domain ("*.example.com"), without a port, not %q`, list[i])
		}
		if wild {
			h.suffixes = append(h.suffixes, "."+name)
		} else {
			h.exact = append(h.exact, name)
		}
	}
	return h, nil
}

func (h *hosts) match(v *view) bool {
	host := hostOnly(v.req.Authority())
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

// hostOnly lower-cases an authority and drops its port, keeping IPv6
// literals whole ("[::1]:80" is "[::1]").
func hostOnly(authority string) string {
	if i := strings.LastIndexByte(authority, ':'); i > strings.LastIndexByte(authority, ']') {
		authority = authority[:i]
	}
	return strings.ToLower(authority)
}

// header is a compiled HeaderMatch.
type header struct {
	name           string
	present        bool // the header must be there (true) or not (false)
	equals, prefix string
}

func compileHeader(h HeaderMatch) (*header, error) {
	if h.Name == "" {
		return nil, conf.Errorf("name", "is required")
	}
	if !httptoken.Valid(strings.TrimPrefix(h.Name, ":")) {
		return nil, conf.Errorf("name", "%q is not a header name", h.Name)
	}
	set := 0
	for _, b := range []bool{h.Present, h.Absent, h.Equals != "", h.Prefix != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, conf.Errorf("", "set exactly one of present, absent, equals and prefix")
	}
	return &header{name: policy.HeaderName(h.Name), present: !h.Absent, equals: h.Equals, prefix: h.Prefix}, nil
}

func (h *header) match(v *view) bool {
	values := v.req.RequestHeaderValues(h.name)
	if !h.present {
		return len(values) == 0
	}
	if h.equals == "" && h.prefix == "" {
		return len(values) > 0
	}
	for _, val := range values {
		if h.equals != "" && val == h.equals || h.prefix != "" && strings.HasPrefix(val, h.prefix) {
			return true
		}
	}
	return false
}

// cidrs matches the source address against address ranges.
type cidrs []netip.Prefix

func compileCIDRs(list []string) (cidrs, error) {
	if len(list) == 0 {
		return nil, conf.Errorf("source_ips", "must list at least one address or CIDR range; leave it out to match any source")
	}
	out := make(cidrs, 0, len(list))
	for i, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				return nil, conf.Errorf("source_ips"+conf.Index(i), `must be an IP address ("192.0.2.7") or a CIDR range ("10.0.0.0/8"), not %q`, s)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (c cidrs) match(v *view) bool {
	ip := v.IP()
	if !ip.IsValid() {
		return false
	}
	for _, p := range c {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
