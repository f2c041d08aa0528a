package headermutate

import (
	"errors"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
)

// Config says how a Mutator changes the headers of requests and responses.
// Its JSON form mirrors it field for field:
//
//	{"request":  {"remove": [...], "set": {...}, "add": {...}, "headers": [...]},
//	 "response": {...},
//	 "invalid_value": "drop", "deny": {...}}
//
// The zero Config does nothing and is rejected by New.
type Config struct {
	// Request changes the request headers before the request goes upstream.
	Request Ops
	// Response changes the response headers before they go downstream,
	// including those of a local reply another filter sent.
	Response Ops
	// InvalidValue ("invalid_value") says what happens when a value renders
	// as something that cannot be sent as a header value (see the package
	// documentation): DropInvalid ("drop") skips the operation,
	// DenyInvalid ("deny") skips it and answers with Deny; empty means
	// DropInvalid. Either way it is counted and logged.
	InvalidValue InvalidValue
	// Deny ("deny") is the reply with DenyInvalid: 400 with the body
	// "invalid header value\n" unless it says otherwise. It may only be set
	// with DenyInvalid.
	Deny policy.DenyResponse

	shorthand bool // decoded from {"name": ..., "value": ...}
}

// Ops are the operations on one side's headers. They run in the order
// of the fields, and within a field in the order written: first Remove, then
// Set, then Add, then Headers. A value is computed when its operation runs,
// so it sees what earlier operations did.
type Ops struct {
	// Remove lists headers to remove, every value of each ("remove").
	Remove []string
	// Set replaces every value of a header with one value, adding the
	// header if it is absent: OVERWRITE_IF_EXISTS_OR_ADD ("set", an object
	// of name to value template).
	Set [][2]string
	// Add adds a value to a header, keeping the values it already has:
	// APPEND_IF_EXISTS_OR_ADD ("add", an object of name to value template).
	Add [][2]string
	// Headers are operations with any append action and keep_empty_value
	// ("headers", an array of objects).
	Headers []Header
}

// Header is one header operation, Envoy's HeaderValueOption flattened:
//
//	{"name": "x-a", "value": "b", "append_action": "ADD_IF_ABSENT", "keep_empty_value": false}
type Header struct {
	// Name is the header name; it is lower-cased. Required.
	Name string
	// Value is a template (see the package documentation); "" by default.
	Value string
	// AppendAction says what to do when the header is present or absent;
	// AppendIfExistsOrAdd (the zero value) by default.
	AppendAction AppendAction
	// KeepEmptyValue applies the operation even when the value comes out
	// empty; by default an empty value skips the operation.
	KeepEmptyValue bool
}

// InvalidValue is what the filter does when a value renders as something
// that cannot be sent as a header value.
type InvalidValue string

const (
	// DropInvalid skips the operation; the request goes on without it. It
	// is the default.
	DropInvalid InvalidValue = "drop"
	// DenyInvalid skips the operation and answers the request with the
	// Config's Deny reply: instead of sending it upstream on the request
	// side, instead of the upstream's response on the response side.
	DenyInvalid InvalidValue = "deny"
)

// AppendAction is Envoy's HeaderValueOption.HeaderAppendAction. The package
// documentation says which proxy operation each one performs.
type AppendAction uint8

const (
	// AppendIfExistsOrAdd adds the value as one more entry of the header,
	// creating the header if it is absent. It is the default.
	AppendIfExistsOrAdd AppendAction = iota
	// AddIfAbsent adds the header only if it is absent.
	AddIfAbsent
	// OverwriteIfExistsOrAdd replaces every value of the header with the
	// value, adding the header if it is absent.
	OverwriteIfExistsOrAdd
	// OverwriteIfExists replaces every value of the header with the value
	// only if the header is present.
	OverwriteIfExists
)

var actionNames = [...]string{
	AppendIfExistsOrAdd:    "APPEND_IF_EXISTS_OR_ADD",
	AddIfAbsent:            "ADD_IF_ABSENT",
	OverwriteIfExistsOrAdd: "OVERWRITE_IF_EXISTS_OR_ADD",
	OverwriteIfExists:      "OVERWRITE_IF_EXISTS",
}

// String is the action's name in Envoy's configuration.
func (a AppendAction) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "AppendAction(" + strconv.Itoa(int(a)) + ")"
}

func (a AppendAction) valid() bool { return int(a) < len(actionNames) }

// overwrites reports whether the action replaces values rather than adding
// an entry.
func (a AppendAction) overwrites() bool {
	return a == OverwriteIfExistsOrAdd || a == OverwriteIfExists
}

func parseAppendAction(s string) (AppendAction, bool) {
	for i, name := range actionNames {
		if s == name {
			return AppendAction(i), true
		}
	}
	return 0, false
}

// ParseConfig decodes a Config from its JSON form. It also accepts the
// single-header shorthand {"name": "hello", "value": "world"}, which means
// one response set. It only decodes: New validates.
func ParseConfig(raw gjson.Result) (Config, error) { return definition.Parse(raw) }

// decode reads a Config from the filter's JSON object.
func decode(o *conf.Object) Config {
	if isShorthand(o.Raw()) {
		h := Header{Name: o.RequiredString("name"), Value: o.RequiredString("value"), AppendAction: OverwriteIfExistsOrAdd}
		return Config{Response: Ops{Headers: []Header{h}}, shorthand: true}
	}
	return Config{
		Request:      parseOps(o.Object("request")),
		Response:     parseOps(o.Object("response")),
		InvalidValue: decodeInvalidValue(o),
		Deny:         policy.DecodeDenyResponse(o.Object("deny")),
	}
}

func parseOps(o *conf.Object) Ops {
	m := Ops{
		Remove: o.Strings("remove"),
		Set:    o.StringMap("set"),
		Add:    o.StringMap("add"),
	}
	for _, h := range o.Objects("headers") {
		hdr := Header{
			Name:           h.RequiredString("name"),
			Value:          h.String("value", ""),
			KeepEmptyValue: h.Bool("keep_empty_value", false),
		}
		if h.Has("append_action") {
			action := h.String("append_action", "")
			if a, ok := parseAppendAction(action); ok {
				hdr.AppendAction = a
			} else {
				h.Fail("append_action", "must be one of %s, not %q", strings.Join(actionNames[:], ", "), action)
			}
		}
		m.Headers = append(m.Headers, hdr)
	}
	return m
}

// decodeInvalidValue reads "invalid_value", "drop" or "deny"; empty when
// absent, for New to apply the default, so that a Config built in Go and
// one decoded from JSON get it alike.
func decodeInvalidValue(o *conf.Object) InvalidValue {
	if !o.Has("invalid_value") {
		return ""
	}
	return InvalidValue(o.OneOf("invalid_value", "", string(DropInvalid), string(DenyInvalid)))
}

// isShorthand reports whether raw is the single-header form.
func isShorthand(raw gjson.Result) bool {
	return raw.IsObject() && (raw.Get("name").Exists() || raw.Get("value").Exists())
}

// shorthandPath is where validation finds the shorthand's header.
const shorthandPath = "response.headers[0]"

// fromShorthand rewrites the path of a validation error about the shorthand's
// header to the shorthand's own keys ("name", "value").
func fromShorthand(err error) error {
	var e *conf.Error
	if errors.As(err, &e) && strings.HasPrefix(e.Path, shorthandPath+".") {
		return &conf.Error{Path: strings.TrimPrefix(e.Path, shorthandPath+"."), Reason: e.Reason}
	}
	return err
}
