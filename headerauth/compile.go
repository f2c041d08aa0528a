package headerauth

import (
	"errors"
	"strings"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/match"
)

// compiled is a validated Config, in the form requests are checked with.
type compiled struct {
	rule       *check
	bypasses   []*match.Matcher
	body       bool // a bypass entry has conditions on the JSON request body
	deny       policy.Response
	strip      []string // headers removed from requests let through
	identities []string // headers only the filter may set
}

// compile validates cfg and precomputes what the checks need. Its errors
// name the JSON path of the offending field.
func compile(cfg Config) (*compiled, error) {
	b := &builder{checked: map[string]string{}}
	var rule *check
	var err error
	switch {
	case cfg.Rules != nil && !isZero(cfg.Rule):
		err = conf.Errorf("rules", "cannot be combined with a rule at the top level (header, all_of, any_of); put that rule in the list")
	case cfg.Rules != nil:
		rule, err = b.group("", "rules", opAll, cfg.Rules)
	case isZero(cfg.Rule):
		err = conf.Errorf("", `must have a rule: "header" for one header rule, or "rules" (all must pass), "all_of" or "any_of" for several`)
	default:
		rule, err = b.rule("", cfg.Rule)
	}
	if err != nil {
		return nil, err
	}
	// A header the client can send cannot also be the filter's word on who
	// the client is.
	for _, id := range b.ids {
		if at, ok := b.checked[id.header]; ok {
			return nil, conf.Errorf(conf.Join(id.path, "identity_header"),
				"%q is also a header the client sends (checked at %s); use a header of its own", id.header, describe(at))
		}
	}
	c := &compiled{rule: rule, strip: b.strip}
	for _, id := range b.ids {
		c.identities = appendNew(c.identities, id.header)
	}
	if err := c.compileBypass(cfg.Bypass); err != nil {
		return nil, err
	}
	if c.deny, err = compileDeny(cfg.Deny); err != nil {
		return nil, conf.Within("deny", err)
	}
	return c, nil
}

// builder collects what the rules of a configuration declare.
type builder struct {
	checked map[string]string // header -> path of a rule that checks it
	strip   []string
	ids     []struct{ header, path string }
}

func (b *builder) rule(path string, r Rule) (*check, error) {
	at := func(field string) string { return conf.Join(path, field) }
	group := r.AllOf != nil || r.AnyOf != nil
	switch {
	case r.AllOf != nil && r.AnyOf != nil:
		return nil, conf.Errorf(at("any_of"), "cannot be combined with all_of in one rule; nest one group inside the other")
	case group && r.Header != "":
		return nil, conf.Errorf(at("header"), "cannot be combined with a group (all_of, any_of); put the header rule inside the group")
	case group && headerField(r) != "":
		return nil, conf.Errorf(at(headerField(r)), "applies to a header rule, not to a group (all_of, any_of)")
	case r.AllOf != nil:
		return b.group(path, "all_of", opAll, r.AllOf)
	case r.AnyOf != nil:
		return b.group(path, "any_of", opAny, r.AnyOf)
	case r.Header == "" && headerField(r) != "":
		return nil, conf.Errorf(at("header"), "is required")
	case r.Header == "":
		return nil, conf.Errorf(path, `must have a rule: "header" for one header rule, or "all_of" or "any_of" for a group`)
	}
	return b.header(path, r)
}

func (b *builder) group(path, key string, o op, rules []Rule) (*check, error) {
	if len(rules) == 0 {
		return nil, conf.Errorf(conf.Join(path, key), "must list at least one rule")
	}
	c := &check{path: path, op: o}
	for i, r := range rules {
		child, err := b.rule(conf.Join(path, key+conf.Index(i)), r)
		if err != nil {
			return nil, err
		}
		c.children = append(c.children, child)
	}
	return c, nil
}

