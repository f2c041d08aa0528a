package authz_test

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/policytest"
)

// TestDefaultsGoAndJSON builds each case's filter twice, from a Go Config
// that sets only what the case needs and from the JSON that does the
// same, and runs the same requests through both: each default must show
// the same way in both.
func TestDefaultsGoAndJSON(t *testing.T) {
	// answer answers the service's check; the cases set it.
	var answer func(c policytest.Callout) *policytest.Response
	for _, c := range []struct {
		name  string
		cfg   authz.Config
		json  string
		check func(t *testing.T, p *policytest.Plugin) []string
	}{
		{
			// With rules and no default, a request no rule applies to is
			// denied with 403 "access denied\n"; the rules are named by
			// their index.
			name: "rules",
			cfg:  authz.Config{Rules: []authz.Rule{{Action: authz.ActionAllow, Match: match.Match{Path: match.Path{Prefix: "/public/"}}}}},
			json: `{"rules": [{"action": "allow", "match": {"path": {"prefix": "/public/"}}}]}`,
			check: func(t *testing.T, p *policytest.Plugin) []string {
				allowed := p.Do(policytest.Request{Path: "/public/a"})
				denied := p.Do(policytest.Request{Path: "/private"})
				if allowed.Status != 200 || denied.Status != 403 || denied.Body != "access denied\n" {
					t.Errorf("statuses %d and %d, body %q; want 200, then 403 %q", allowed.Status, denied.Status, denied.Body, "access denied\n")
				}
				if got := p.Counter("policy_authz_rule_matches_total", "filter", "authz", "rule", "0"); got != 1 {
					t.Errorf(`authz_rule_matches_total{rule="0"} = %d, want 1`, got)
				}
				return []string{wasmtest.Describe(allowed), wasmtest.Describe(denied)}
			},
		},
		{
			// With a remote service and no default, every request asks it,
			// at the request's own path, with a 200ms timeout; its failure
			// denies the request with 403, whatever the deny status.
			name: "remote",
			cfg:  authz.Config{Remote: &authz.Remote{Cluster: "ext-authz"}, Deny: policy.DenyResponse{Status: 401}},
			json: `{"remote": {"cluster": "ext-authz"}, "deny": {"status": 401}}`,
			check: func(t *testing.T, p *policytest.Plugin) []string {
				var paths []string
				answer = func(c policytest.Callout) *policytest.Response {
					paths = append(paths, c.Path())
					return &policytest.Response{Status: 200}
				}
				allowed := p.Do(policytest.Request{Path: "/a?b=1"})
				if allowed.Status != 200 || strings.Join(paths, " ") != "/a?b=1" {
					t.Errorf("status %d after checks at %q; want 200 after one check at /a?b=1", allowed.Status, paths)
				}
				answer = func(policytest.Callout) *policytest.Response { return &policytest.Response{Status: 500} }
				failed := p.Do(policytest.Request{Path: "/a"})
				if failed.Status != 403 || failed.Body != "access denied\n" {
					t.Errorf("the service failing: status %d, body %q; want 403 %q", failed.Status, failed.Body, "access denied\n")
				}
				const log = `: answered 500 after 0ms (timeout 200ms): no body; request denied with 403 (failure_mode closed)`
				if !p.Logged(log) {
					t.Errorf("logged %q, want a line with %q", p.Logs(), log)
				}
				return []string{wasmtest.Describe(allowed), wasmtest.Describe(failed)}
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			answer = nil
			goVM, jsonVM := policy.Static(authz.Filter(c.cfg)), policy.Configured(authz.Kind)
			wasmtest.GoAndJSON(t, goVM, jsonVM, pluginConfig(c.json, ""), c.check,
				policytest.Callouts(func(c policytest.Callout) *policytest.Response {
					if answer == nil {
						return nil
					}
					return answer(c)
				}))
		})
	}
}
