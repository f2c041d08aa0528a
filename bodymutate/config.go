package bodymutate

import (
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
)

// Config says how a Mutator rewrites the JSON bodies of requests and
// responses. Its JSON form mirrors it field for field:
//
//	{"request":  {"copy": [{"from": "a", "to": "b"}], "set": {...}, "remove": [...]},
//	 "response": {...},
//	 "invalid_body": "pass", "deny": {...}}
//
// The zero Config does nothing and is rejected by New.
type Config struct {
	// Request rewrites the request body before it goes upstream.
	Request Ops
	// Response rewrites the response body before it goes downstream.
	Response Ops
	// InvalidBody ("invalid_body") says what happens to a body that is
	// to be rewritten and cannot be read (see the package documentation):
	// PassInvalid ("pass") lets it through unchanged, DenyInvalid ("deny")
	// answers with Deny instead; empty means PassInvalid. Either way it is
	// counted and logged.
	InvalidBody InvalidBody
	// Deny ("deny") is the reply with DenyInvalid: 400 "invalid JSON
	// body\n" in place of a request, 502 "invalid JSON body from the
	// upstream\n" in place of a response, unless it says otherwise. It may
	// only be set with DenyInvalid.
	Deny policy.DenyResponse
}

// Ops are the operations on one side's body. They run in the order of the
// fields, and within a field in the order written: first Copy, then Set,
// then Remove, so that a copy followed by a remove of its source renames a
// field. Each sees what the earlier ones did.
type Ops struct {
	// Copy copies fields within the body ("copy", an array of
	// {"from": path, "to": path}).
	Copy []Copy
	// Set sets fields, creating what is missing on the way ("set", an
	// object of path to value).
	Set []Field
	// Remove removes fields ("remove", an array of paths).
	Remove []string
}

// Copy sets the field To to the value of the field From. When From is
// missing, or the body's readings of it disagree, To is removed instead.
type Copy struct {
	From, To string
}

// Field is one set operation. In the JSON form it is a member of "set": a
// string value is a Value, any other value (number, boolean, null, object,
// array) is JSON.
type Field struct {
	// Path is the field's path ("user.id"): object keys and array indexes
	// separated by '.'.
	Path string
	// Value is a template (package headermutate's, with %CLAIM(path)%),
	// set as a JSON string. A template that is one %CLAIM(path)% alone
	// sets the claim's own JSON value (a number stays a number, an array
	// an array). When the template's placeholders have no value, the
	// field is removed.
	Value string
	// JSON, when not empty, is set as it is instead of Value: a JSON
	// document such as `3`, `true` or `{"a": 1}`.
	JSON string
}

// InvalidBody is what the filter does with a body it cannot read.
type InvalidBody string

const (
	// PassInvalid lets the body through unchanged. It is the default.
	PassInvalid InvalidBody = "pass"
	// DenyInvalid answers with the Config's Deny reply: in place of the
	// request on the request side, in place of the upstream's response on
	// the response side.
	DenyInvalid InvalidBody = "deny"
)

// ParseConfig decodes a Config from its JSON form. It only decodes: New
// validates.
func ParseConfig(raw gjson.Result) (Config, error) { return definition.Parse(raw) }

// decode reads a Config from the filter's JSON object.
func decode(o *conf.Object) Config {
	return Config{
		Request:     decodeOps(o.Object("request")),
		Response:    decodeOps(o.Object("response")),
		InvalidBody: decodeInvalidBody(o),
		Deny:        policy.DecodeDenyResponse(o.Object("deny")),
	}
}

// decodeInvalidBody reads "invalid_body", "pass" or "deny"; empty when
// absent, for New to apply the default, so that a Config built in Go and
// one decoded from JSON get it alike.
func decodeInvalidBody(o *conf.Object) InvalidBody {
	if !o.Has("invalid_body") {
		return ""
	}
	return InvalidBody(o.OneOf("invalid_body", "", string(PassInvalid), string(DenyInvalid)))
}

func decodeOps(o *conf.Object) Ops {
	ops := Ops{Remove: o.Strings("remove")}
	for _, c := range o.Objects("copy") {
		ops.Copy = append(ops.Copy, Copy{From: c.RequiredString("from"), To: c.RequiredString("to")})
	}
	for _, m := range o.Members("set") {
		f := Field{Path: m.Key}
		if m.Value.Type == gjson.String {
			f.Value = m.Value.Str
		} else {
			f.JSON = m.Value.Raw
		}
		ops.Set = append(ops.Set, f)
	}
	return ops
}
