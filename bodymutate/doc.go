// Package bodymutate rewrites JSON request and response bodies: it sets,
// copies and removes fields, with values taken from the request, such as
// the identity a verified token carries.
//
// # Configuration
//
//	{"request":  {"set":    {"caller.id": "%CLAIM(sub)%", "caller.groups": "%CLAIM(groups)%",
//	                         "gateway.checked": true},
//	              "remove": ["debug"]},
//	 "response": {"copy":   [{"from": "data.internal_id", "to": "data.ref"}],
//	              "remove": ["data.internal_id", "trace"]},
//	 "invalid_body": "pass"}
//
// Each side runs copy, then set, then remove, each in the order written, so
// a copy followed by a remove of its source renames a field. A path names
// object keys and array indexes separated by '.' ("items.0.price"); gjson's
// modifiers, queries and wildcards are configuration errors.
//
// # Values
//
// A string in "set" is a template, with headermutate's placeholders
// (%REQ(name)%, %DOWNSTREAM_REMOTE_ADDRESS%, %ROUTE_NAME%, %REQUEST_ID%, ...)
// and %CLAIM(path)%, a claim of the token a jwt filter earlier in the chain
// verified. It is written as a JSON string: a value is always encoded,
// never spliced into the document, so no header or claim can break it or
// add members of its own. A template that is one %CLAIM(path)% alone
// writes the claim's own JSON value: a number stays a number, a list of
// groups a list. Any other JSON value in "set" (a number, true, null, an
// object) is written as it is.
//
// A value that is missing (no verified token, no such header: every
// placeholder of the template without a value) removes the field instead,
// and so does a copy whose source is missing: a client cannot send a field
// of its own where the proxy writes its own.
//
// # Every reading
//
// A backend's JSON parser may read a body differently from the proxy (see
// package match, "JSON bodies"): a key given twice is the first to some
// parsers and the last to most; Go's encoding/json matches keys
// case-insensitively; keys may be written with \u escapes. An operation
// holds under every reading: remove removes every member that any reading
// takes for the field; set first removes them all, then sets one, so that a
// client's duplicate ("caller": {"id": "me"}, "caller": {"id": "admin"})
// cannot outlast the proxy's value. Only a document whose parent objects
// are themselves duplicated can leave a reading that finds the field
// absent; none finds a value the client sent.
//
// A copy's source is copied only when every reading agrees on it; when
// they disagree, the destination is removed.
//
// # Which bodies
//
// A response body is rewritten when its content-type is JSON
// (application/json, or any type with the +json suffix, in any case and
// with any parameters). A request body is rewritten when its content-type
// is JSON, and also when it is a JSON object or array under another
// content-type or none: backends often read JSON whatever the content-type
// says, and a client must not escape a rewrite by mislabelling its body.
// An empty body is left alone.
//
// A body that is to be rewritten but cannot be read is invalid: a body
// that is not JSON under a JSON content-type, one the match package will
// not read (a byte order mark, invalid UTF-8, nesting deeper than
// match.MaxJSONDepth, a number no parser reads the same), or one with a
// content-encoding other than identity (put Envoy's decompressor filter
// before the plugin to rewrite compressed bodies). It is counted in
// bodymutate_invalid_bodies_total{filter,side} and logged with the reason,
// at most once a minute. Then, by "invalid_body":
//
//	"pass"  the default: the body goes on unchanged
//	"deny"  the filter answers with "deny" (the shared deny object): by
//	        default 400 "invalid JSON body\n" in place of the request,
//	        502 "invalid JSON body from the upstream\n" in place of the
//	        response
//
// In shadow mode a deny is logged and the body goes on unchanged.
//
// # Bodies in the chain
//
// The chain buffers a body the filter rewrites, up to the plugin's
// body_limit, holding its headers meanwhile, and sets content-length to the
// rewritten body's length (package policy, "Bodies"); a side without
// operations is neither read nor held. A body over the limit is not
// rewritten: a request is refused with 413 (or goes on unread when the
// plugin fails open), a response goes on unchanged. Later filters of the
// chain, and the request view their rules read, see the rewritten request
// body.
package bodymutate