func (b *builder) header(path string, r Rule) (*check, error) {
	at := func(field string) string { return conf.Join(path, field) }
	name := policy.HeaderName(r.Header)
	if !httptoken.Valid(strings.TrimPrefix(name, ":")) { // a pseudo-header such as ":authority" too
		return nil, conf.Errorf(at("header"), "%q is not a valid header name", r.Header)
	}
	c := &check{path: path, header: name, op: opPresent}
	if _, seen := b.checked[name]; !seen {
		b.checked[name] = path
	}
	var err error
	switch {
	case r.Absent:
		r.Absent = false
		if f := headerField(r); f != "" {
			return nil, conf.Errorf(at(f), "cannot be combined with absent")
		}
		c.op = opAbsent
		return c, nil
	case r.Values != nil && r.Keys != nil:
		return nil, conf.Errorf(at("keys"), "cannot be combined with values")
	case r.Values != nil:
		err = c.setValues(at, r)
	case r.Keys != nil:
		err = c.setKeys(at, r)
	case r.Secret:
		return nil, conf.Errorf(at("secret"), "needs values: it makes them secret")
	case r.IgnoreCase:
		return nil, conf.Errorf(at("ignore_case"), "needs values: it is how they are compared")
	}
	if err != nil {
		return nil, err
	}
	if r.Strip {
		if name[0] == ':' {
			return nil, conf.Errorf(at("strip"), "cannot remove the pseudo-header %q", name)
		}
		b.strip = appendNew(b.strip, name)
	}
	if r.IdentityHeader != "" {
		id := policy.HeaderName(r.IdentityHeader)
		switch {
		case r.Keys == nil:
			return nil, conf.Errorf(at("identity_header"), "needs keys: it carries the name of the key that matched")
		case !httptoken.Valid(id):
			return nil, conf.Errorf(at("identity_header"), "%q is not a valid header name", r.IdentityHeader)
		}
		c.identity = id
		b.ids = append(b.ids, struct{ header, path string }{id, path})
	}
	return c, nil
}

func (c *check) setValues(at func(string) string, r Rule) error {
	if len(r.Values) == 0 {
		return conf.Errorf(at("values"), "must list at least one value; leave it out to accept any value")
	}
	for i, v := range r.Values {
		if v == "" {
			return conf.Errorf(at("values"+conf.Index(i)), "must not be empty")
		}
	}
	if !r.Secret {
		c.op, c.values, c.fold = opValues, r.Values, r.IgnoreCase
		return c.compileRequestLine(at)
	}
	if r.IgnoreCase {
		return conf.Errorf(at("ignore_case"), "cannot be combined with secret: secrets are compared exactly")
	}
	c.op, c.secrets = opSecrets, r.Values
	return nil
}

// compileRequestLine makes the values of a rule on :method, :path or
// :authority conditions of the match package, so that they are compared
// in normal form, as every other rule on them is: a value passes a request
// only if the request certainly has it, however a backend reads it.
func (c *check) compileRequestLine(at func(string) string) error {
	for i, v := range c.values {
		var m match.Match
		switch c.header {
		case ":method":
			m.Methods = []string{v}
		case ":path":
			m.Path = match.Path{Exact: v, IgnoreCase: c.fold}
		case ":authority":
			m.Hosts = []string{v}
		default:
			return nil
		}
		when, err := match.Compile(m)
		if err != nil {
			// The reason, at this value rather than at the field of the
			// match object it was put in.
			var e *conf.Error
			if errors.As(err, &e) {
				err = errors.New(e.Reason)
			}
			return conf.Within(at("values"+conf.Index(i)), err)
		}
		c.when = append(c.when, when)
	}
	return nil
}

func (c *check) setKeys(at func(string) string, r Rule) error {
	if len(r.Keys) == 0 {
		return conf.Errorf(at("keys"), "must name at least one key")
	}
	if r.IgnoreCase {
		return conf.Errorf(at("ignore_case"), "cannot be combined with keys: keys are compared exactly")
	}
	c.op = opKeys
	for _, k := range r.Keys {
		where := conf.Join(at("keys"), k.Name)
		switch {
		case k.Name == "":
			return conf.Errorf(at("keys"), "a key's name must not be empty")
		case !httptoken.ValidValue(k.Name):
			return conf.Errorf(at("keys"), "the key name %q must be printable: it is sent in a header", k.Name)
		case k.Value == "":
			return conf.Errorf(where, "must not be empty")
		}
		for i, other := range c.names {
			switch {
			case other == k.Name:
				return conf.Errorf(where, "is named twice")
			case c.secrets[i] == k.Value:
				return conf.Errorf(where, "is the same key as %s", conf.Join(at("keys"), other))
			}
		}
		c.names = append(c.names, k.Name)
		c.secrets = append(c.secrets, k.Value)
	}
	return nil
}

func isZero(r Rule) bool {
	return r.Header == "" && r.AllOf == nil && r.AnyOf == nil && headerField(r) == ""
}

// headerField names the first field of r that only a header rule takes
// (other than header itself), or returns "".
func headerField(r Rule) string {
	switch {
	case r.Values != nil:
		return "values"
	case r.Keys != nil:
		return "keys"
	case r.Absent:
		return "absent"
	case r.IgnoreCase:
		return "ignore_case"
	case r.Secret:
		return "secret"
	case r.Strip:
		return "strip"
	case r.IdentityHeader != "":
		return "identity_header"
	}
	return ""
}

func appendNew(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

// describe names the rule at path for a message.
func describe(path string) string {
	if path == "" {
		return "the top-level rule"
	}
	return path
}
