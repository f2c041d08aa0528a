package headerauth

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// FuzzParseConfig feeds arbitrary JSON to the decoder and the validator.
// Neither may panic; their errors must be path errors; a configuration
// they accept must be usable: a valid deny response, and a top-level
// header rule that passes a request built to satisfy it. Seeds are in
// testdata/fuzz/FuzzParseConfig.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"header": "allow", "values": ["true"]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !gjson.ValidBytes(doc) {
			return
		}
		cfg, err := ParseConfig(gjson.ParseBytes(doc))
		if err != nil {
			requirePathError(t, err)
			return
		}
		c, err := compile(cfg)
		if err != nil {
			requirePathError(t, err)
			return
		}
		if c.deny.Status < 300 || c.deny.Status > 599 || len(c.deny.Body) == 0 {
			t.Fatalf("accepted deny response %d %q", c.deny.Status, c.deny.Body)
		}
		bypassed(c, "GET", "/healthz?x")
		headers, ok := satisfying(c.rule)
		var grants []grant
		reason := c.rule.eval(headers, view(headers), &grants)
		if ok && reason != "" {
			t.Fatalf("%s: headers %q built to pass fail: %s", doc, headers, reason)
		}
		if ok && c.rule.identity != "" && (len(grants) != 1 || grants[0] != (grant{c.rule.identity, c.rule.names[0]})) {
			t.Fatalf("%s: grants %v, want the identity of the first key", doc, grants)
		}
	})
}

func requirePathError(t *testing.T, err error) {
	var e *conf.Error
	if !errors.As(err, &e) || e.Reason == "" {
		t.Fatalf("error %q is not a path error with a reason", err)
	}
}

// satisfying returns headers that pass the header rule c, and false if c
// is a group or an absent rule.
func satisfying(c *check) ([][2]string, bool) {
	switch c.op {
	case opPresent:
		return [][2]string{{c.header, "x"}}, true
	case opValues:
		return [][2]string{{c.header, c.values[0]}}, true
	case opSecrets, opKeys:
		return [][2]string{{c.header, c.secrets[0]}}, true
	}
	return nil, false
}

// FuzzEval checks header rules against a reference written the obvious
// way: names match ignoring ASCII case, keys and secrets match exactly,
// values match ignoring case when configured. Seeds are in
// testdata/fuzz/FuzzEval.
func FuzzEval(f *testing.F) {
	keys, err := compileJSON(`{"header": "X-Api-Key", "keys": {"alice": "k-1", "bob": "k-22"}, "identity_header": "x-consumer"}`)
	if err != nil {
		f.Fatal(err)
	}
	values, err := compileJSON(`{"header": "allow", "values": ["yes", "On"], "ignore_case": true}`)
	if err != nil {
		f.Fatal(err)
	}
	absent, err := compileJSON(`{"header": "x-debug", "absent": true}`)
	if err != nil {
		f.Fatal(err)
	}
	bypass, err := compileJSON(`{"header": "a", "bypass": [{"path": {"exact": "/healthz"}}, {"path": {"prefix": "/public/"}}, {"methods": ["OPTIONS"]}]}`)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("x-api-key", "k-22", "/healthz")
	f.Fuzz(func(t *testing.T, name, value, path string) {
		headers := [][2]string{{name, value}}

		var grants []grant
		pass := keys.rule.eval(headers, view(headers), &grants) == ""
		want := asciiLower(name) == "x-api-key" && (value == "k-1" || value == "k-22")
		if pass != want {
			t.Fatalf("key rule on %q: %q passed = %v", name, value, pass)
		}
		if pass && (len(grants) != 1 || grants[0].name != map[string]string{"k-1": "alice", "k-22": "bob"}[value]) {
			t.Fatalf("key rule on %q: grants %v", value, grants)
		}

		pass = values.rule.eval(headers, view(headers), new([]grant)) == ""
		want = asciiLower(name) == "allow" && (strings.EqualFold(value, "yes") || strings.EqualFold(value, "on"))
		if pass != want {
			t.Fatalf("value rule on %q: %q passed = %v", name, value, pass)
		}

		if pass, want := absent.rule.eval(headers, view(headers), new([]grant)) == "", asciiLower(name) != "x-debug"; pass != want {
			t.Fatalf("absent rule on %q passed = %v", name, pass)
		}

		if path != "" {
			if got := equal(value, path); got != 0 && value != path || got != 1 && value == path {
				t.Fatalf("equal(%q, %q) = %d", value, path, got)
			}
		}
		// A bypassed path is, in normal form (one of the ways backends read
		// it), a bypass path, letter case included; the methods entry has
		// no path condition.
		if bypassed(bypass, "GET", path) {
			p, ok := match.NormalizePath(path)
			if !ok || p != "/healthz" && !strings.HasPrefix(p, "/public/") {
				t.Fatalf("path %q bypassed", path)
			}
		}
		if !bypassed(bypass, "OPTIONS", path) {
			t.Fatalf("OPTIONS %q did not bypass", path)
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
