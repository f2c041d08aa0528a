package headerauth

import (
	"strings"

	"github.com/wasmpolicy/policy/internal/conf"
)

// bypass reports whether a request with method and path (query included)
// skips the check.
func (c *compiled) bypass(method, path string) bool {
	for _, m := range c.methods {
		if method == m {
			return true
		}
	}
	if len(c.paths) == 0 && len(c.prefixes) == 0 {
		return false
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	matched := false
	for _, p := range c.paths {
		matched = matched || path == p
	}
	for _, p := range c.prefixes {
		matched = matched || strings.HasPrefix(path, p)
	}
	return matched && normal(path)
}

// compileBypass validates b into c; methods are upper-cased once here.
func (c *compiled) compileBypass(b Bypass) error {
	for i, p := range b.Paths {
		if !validBypassPath(p) {
			return conf.Errorf("bypass.paths"+conf.Index(i), "must be a path in normal form starting with '/', without a query, not %q", p)
		}
	}
	for i, p := range b.PathPrefixes {
		if !validBypassPath(p) {
			return conf.Errorf("bypass.path_prefixes"+conf.Index(i), "must be a path in normal form starting with '/', without a query, not %q", p)
		}
	}
	for i, m := range b.Methods {
		if !validName(m, false) {
			return conf.Errorf("bypass.methods"+conf.Index(i), "%q is not a valid method", m)
		}
		c.methods = append(c.methods, strings.ToUpper(m))
	}
	c.paths, c.prefixes = b.Paths, b.PathPrefixes
	return nil
}

// validBypassPath reports whether p is an absolute path in normal form: a
// request path that is not in normal form never bypasses, so neither may
// a configured one.
func validBypassPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.ContainsAny(p, "?#") && normal(p)
}

// normal reports whether the path p has no empty, "." or ".." segment and
// no percent-encoding or backslash, which proxies and backends may decode
// or merge differently.
func normal(p string) bool {
	return !strings.ContainsAny(p, `%\`) && !strings.Contains(p, "//") &&
		!strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..")
}
