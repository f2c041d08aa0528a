package headerauth

import "github.com/wasmpolicy/policy"

// defaultBody is the body of a denial when the configuration sets none.
const defaultBody = "access denied\n"

// compileDeny validates d and builds the local reply once; each denial
// copies it and adds only its reason.
func compileDeny(d policy.DenyResponse) (policy.Response, error) {
	resp, err := d.Response(policy.Response{Status: 403, Body: defaultBody})
	if _, challenged := resp.Header("www-authenticate"); err == nil && resp.Status == 401 && !challenged {
		resp.Headers = append(resp.Headers, [2]string{"www-authenticate", `ApiKey realm="api"`})
	}
	return resp, err
}
