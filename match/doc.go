// Package match decides whether a request meets a set of conditions on its
// method, path, host, headers and source address: the "match" objects of
// every filter's rules. It is the one place where the module reads those
// parts of a request, so that a deny rule, an allow rule, a bypass and a
// rate limit written with the same conditions agree on every request.
//
// # Possibly and certainly
//
// Envoy forwards a request as it came, and backends read it in different
// ways: one cuts ";" parameters off a path segment, another decodes "%2F"
// into a separator, another ignores a trailing "/". A policy decision must
// hold for each of these readings, so a Matcher answers two questions:
//
//   - Possibly: does the request match under some reading? Rules that
//     restrict a request (deny, rate limit, remote check, requiring a
//     token) apply when it possibly matches: "/public/..;/admin" is denied
//     by a deny rule on "/admin/**", since Tomcat serves it as "/admin".
//   - Certainly: does it match under every reading? Rules that let a
//     request through (allow, bypass, allowing a missing token) apply only
//     when it certainly matches: the same path does not skip a check
//     through a bypass on the prefix "/public/".
//
// A request that cannot be read safely possibly matches every condition on
// the part that cannot be read, and certainly matches none.
//
// # Paths
//
// The query is cut off, and the path is then read in every way its
// characters give a meaning to. Each strict reading is normalized alike:
// percent-encoded unreserved characters (letters, digits, "-", ".", "_",
// "~") are decoded, other percent-encodings are written with upper-case
// hex digits, characters that may not appear in a path (non-ASCII bytes
// among them) are percent-encoded, and the dot segments "." and ".." are
// removed as RFC 3986 (section 5.2.4) says. Strict readings differ in
// three choices, each made both ways when the path gives it a meaning:
//
//   - ";" (or "%3B") starts a parameter that ends the segment (Tomcat,
//     Jetty, Spring), or is text;
//   - "\", "%2F" and "%5C" separate segments (IIS, some proxies and
//     frameworks), or are text, kept encoded;
//   - empty segments ("//") are dropped (nginx's merge_slashes), or kept.
//
// Each strict reading is also read loosely, as backends that trim path
// segments do: the trailing dots and spaces ("%20") of every segment are
// removed ("/admin./x" and "/admin%20/x" are "/admin/x" to IIS and
// Windows), the segments that are then empty are dropped, and so is a
// trailing "/" ("/secret/" is "/secret" to Express and Spring). A pattern
// is read loosely too when it is compared with a loose reading, so that
// "/admin/" and "/admin" stand for the same place there; a prefix keeps its
// unfinished last segment as it is written.
//
// A path cannot be read safely, and has no reading, if it does not start
// with "/", or contains "#", a space, a control character (raw or
// percent-encoded, NUL included) or a malformed percent-encoding, or has a
// segment made of dots and spaces alone other than "." and ".." ("...",
// "..%20"), which backends that trim segments resolve in different ways,
// or has more than 64 places that backends read in different ways:
// parameters, "\", "%2F" and "%5C", and the ends of segments that are
// empty, dot segments, end with a dot or a space, or have one of the
// others. A client in good faith sends a handful; each of them costs every
// reading, so the bound keeps a path's readings linear in its length.
//
// The normal form of a path (NormalizePath) is its strict reading that
// resolves the most: parameters removed, "\", "%2F" and "%5C" taken as
// separators, empty segments dropped. Patterns are written in normal form,
// so a configuration cannot name a path no request has. A path's key
// (Request.PathKey) is its normal form read loosely, in lower case: the
// one value every spelling of a path shares, which rate limits key their
// buckets with.
//
// A path condition is Exact, Prefix or Glob. It compares case-sensitively
// for a permitting rule unless IgnoreCase is set, and ignoring ASCII case
// for a restricting rule, since some backends do.
//
// # Hosts
//
// The host is read from the authority (:authority, or Host) in normal form
// (NormalizeHost): lower case, without the port and a trailing dot. An IP
// address is written one way whatever its spelling, so that a rule on an
// address holds for each of them: an IPv6 literal as RFC 5952 writes it
// ("[0:0::1]" is "[::1]"), an IPv4-mapped IPv6 address as the IPv4 address
// ("[::ffff:127.0.0.1]" is "127.0.0.1"), and the legacy IPv4 spellings
// that URL parsers and inet_aton accept ("127.1", "2130706433",
// "0x7f.0.0.1", "0177.0.0.1") as dotted decimal. A host that ends in a
// number but is not an IPv4 address ("1.2.3.999"), or that is not a host
// name, cannot be read. Hosts in conditions are normalized the same way.
//
// # Methods
//
// Methods compare ignoring ASCII case. Web frameworks let a client claim
// another method through the X-HTTP-Method-Override, X-Method-Override and
// X-HTTP-Method headers and the "_method" query parameter (a POST with
// "X-HTTP-Method-Override: DELETE" is a DELETE to them). A request
// possibly matches a methods condition if its own method or a method it
// claims is listed, and certainly matches only if its own method and every
// method it claims are listed.
//
// # Headers and source addresses
//
// Header names compare ignoring ASCII case. A header sent several times
// possibly matches a condition if one of its values does, and certainly
// matches only if every value does: backends differ on which copy they
// read. Source addresses are the downstream peer's (source.address), an
// IPv4-mapped IPv6 address read as IPv4; a request whose address is
// unknown possibly matches every source_ips condition and certainly none.
//
// # JSON bodies
//
// Conditions on fields of the request's JSON body ("body" in a match
// object, BodyField) hold for filters that decide once the body is there:
// authz and jwt rules, ratelimit rules and keys, headerauth bypasses (see
// Matcher.ReadsBody and Request.SetBody). The same readings guide the
// body rewrites of package bodymutate (RemoveField, SetField): an edit
// holds under every reading.
//
// A backend reads a JSON body with its own parser, and parsers disagree on
// documents a client is free to send. A field of a body therefore has
// readings, as a path has: the values a
// backend's parser may give it. Three parsers' ways cover them:
//
//   - first: of a key given twice, the first (gjson);
//   - last: the last (Go's encoding/json into a map, JavaScript's
//     JSON.parse, Python's json);
//   - folded: a key matches the name case-insensitively, by Unicode simple
//     folding ("ROLE", "Role" and "\u212Aey" for "key"), the last match
//     winning (Go's encoding/json into a struct).
//
// Each reading walks the whole path its own way. Keys are compared once
// their escapes are decoded ("r\u006fle" is "role" to every parser).
//
// A body cannot be read safely, and has no reading, if it is not one JSON
// value by RFC 8259 with nothing but white space after it, or starts with
// a byte order mark, or holds invalid UTF-8 or an escaped lone surrogate
// (which parsers reject or replace each their own way), or nests arrays
// and objects deeper than MaxJSONDepth, or has a number beyond what a
// float64 holds (one that overflows it, or an integer beyond ±2^53, which
// parsers into integers and into floats read differently).
//
// Restricting rules apply when some reading of a field meets their
// conditions, or the body cannot be read; permitting rules only when every
// reading does, and never for a body that cannot be read. A request without
// a body has every field absent. A body with a content-encoding other than
// identity cannot be read either: put Envoy's decompressor filter before
// the plugin.
//
// # The request view
//
// A Request holds what the conditions read of one request, worked out on
// first use and once per request however many rules look at it. Reading a
// path takes one pass over it, which writes it normalized and notes the
// places where readings differ, then one copy of the normalized path per
// reading; a plain path (one with a single reading, written as the normal
// form writes it) allocates nothing. In a chain,
// policy.Exchange.Request is the one Request of the request that every
// filter shares.
package match
