package headerauth_test

import (
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// TestDefaultsGoAndJSON builds each case's filter twice, from a Go Config
// that sets only what the case needs and from the JSON that does the
// same, and runs the same requests through both: the denial's defaults
// (403, "access denied\n", the challenge of a 401, the content-type of a
// configured body) must show the same way in both.
func TestDefaultsGoAndJSON(t *testing.T) {
	rule := headerauth.Rule{Header: "x-key", Values: []string{"k"}}
	const ruleJSON = `"header": "x-key", "values": ["k"]`
	for _, c := range []struct {
		name  string
		cfg   headerauth.Config
		json  string
		check func(t *testing.T, denied *policytest.Result)
	}{
		{
			name: "denial",
			cfg:  headerauth.Config{Rule: rule},
			json: `{` + ruleJSON + `}`,
			check: func(t *testing.T, denied *policytest.Result) {
				if denied.Status != 403 || denied.Body != "access denied\n" || denied.Header("www-authenticate") != "" {
					t.Errorf("denied with %d, body %q, www-authenticate %q; want 403, %q and none",
						denied.Status, denied.Body, denied.Header("www-authenticate"), "access denied\n")
				}
			},
		},
		{
			name: "401",
			cfg:  headerauth.Config{Rule: rule, Deny: policy.DenyResponse{Status: 401}},
			json: `{` + ruleJSON + `, "deny": {"status": 401}}`,
			check: func(t *testing.T, denied *policytest.Result) {
				const challenge = `ApiKey realm="api"`
				if denied.Status != 401 || denied.Body != "access denied\n" || denied.Header("www-authenticate") != challenge {
					t.Errorf("denied with %d, body %q, www-authenticate %q; want 401, %q and %s",
						denied.Status, denied.Body, denied.Header("www-authenticate"), "access denied\n", challenge)
				}
			},
		},
		{
			name: "body",
			cfg:  headerauth.Config{Rule: rule, Deny: policy.DenyResponse{Body: "go away\n"}},
			json: `{` + ruleJSON + `, "deny": {"body": "go away\n"}}`,
			check: func(t *testing.T, denied *policytest.Result) {
				const text = "text/plain; charset=utf-8"
				if denied.Status != 403 || denied.Body != "go away\n" || denied.Header("content-type") != text {
					t.Errorf("denied with %d, body %q, content-type %q; want 403, the body and %s",
						denied.Status, denied.Body, denied.Header("content-type"), text)
				}
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			goVM, jsonVM := policy.Static(headerauth.Filter(c.cfg)), policy.Configured(headerauth.Kind)
			wasmtest.GoAndJSON(t, goVM, jsonVM, pluginConfig(c.json, ""), func(t *testing.T, p *policytest.Plugin) []string {
				passed := p.Do(policytest.Request{Headers: [][2]string{{"x-key", "k"}}})
				if passed.Status != 200 || passed.Forwarded == nil {
					t.Errorf("with the header: status %d, want 200 from the upstream", passed.Status)
				}
				denied := p.Do(policytest.Request{})
				c.check(t, denied)
				return []string{wasmtest.Describe(passed), wasmtest.Describe(denied)}
			})
		})
	}
}
