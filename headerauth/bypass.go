package headerauth

import (
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// bypass reports whether the request skips the check: it certainly matches
// one of the bypass entries.
func (c *compiled) bypass(r *match.Request) bool {
	for _, m := range c.bypasses {
		if m.Certainly(r) {
			return true
		}
	}
	return false
}

// compileBypass validates the bypass entries into c. An entry without a
// condition would match every request and so turn the check off; it is
// refused.
func (c *compiled) compileBypass(list []match.Match) error {
	for i, b := range list {
		at := "bypass" + conf.Index(i)
		// An empty list of methods, hosts or source IPs is refused by Compile.
		if b.IsZero() {
			return conf.Errorf(at, "must set a condition (methods, path, hosts, headers, source_ips, routes or body): an empty match would let every request skip the check")
		}
		m, err := match.Compile(b)
		if err != nil {
			return conf.Within(at, err)
		}
		c.bypasses = append(c.bypasses, m)
		c.body = c.body || m.ReadsBody()
	}
	return nil
}
