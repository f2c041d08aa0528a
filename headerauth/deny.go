package headerauth

import (
	"strings"

	"github.com/wasmpolicy/policy"
)

// defaultBody is the body of a denial when the configuration sets none.
const defaultBody = "access denied\n"

// compileDeny validates d and builds the local reply once; each denial
// copies it and adds only its reason.
func compileDeny(d policy.DenyResponse) (policy.Response, error) {
	resp, err := d.Response(policy.Response{Status: 403, Body: []byte(defaultBody)})
	if _, challenged := resp.Header("www-authenticate"); err == nil && resp.Status == 401 && !challenged {
		resp.Headers = append(resp.Headers, [2]string{"www-authenticate", `ApiKey realm="api"`})
	}
	return resp, err
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
