// Package matchcases is the table of requests that every filter's tests
// send through a rule with the same "match" object: a deny rule, an allow
// rule, a bypass and a rate-limit rule must agree on it. It holds the
// spellings attackers use to get around path, host, method, header and
// JSON body rules.
package matchcases

import "strings"

// Case is one request against one match object.
type Case struct {
	Name  string
	Match string // the JSON "match" object
	Req   Request
	// Possibly is whether a restricting rule (deny, rate limit, remote
	// check) applies to the request; Certainly whether a permitting rule
	// (allow, bypass) does.
	Possibly, Certainly bool
}

// Request is a request as the proxy delivers it.
type Request struct {
	Method    string // "GET" when empty
	Path      string
	Authority string // "example.com" when empty
	Headers   [][2]string
	Source    string // source.address; "192.0.2.9:5000" when empty
	Route     string // route_name; none when empty
	// Body, when set, is sent after the headers; without it the headers
	// end the request.
	Body string
}

// Headers are the request's headers, pseudo-headers first.
func (r Request) HeaderList() [][2]string {
	method, authority := r.Method, r.Authority
	if method == "" {
		method = "GET"
	}
	if authority == "" {
		authority = "example.com"
	}
	return append([][2]string{{":method", method}, {":path", r.Path}, {":authority", authority}, {":scheme", "http"}}, r.Headers...)
}

// SourceAddress is the request's source.address.
func (r Request) SourceAddress() string {
	if r.Source == "" {
		return "192.0.2.9:5000"
	}
	return r.Source
}

// SetProperties gives host the request's properties: its source.address
// and its route_name. Call it before the request's headers. A request
// without a route leaves route_name as it was, since the SDK's emulator
// cannot remove a property: the table puts its one case without a route
// before the cases with one.
func (r Request) SetProperties(host interface {
	SetProperty(path []string, value []byte) error
}) error {
	if err := host.SetProperty([]string{"source", "address"}, []byte(r.SourceAddress())); err != nil {
		return err
	}
	if r.Route == "" {
		return nil
	}
	return host.SetProperty([]string{"route_name"}, []byte(r.Route))
}

const (
	admin  = `{"path": {"glob": "/admin/**"}}`
	status = `{"path": {"glob": "/status/*"}}`
	public = `{"path": {"prefix": "/public/"}}`
	health = `{"path": {"exact": "/healthz"}}`
	hosts  = `{"hosts": ["blocked.example.com", "*.internal.example.com"]}`
	del    = `{"methods": ["DELETE"]}`
	ips    = `{"hosts": ["127.0.0.1", "[::1]"]}`
	role   = `{"headers": [{"name": "x-role", "equals": "admin"}]}`
	nets   = `{"source_ips": ["10.0.0.0/8", "2001:db8::/32"]}`
	both   = `{"methods": ["POST"], "path": {"prefix": "/api/"}}`
	routes = `{"routes": ["checkout", "login"]}`
	field  = `{"body": [{"path": "user.role", "equals": "admin"}]}`
)

func body(name, b string, possibly, certainly bool) Case {
	return Case{Name: name, Match: field, Req: Request{Method: "POST", Path: "/", Body: b}, Possibly: possibly, Certainly: certainly}
}

func path(m, p string, possibly, certainly bool) Case {
	return Case{Name: p, Match: m, Req: Request{Path: p}, Possibly: possibly, Certainly: certainly}
}

