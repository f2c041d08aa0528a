package headermutate

import (
	"errors"
	"strings"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
	"github.com/wasmpolicy/policy/internal/template"
	"github.com/wasmpolicy/policy/internal/text"
)

// The pseudo-headers each side may set. Others carry connection data Envoy
// owns (":protocol") or do not exist on that side.
var (
	requestPseudo  = []string{":authority", ":method", ":path", ":scheme"}
	responsePseudo = []string{":status"}
)

var errNothingToDo = conf.Errorf("", `has no operations: give "request" or "response" operations (remove, set, add, headers), or the shorthand {"name": ..., "value": ...}`)

// compile validates one side's mutations and turns them into operations, in
// the order they run. Error paths start with side ("request.set.x-a").
func compile(side string, m Ops, pseudo []string) ([]op, error) {
	var ops []op
	for i, name := range m.Remove {
		n, err := checkName(name, pseudo, false)
		if err != nil {
			return nil, conf.Errorf(conf.Join(side, "remove"+conf.Index(i)), "%v", err)
		}
		ops = append(ops, op{name: n, remove: true})
	}
	for _, field := range []struct {
		key     string
		entries [][2]string
		action  AppendAction
	}{{"set", m.Set, OverwriteIfExistsOrAdd}, {"add", m.Add, AppendIfExistsOrAdd}} {
		path := conf.Join(side, field.key)
		for _, kv := range field.entries {
			o, err := compileHeader(Header{Name: kv[0], Value: kv[1], AppendAction: field.action}, pseudo, path, conf.Join(path, kv[0]))
			if err != nil {
				return nil, err
			}
			ops = append(ops, o)
		}
	}
	for i, h := range m.Headers {
		path := conf.Join(side, "headers"+conf.Index(i))
		if !h.AppendAction.valid() {
			return nil, conf.Errorf(conf.Join(path, "append_action"), "must be one of %s, not %s", strings.Join(actionNames[:], ", "), h.AppendAction)
		}
		o, err := compileHeader(h, pseudo, conf.Join(path, "name"), conf.Join(path, "value"))
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	return ops, nil
}

// compileHeader validates one header operation; errors about the name are
// reported at namePath, about the value at valuePath.
func compileHeader(h Header, pseudo []string, namePath, valuePath string) (op, error) {
	name, err := checkName(h.Name, pseudo, h.AppendAction.overwrites())
	if err != nil {
		return op{}, conf.Errorf(namePath, "%v", err)
	}
	switch {
	case strings.ContainsAny(h.Value, "\r\n\x00"):
		return op{}, conf.Errorf(valuePath, "must not contain CR, LF or NUL: %q", h.Value)
	case !httptoken.ValidValue(h.Value):
		return op{}, conf.Errorf(valuePath, "must not contain control characters other than tab: %q", h.Value)
	}
	t, err := template.Parse(h.Value)
	if err != nil {
		return op{}, conf.Errorf(valuePath, "%v", err)
	}
	lit, literal := t.Literal()
	if len(lit) > MaxValueLength {
		return op{}, conf.Errorf(valuePath, "has %d bytes of text, more than the %d bytes a header value may have", len(lit), MaxValueLength)
	}
	if name == ":status" {
		if !literal || !isStatus(lit) {
			return op{}, conf.Errorf(valuePath, "must be a literal status code from 200 to 599, not %q", h.Value)
		}
	}
	return op{name: name, action: h.AppendAction, value: t, keepEmpty: h.KeepEmptyValue}, nil
}

// checkName lower-cases and validates a header name. Pseudo-headers are
// allowed when they are in pseudo and the operation overwrites.
func checkName(name string, pseudo []string, overwrite bool) (string, error) {
	n := policy.HeaderName(name)
	switch {
	case n == "":
		return "", errors.New("header name must not be empty")
	case strings.ContainsAny(n, "\r\n\x00"):
		return "", text.Errorf("header name %q must not contain CR, LF or NUL", name)
	case n[0] == ':':
		if !contains(pseudo, n) {
			return "", text.Errorf("header name %q: the only pseudo-headers that can be rewritten here are %s", name, strings.Join(pseudo, ", "))
		}
		if !overwrite {
			return "", text.Errorf("pseudo-header %q has exactly one value: it can be set (OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS) but not added or removed", name)
		}
	case strings.IndexByte(n, ':') >= 0:
		return "", text.Errorf("header name %q must not contain ':'", name)
	}
	return n, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func isStatus(s string) bool {
	return len(s) == 3 && '2' <= s[0] && s[0] <= '5' && '0' <= s[1] && s[1] <= '9' && '0' <= s[2] && s[2] <= '9'
}
