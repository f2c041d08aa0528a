package authz

import (
	"strconv"

	"github.com/wasmpolicy/policy"
	verified "github.com/wasmpolicy/policy/authz/claims"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/stats"
)

var definition = policy.Define(kindName, decode, New)

// Kind builds the declarative filter from the plugin configuration, for
// policy.Configured:
//
//	{"name": "authz", "config": {"rules": [...], "default": "deny"}}
var Kind = definition.Kind()

// Filter returns a chain step, for policy.Static, that authorizes requests
// with cfg. An invalid cfg fails the plugin's start.
func Filter(cfg Config) policy.Spec { return definition.Spec(cfg) }

// Authorizer is the declarative filter: it tries its rules in order on the
// request headers, and the first that matches decides; when none does, the
// default action decides. Deciding "remote" pauses the request until the
// authorization service answers.
type Authorizer struct {
	rules  []rule
	def    Action
	deny   policy.Response // Reason is the default's
	remote *remote         // nil without a Remote
	// body is set when a rule has conditions on the request body: a
	// request with a body is then decided in its body phase.
	body bool

	// view is the request being decided. Requests run one at a time in a
	// VM, so one view serves them all.
	view view
}

// rule is a compiled Rule.
type rule struct {
	name   string
	action Action
	when   *match.Matcher
	claims []*claim
	deny   policy.Response // the reply when action is ActionDeny
	hits   *stats.Counter
}

// New validates cfg, compiles its matchers and defines the filter's metrics
// in env. Its errors name the offending field by its JSON path:
// `rules[1].match.source_ips[0]: must be an IP address ...`.
func New(cfg Config, env *policy.Env) (*Authorizer, error) {
	a, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	for i := range a.rules {
		a.rules[i].hits = env.Counter("authz_rule_matches_total", stats.Tag{Key: "rule", Value: a.rules[i].name})
	}
	if a.remote != nil {
		a.remote.instrument(env)
	}
	return a, nil
}

// compile is New without metrics.
func compile(cfg Config) (*Authorizer, error) {
	a := &Authorizer{def: cfg.Default}
	names := map[string]int{}
	for i, r := range cfg.Rules {
		at := "rules" + conf.Index(i)
		c := rule{name: r.Name, action: r.Action}
		if c.name == "" {
			c.name = strconv.Itoa(i)
		} else if !stats.Valid(c.name) {
			return nil, conf.Errorf(at+".name", "must be letters, digits, '_', '-' and '/' only (it names a metric), not %q", c.name)
		}
		if j, dup := names[c.name]; dup {
			return nil, conf.Errorf(at+".name", "%q is already the name of rules[%d]", c.name, j)
		}
		names[c.name] = i
		if err := checkAction(r.Action, cfg.Remote != nil); err != nil {
			return nil, conf.Within(at+".action", err)
		}
		when, claims, err := compileRule(r)
		if err != nil {
			return nil, conf.Within(at, err)
		}
		c.when, c.claims = when, claims
		a.body = a.body || when.ReadsBody()
		a.rules = append(a.rules, c)
	}
	switch {
	case a.def != "":
		if err := checkAction(a.def, cfg.Remote != nil); err != nil {
			return nil, conf.Within("default", err)
		}
	case cfg.Remote != nil:
		a.def = ActionRemote
	case len(cfg.Rules) == 0:
		return nil, conf.Errorf("rules", `must list at least one rule, or set "default" ("allow" or "deny") or a "remote" service`)
	default:
		a.def = ActionDeny
	}
	deny, err := cfg.Deny.Response(policy.Response{Status: 403, Body: defaultDenyBody})
	if err != nil {
		return nil, conf.Within("deny", err)
	}
	a.deny = deny
	a.deny.Reason = "no rule matched and the default is deny"
	for i := range a.rules {
		a.rules[i].deny = deny
		a.rules[i].deny.Reason = "rule " + a.rules[i].name + " denies"
	}
	if cfg.Remote != nil {
		if a.remote, err = compileRemote(*cfg.Remote, deny); err != nil {
			return nil, conf.Within("remote", err)
		}
	}
	return a, nil
}

func checkAction(a Action, haveRemote bool) error {
	switch a {
	case ActionAllow, ActionDeny:
		return nil
	case ActionRemote:
		if haveRemote {
			return nil
		}
		return conf.Errorf("", `"remote" needs a "remote" service to ask`)
	case "":
		return conf.Errorf("", "is required")
	}
	return conf.Errorf("", `must be "allow", "deny" or "remote", not %q`, string(a))
}

// checkHeaderName checks a header name the filter sends or copies; key is
// the field it comes from.
func checkHeaderName(key, name string) error {
	if !httptoken.Valid(name) {
		return conf.Errorf(key, "%q is not a header name", name)
	}
	return nil
}

// OnRequestHeaders decides the request. When a rule has conditions on the
// body, the chain calls it once a request's body is there (ReadsRequestBody).
func (a *Authorizer) OnRequestHeaders(x *policy.Exchange) policy.Result {
	if a.remote != nil {
		a.remote.strip(x)
	}
	v := &a.view // reused: building a view per request would allocate it
	v.reset(x.Request())
	if c, ok := verified.From(x); ok {
		v.useVerified(c.Payload) // a verifying filter ran: its claims, or none
	}
	action, i := a.decide(v)
	deny := &a.deny
	if i >= 0 {
		a.rules[i].hits.Inc()
		deny = &a.rules[i].deny
	}
	switch action {
	case ActionAllow:
		return policy.Continue()
	case ActionRemote:
		return a.remote.check(x)
	}
	return policy.Deny(*deny)
}

// decide returns the action for the request and the index of the rule that
// chose it, -1 for the default.
func (a *Authorizer) decide(v *view) (Action, int) {
	for i := range a.rules {
		if a.rules[i].applies(v) {
			return a.rules[i].action, i
		}
	}
	return a.def, -1
}

// ReadsRequestBody implements policy.BodyReader: the request body is read
// only when a rule has conditions on it.
func (a *Authorizer) ReadsRequestBody() bool { return a.body }

var (
	_ policy.RequestHeadersFilter = (*Authorizer)(nil)
	_ policy.BodyReader           = (*Authorizer)(nil)
)