// Cases is the table.
var Cases = []Case{
	// A deny rule on /admin/** and the spellings that backends resolve to it.
	path(admin, "/admin", true, true),
	path(admin, "/admin/x", true, true),
	path(admin, "/admin/x?q=1", true, true),
	path(admin, "/administrator", false, false),
	path(admin, "/public/x", false, false),
	path(admin, "//admin/x", true, false),
	path(admin, "/admin;x/y", true, false),
	path(admin, "/admin;/x", true, false),
	path(admin, "/Admin/x", true, false),
	path(admin, "/ADMIN", true, false),
	path(admin, "/./admin/x", true, true),
	path(admin, "/public/../admin/x", true, true),
	path(admin, "/public/..;/admin/x", true, false),
	path(admin, "/public//../../admin/x", true, true),
	path(admin, "/%61dmin/x", true, true),
	path(admin, "/%2e%2e/admin", true, true),
	path(admin, "/public/%2E%2E/admin", true, true),
	path(admin, "/admin%2Fx", true, false),
	path(admin, "/public%2F..%2Fadmin", true, false),
	path(admin, `/public\..\admin`, true, false),
	path(admin, "/public/..%5cadmin", true, false),
	path(admin, "/public/%3B/../admin", true, false),
	path(admin, "/admin%3Bx/y", true, false),
	// Backends that trim a segment's trailing dots and spaces (IIS, Windows)
	// or ignore a trailing "/" (Express, Spring).
	path(admin, "/admin./x", true, false),
	path(admin, "/admin%2e/x", true, false),
	path(admin, "/admin%20/x", true, false),
	path(admin, "/admin.%20./x", true, false),
	path(admin, "/admin;x./y", true, false),
	path(admin, "/Admin%2E", true, false),
	path(admin, "/admin/", true, true),
	path(admin, "/administrator./x", false, false),
	path(admin, "/adm%20in/x", false, false),
	// Paths that cannot be read safely: restricting rules apply, permitting
	// rules do not.
	path(admin, "/..%00", true, false),
	path(admin, "/public/%00/../admin", true, false),
	path(admin, "/public#/../admin", true, false),
	path(admin, "/public/%zz", true, false),
	path(admin, "admin/x", true, false),
	path(admin, "*", true, false),
	path(admin, "/public/\x01", true, false),
	path(admin, "/public/..%20/admin", true, false),
	path(admin, "/public/.../admin", true, false),
	path(admin, "/public/. ./admin"[:10]+"%20./admin", true, false),
	path(admin, "/public/ /admin", true, false),
	// More places that backends read differently than a client in good
	// faith sends: the path cannot be read.
	path(admin, "/public"+strings.Repeat(";x/", 70), true, false),
	path(admin, "/public"+strings.Repeat("%2F..", 70), true, false),
	path(admin, "/public"+strings.Repeat("/.", 70), true, false),
	path(admin, "/public"+strings.Repeat("/a./", 40)+"x", true, false),
	path(admin, "/public"+strings.Repeat("/a;x", 30)+"/x", false, false),
	// A glob that must not match a dot segment.
	path(status, "/status/418", true, true),
	path(status, "/status/418/x", false, false),
	path(status, "/status", false, false),
	path(status, "/status/", false, false),
	path(status, "/status/..", false, false),
	path(status, "/status/..;", true, false),
	path(status, "/status/..%2Fadmin", true, false),
	path(status, "/status/%2e%2e%2fadmin", true, false),
	path(status, "/status/..%5cadmin", true, false),
	path(status, "/status/.%2e/admin", false, false),
	path(status, "/Status/418", true, false),
	path(status, "/status/418/", true, false),
	path(status, "/status/418.", true, true),
	path(status, "/status/%20", true, false),
	path(status, "/status/./", false, false),
	// A prefix.
	path(public, "/public/a", true, true),
	path(public, "/public/..;/admin", true, false),
	path(public, "/public/../admin", false, false),
	path(public, "/public/./a", true, true),
	path(public, "/publicity", false, false),
	path(public, "/public/a;b", true, true),
	path(public, "/public/%7Ea", true, true),
	path(public, "/public", true, false),
	path(public, "/public/", true, true),
	path(public, "/public./a", true, false),
	path(public, "/public%20/a", true, false),
	path(public, "/public/a.", true, true),
	path(public, "/publ", false, false),
	// An exact path.
	path(health, "/healthz", true, true),
	path(health, "/healthz?full=1", true, true),
	path(health, "/healthz/", true, false),
	path(health, "/healthz.", true, false),
	path(health, "/healthz%20", true, false),
	path(health, "/healthz/.", true, false),
	path(health, "/healthz%2e%2e", true, false),
	path(health, "/healthz/x", false, false),
	path(health, "/healthz;x", true, false),
	path(health, "/HEALTHZ", true, false),
	path(health, "//healthz", true, false),
	// Hosts.
	{Name: "host", Match: hosts, Req: Request{Path: "/", Authority: "blocked.example.com"}, Possibly: true, Certainly: true},
	{Name: "host trailing dot", Match: hosts, Req: Request{Path: "/", Authority: "blocked.example.com."}, Possibly: true, Certainly: true},
	{Name: "host case", Match: hosts, Req: Request{Path: "/", Authority: "Blocked.Example.COM"}, Possibly: true, Certainly: true},
	{Name: "host port", Match: hosts, Req: Request{Path: "/", Authority: "blocked.example.com:8443"}, Possibly: true, Certainly: true},
	{Name: "host two ports", Match: hosts, Req: Request{Path: "/", Authority: "blocked.example.com:80:80"}, Possibly: true, Certainly: false},
	{Name: "host empty port", Match: hosts, Req: Request{Path: "/", Authority: "blocked.example.com:"}, Possibly: true, Certainly: false},
	{Name: "host userinfo", Match: hosts, Req: Request{Path: "/", Authority: "x@blocked.example.com"}, Possibly: true, Certainly: false},
	{Name: "host two dots", Match: hosts, Req: Request{Path: "/", Authority: "blocked.example.com.."}, Possibly: true, Certainly: false},
	{Name: "host other", Match: hosts, Req: Request{Path: "/", Authority: "example.com"}, Possibly: false, Certainly: false},
	{Name: "host suffix", Match: hosts, Req: Request{Path: "/", Authority: "a.b.internal.example.com"}, Possibly: true, Certainly: true},
	{Name: "host suffix bare", Match: hosts, Req: Request{Path: "/", Authority: "internal.example.com"}, Possibly: false, Certainly: false},
	{Name: "host lookalike", Match: hosts, Req: Request{Path: "/", Authority: "notblocked.example.com"}, Possibly: false, Certainly: false},
	// IP addresses, however they are written.
	{Name: "ip", Match: ips, Req: Request{Path: "/", Authority: "127.0.0.1"}, Possibly: true, Certainly: true},
	{Name: "ip port", Match: ips, Req: Request{Path: "/", Authority: "127.0.0.1:8080"}, Possibly: true, Certainly: true},
	{Name: "ip short", Match: ips, Req: Request{Path: "/", Authority: "127.1"}, Possibly: true, Certainly: true},
	{Name: "ip decimal", Match: ips, Req: Request{Path: "/", Authority: "2130706433"}, Possibly: true, Certainly: true},
	{Name: "ip hex", Match: ips, Req: Request{Path: "/", Authority: "0x7f.0.0.1"}, Possibly: true, Certainly: true},
	{Name: "ip hex whole", Match: ips, Req: Request{Path: "/", Authority: "0X7F000001"}, Possibly: true, Certainly: true},
	{Name: "ip octal", Match: ips, Req: Request{Path: "/", Authority: "0177.0.0.1"}, Possibly: true, Certainly: true},
	{Name: "ip trailing dot", Match: ips, Req: Request{Path: "/", Authority: "127.0.0.1."}, Possibly: true, Certainly: true},
	{Name: "ip mapped", Match: ips, Req: Request{Path: "/", Authority: "[::ffff:127.0.0.1]"}, Possibly: true, Certainly: true},
	{Name: "ip mapped hex", Match: ips, Req: Request{Path: "/", Authority: "[::FFFF:7f00:1]:80"}, Possibly: true, Certainly: true},
	{Name: "ip6 zeros", Match: ips, Req: Request{Path: "/", Authority: "[0::1]"}, Possibly: true, Certainly: true},
	{Name: "ip6 long", Match: ips, Req: Request{Path: "/", Authority: "[0000:0:0:0:0:0:0:0001]:8443"}, Possibly: true, Certainly: true},
	{Name: "ip other", Match: ips, Req: Request{Path: "/", Authority: "127.0.0.2"}, Possibly: false, Certainly: false},
	{Name: "ip6 other", Match: ips, Req: Request{Path: "/", Authority: "[::2]"}, Possibly: false, Certainly: false},
	{Name: "ip out of range", Match: ips, Req: Request{Path: "/", Authority: "127.0.0.256"}, Possibly: true, Certainly: false},
	{Name: "ip bad octal", Match: ips, Req: Request{Path: "/", Authority: "0179.0.0.1"}, Possibly: true, Certainly: false},
	{Name: "ip6 zone", Match: ips, Req: Request{Path: "/", Authority: "[::1%25lo]"}, Possibly: true, Certainly: false},
	{Name: "ip lookalike name", Match: ips, Req: Request{Path: "/", Authority: "127.0.0.1.example.com"}, Possibly: false, Certainly: false},
	// Methods.
	{Name: "DELETE", Match: del, Req: Request{Method: "DELETE", Path: "/"}, Possibly: true, Certainly: true},
	{Name: "delete", Match: del, Req: Request{Method: "delete", Path: "/"}, Possibly: true, Certainly: true},
	{Name: "Delete", Match: del, Req: Request{Method: "Delete", Path: "/"}, Possibly: true, Certainly: true},
	{Name: "GET", Match: del, Req: Request{Method: "GET", Path: "/"}, Possibly: false, Certainly: false},
	// Methods claimed through an override header or parameter.
	{Name: "override header", Match: del, Req: Request{Method: "POST", Path: "/", Headers: [][2]string{{"x-http-method-override", "DELETE"}}}, Possibly: true, Certainly: false},
	{Name: "override header case", Match: del, Req: Request{Method: "POST", Path: "/", Headers: [][2]string{{"X-HTTP-Method", " delete "}}}, Possibly: true, Certainly: false},
	{Name: "override other header", Match: del, Req: Request{Method: "POST", Path: "/", Headers: [][2]string{{"x-method-override", "DELETE"}}}, Possibly: true, Certainly: false},
	{Name: "override list", Match: del, Req: Request{Method: "GET", Path: "/", Headers: [][2]string{{"x-http-method-override", "GET, DELETE"}}}, Possibly: true, Certainly: false},
	{Name: "override second copy", Match: del, Req: Request{Method: "GET", Path: "/", Headers: [][2]string{{"x-http-method-override", "GET"}, {"x-http-method-override", "DELETE"}}}, Possibly: true, Certainly: false},
	{Name: "override param", Match: del, Req: Request{Method: "POST", Path: "/?_method=DELETE"}, Possibly: true, Certainly: false},
	{Name: "override param semicolon", Match: del, Req: Request{Method: "POST", Path: "/?x=1;_method=delete"}, Possibly: true, Certainly: false},
	{Name: "override param encoded", Match: del, Req: Request{Method: "POST", Path: "/?%5Fmethod=DEL%45TE"}, Possibly: true, Certainly: false},
	{Name: "override agrees", Match: del, Req: Request{Method: "DELETE", Path: "/", Headers: [][2]string{{"x-http-method-override", "DELETE"}}}, Possibly: true, Certainly: true},
	{Name: "override disagrees", Match: del, Req: Request{Method: "DELETE", Path: "/?_method=GET"}, Possibly: true, Certainly: false},
	{Name: "override other", Match: del, Req: Request{Method: "POST", Path: "/", Headers: [][2]string{{"x-http-method-override", "PUT"}}}, Possibly: false, Certainly: false},
	{Name: "override empty", Match: del, Req: Request{Method: "DELETE", Path: "/", Headers: [][2]string{{"x-http-method-override", ""}}}, Possibly: true, Certainly: true},
	{Name: "override lookalike param", Match: del, Req: Request{Method: "POST", Path: "/?x_method=DELETE&_methods=DELETE"}, Possibly: false, Certainly: false},
	// Headers, repeated and in any case.
	{Name: "role", Match: role, Req: Request{Path: "/", Headers: [][2]string{{"x-role", "admin"}}}, Possibly: true, Certainly: true},
	{Name: "role twice", Match: role, Req: Request{Path: "/", Headers: [][2]string{{"x-role", "admin"}, {"x-role", "admin"}}}, Possibly: true, Certainly: true},
	{Name: "role mixed", Match: role, Req: Request{Path: "/", Headers: [][2]string{{"x-role", "user"}, {"x-role", "admin"}}}, Possibly: true, Certainly: false},
	{Name: "role mixed reversed", Match: role, Req: Request{Path: "/", Headers: [][2]string{{"x-role", "admin"}, {"x-role", "user"}}}, Possibly: true, Certainly: false},
	{Name: "role name case", Match: role, Req: Request{Path: "/", Headers: [][2]string{{"X-Role", "admin"}}}, Possibly: true, Certainly: true},
	{Name: "role value case", Match: role, Req: Request{Path: "/", Headers: [][2]string{{"x-role", "Admin"}}}, Possibly: false, Certainly: false},
	{Name: "role joined", Match: role, Req: Request{Path: "/", Headers: [][2]string{{"x-role", "user,admin"}}}, Possibly: false, Certainly: false},
	{Name: "role missing", Match: role, Req: Request{Path: "/"}, Possibly: false, Certainly: false},
	// Source addresses.
	{Name: "source in range", Match: nets, Req: Request{Path: "/", Source: "10.1.2.3:5000"}, Possibly: true, Certainly: true},
	{Name: "source v6", Match: nets, Req: Request{Path: "/", Source: "[2001:db8::7]:443"}, Possibly: true, Certainly: true},
	{Name: "source mapped", Match: nets, Req: Request{Path: "/", Source: "[::ffff:10.1.2.3]:5000"}, Possibly: true, Certainly: true},
	{Name: "source outside", Match: nets, Req: Request{Path: "/", Source: "192.0.2.1:5000"}, Possibly: false, Certainly: false},

	// Routes are the proxy's names, compared exactly: no spelling of a
	// path or of the name reaches another route.
	{Name: "route none", Match: routes, Req: Request{Path: "/checkout"}, Possibly: false, Certainly: false},
	{Name: "route listed", Match: routes, Req: Request{Path: "/", Route: "login"}, Possibly: true, Certainly: true},
	{Name: "route other", Match: routes, Req: Request{Path: "/login", Route: "default"}, Possibly: false, Certainly: false},
	{Name: "route case", Match: routes, Req: Request{Path: "/", Route: "Login"}, Possibly: false, Certainly: false},
	{Name: "route prefix", Match: routes, Req: Request{Path: "/", Route: "login-v2"}, Possibly: false, Certainly: false},
	{Name: "route header", Match: routes, Req: Request{Path: "/", Headers: [][2]string{{"x-route", "login"}, {"route_name", "login"}}}, Possibly: false, Certainly: false},
	// Conditions combine: each must hold.
	{Name: "method and path", Match: both, Req: Request{Method: "POST", Path: "/api/x"}, Possibly: true, Certainly: true},
	{Name: "method only", Match: both, Req: Request{Method: "POST", Path: "/web/x"}, Possibly: false, Certainly: false},
	{Name: "path only", Match: both, Req: Request{Method: "GET", Path: "/api/x"}, Possibly: false, Certainly: false},
	{Name: "lower method, odd path", Match: both, Req: Request{Method: "post", Path: "/api;v=2/x"}, Possibly: true, Certainly: false},
	{Name: "method claimed away", Match: both, Req: Request{Method: "POST", Path: "/api/x", Headers: [][2]string{{"x-http-method-override", "DELETE"}}}, Possibly: true, Certainly: false},
	// A field of the JSON body, and the documents parsers read apart.
	body("the field", `{"user": {"role": "admin"}}`, true, true),
	body("another value", `{"user": {"role": "user"}}`, false, false),
	body("no body", "", false, false),
	body("a key given twice", `{"user": {"role": "user", "role": "admin"}}`, true, false),
	body("an object given twice", `{"user": {"role": "admin"}, "user": {"role": "user"}}`, true, false),
	body("a key in another case", `{"user": {"Role": "admin"}}`, true, false),
	body("an escaped key", `{"user": {"r\u006fle": "adm\u0069n"}}`, true, true),
	body("not JSON", `user.role=admin`, true, false),
	body("a byte order mark", "\xEF\xBB\xBF{\"user\": {\"role\": \"user\"}}", true, false),
	body("trailing data", `{"user": {"role": "user"}} {"user": {"role": "admin"}}`, true, false),
	body("invalid UTF-8", "{\"user\": {\"role\": \"user\xff\"}}", true, false),
	body("an escaped lone surrogate", `{"user": {"role": "user\ud800"}}`, true, false),
	body("nested too deep", `{"user": {"role": "user"}, "x": `+strings.Repeat("[", 65)+strings.Repeat("]", 65)+`}`, true, false),
	body("an integer beyond 2^53", `{"user": {"role": "user"}, "n": 9007199254740993}`, true, false),
	{Name: "compressed", Match: field, Req: Request{Method: "POST", Path: "/", Body: `{"user": {"role": "user"}}`, Headers: [][2]string{{"content-encoding", "gzip"}}}, Possibly: true, Certainly: false},
}

// Group is the cases of one match object, in the table's order.
type Group struct {
	Match string
	Cases []Case
}

// Groups is the table grouped by match object, the groups in the order
// their match objects first appear, so that a test can start one plugin per
// configuration for all of its cases.
func Groups() []Group {
	var out []Group
	index := map[string]int{}
	for _, c := range Cases {
		i, ok := index[c.Match]
		if !ok {
			i = len(out)
			index[c.Match] = i
			out = append(out, Group{Match: c.Match})
		}
		out[i].Cases = append(out[i].Cases, c)
	}
	return out
}
