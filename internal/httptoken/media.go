package httptoken

import "strings"

// MediaType is the media type a content-type header gives, lower-cased,
// without its parameters ("application/json" for "Application/JSON;
// charset=utf-8"); ok is false unless the header has exactly one value,
// since a body labelled twice is labelled nothing a reader can rely on.
func MediaType(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	t, _, _ := strings.Cut(values[0], ";")
	return strings.ToLower(strings.TrimSpace(t)), true
}

// IsJSON reports whether a media type (as MediaType gives it) is JSON:
// application/json, or any type with the +json suffix.
func IsJSON(mediaType string) bool {
	slash := strings.IndexByte(mediaType, '/')
	return mediaType == "application/json" || slash > 0 && strings.HasSuffix(mediaType[slash:], "+json")
}

// Encoded returns the first content-encoding of values other than
// identity, and whether there is one: a body so encoded cannot be read as
// it is.
func Encoded(values []string) (string, bool) {
	for _, e := range values {
		if e := strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "identity") {
			return e, true
		}
	}
	return "", false
}
