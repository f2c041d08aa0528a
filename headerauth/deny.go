package headerauth

import (
	"strings"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/conf"
)

// defaultBody is the body of a denial when the configuration sets none.
const defaultBody = "access denied\n"

// compileDeny validates d and builds the local reply once; each denial
// copies it and adds only its reason.
func compileDeny(d DenyResponse) (policy.Response, error) {
	resp := policy.Response{Status: 403, Body: []byte(d.Body)}
	if d.Status != 0 {
		if d.Status < 400 || d.Status > 599 {
			return resp, conf.Errorf("deny.status", "must be between 400 and 599, not %d", d.Status)
		}
		resp.Status = uint32(d.Status)
	}
	if d.Body == "" {
		resp.Body = []byte(defaultBody)
	}
	hasChallenge := false
	for _, h := range d.Headers {
		name := policy.HeaderName(h[0])
		switch {
		case !validName(name, false):
			return resp, conf.Errorf("deny.headers", "%q is not a valid header name", h[0])
		case !validValue(h[1]):
			return resp, conf.Errorf(conf.Join("deny.headers", h[0]), "must be printable, without line breaks")
		}
		hasChallenge = hasChallenge || name == "www-authenticate"
		resp.Headers = append(resp.Headers, [2]string{name, h[1]})
	}
	switch {
	case d.WWWAuthenticate != "" && resp.Status != 401:
		return resp, conf.Errorf("deny.www_authenticate", "is only sent with status 401, not %d", resp.Status)
	case d.WWWAuthenticate != "" && hasChallenge:
		return resp, conf.Errorf("deny.www_authenticate", "cannot be combined with a www-authenticate entry in deny.headers")
	case !validValue(d.WWWAuthenticate):
		return resp, conf.Errorf("deny.www_authenticate", "must be printable, without line breaks")
	case d.WWWAuthenticate != "":
		resp.Headers = append(resp.Headers, [2]string{"www-authenticate", d.WWWAuthenticate})
	case resp.Status == 401 && !hasChallenge:
		resp.Headers = append(resp.Headers, [2]string{"www-authenticate", `ApiKey realm="api"`})
	}
	return resp, nil
}

// validName reports whether s is a lower-case HTTP header name (RFC 9110
// token characters), or a pseudo-header such as ":authority" if pseudo.
func validName(s string, pseudo bool) bool {
	if pseudo && len(s) > 1 && s[0] == ':' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validValue reports whether s can be sent as a header value: no control
// characters other than tab.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
