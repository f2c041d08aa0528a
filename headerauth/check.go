package headerauth

import (
	"crypto/subtle"
	"strconv"
	"strings"

	"github.com/wasmpolicy/policy/internal/ascii"
	"github.com/wasmpolicy/policy/match"
)

// op is what a compiled rule checks.
type op uint8

const (
	opPresent op = iota // the header is present
	opAbsent            // the header is not present
	opValues            // every occurrence is one of values
	opSecrets           // every occurrence is one of secrets
	opKeys              // the header occurs once and is one of secrets
	opAll               // every child passes
	opAny               // some child passes
)

// check is a validated, precompiled Rule.
type check struct {
	path   string // where the rule sits in the configuration, for reasons
	op     op
	header string   // lower case
	values []string // opValues
	fold   bool     // opValues: compare ignoring ASCII case
	// opValues on :method, :path or :authority: one condition per value,
	// matched by the match package in normal form, which the request must
	// certainly meet.
	when     []*match.Matcher
	secrets  []string // opSecrets, opKeys
	names    []string // opKeys: the name of each secret
	identity string   // opKeys: header that carries the name
	children []*check // opAll, opAny
}

// grant is an identity header to set because a key matched.
type grant struct{ header, name string }

// eval checks the request's headers against c; req is the same request as
// matchers read it. It returns "" if they pass, else the reason they fail,
// which names the rule and the header but never a value. The identities of
// matched keys are appended to grants.
func (c *check) eval(headers [][2]string, req *match.Request, grants *[]grant) string {
	switch c.op {
	case opAll:
		for _, child := range c.children {
			if reason := child.eval(headers, req, grants); reason != "" {
				return reason
			}
		}
		return ""
	case opAny:
		var reasons []string
		for _, child := range c.children {
			mark := len(*grants)
			reason := child.eval(headers, req, grants)
			if reason == "" {
				return ""
			}
			*grants = (*grants)[:mark]
			reasons = append(reasons, reason)
		}
		return c.fail("no rule matched (" + strings.Join(reasons, "; ") + ")")
	}

	if c.when != nil {
		for _, m := range c.when {
			if m.Certainly(req) {
				return ""
			}
		}
		return c.failHeader("has a value that is not allowed")
	}
	n, bad, key := 0, false, -1
	for _, h := range headers {
		if !sameName(h[0], c.header) {
			continue
		}
		n++
		switch c.op {
		case opValues:
			bad = bad || !c.allowed(h[1])
		case opSecrets, opKeys:
			key = c.secret(h[1])
			bad = bad || key < 0
		}
	}
	switch {
	case c.op == opAbsent && n > 0:
		return c.failHeader("must be absent")
	case c.op == opAbsent:
		return ""
	case n == 0:
		return c.failHeader("is missing")
	case c.op == opKeys && n > 1:
		return c.failHeader("is sent " + strconv.Itoa(n) + " times; a key must be sent once")
	case bad && c.op == opValues:
		return c.failHeader("has a value that is not allowed")
	case bad:
		return c.failHeader("does not carry a valid key")
	}
	if c.op == opKeys && c.identity != "" {
		*grants = append(*grants, grant{c.identity, c.names[key]})
	}
	return ""
}

// sameName reports whether the header name got equals want (lower case),
// ignoring ASCII case only.
func sameName(got, want string) bool { return ascii.EqualFold(got, want) }

// allowed reports whether v is one of the plain values.
func (c *check) allowed(v string) bool {
	for _, want := range c.values {
		if v == want || c.fold && ascii.EqualFold(v, want) {
			return true
		}
	}
	return false
}

// secret returns the index of the secret v equals, or -1. It compares v
// with every secret, in time that depends only on v's length and the
// number of secrets, never on which secret matches or how much of one does.
func (c *check) secret(v string) int {
	found := -1
	for i, s := range c.secrets {
		found = subtle.ConstantTimeSelect(equal(v, s), i, found)
	}
	return found
}

// equal returns 1 if got == want, else 0, in time that depends only on
// len(got): it reads want cyclically instead of stopping at its end, so
// the time reveals neither where the first difference is nor want's length.
func equal(got, want string) int {
	var diff byte
	for i := 0; i < len(got); i++ {
		diff |= got[i] ^ want[i%len(want)]
	}
	return subtle.ConstantTimeByteEq(diff, 0) & subtle.ConstantTimeEq(int32(len(got)), int32(len(want)))
}

func (c *check) failHeader(what string) string {
	return c.fail("header " + strconv.Quote(c.header) + " " + what)
}

func (c *check) fail(reason string) string {
	if c.path == "" {
		return reason
	}
	return c.path + ": " + reason
}
