package template

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/httptoken"
)

// The seed corpus is in testdata/fuzz; run with
//
//	go test ./internal/template -run '^$' -fuzz FuzzParseTemplate

// FuzzParseTemplate checks that any text, with its '%' doubled, is a
// template whose literal text is that text, and that a template that parses
// renders either a valid header value or nothing, with the placeholder at
// fault, when a placeholder's value is s.
func FuzzParseTemplate(f *testing.F) {
	f.Add("Hello world from %REQ(:authority)%")
	f.Fuzz(func(t *testing.T, s string) {
		if tmpl, err := Parse(s); err == nil {
			src := fakeSource{":authority": s, "x-user": s, "@source": s, "@route": s, "x-request-id": s}
			v, fault := tmpl.Header(src)
			text, _ := tmpl.Literal() // headermutate refuses invalid text
			switch {
			case !fault.OK() && v != "":
				t.Fatalf("Parse(%q) renders %q with the fault %v", s, v, fault)
			case len(v) > policy.MaxHeaderValue:
				t.Fatalf("Parse(%q) renders %d bytes", s, len(v))
			case httptoken.ValidValue(text) && !httptoken.ValidValue(v):
				t.Fatalf("Parse(%q) renders the invalid value %q", s, v)
			}
		} else if !strings.HasPrefix(err.Error(), "at offset ") {
			t.Fatalf("Parse(%q) error %q does not give the offset", s, err)
		} else if !strings.Contains(s, "%") {
			t.Fatalf("Parse(%q) failed without a '%%': %v", s, err)
		}
		escaped := strings.ReplaceAll(s, "%", "%%")
		tmpl, err := Parse(escaped)
		if err != nil {
			t.Fatalf("Parse(%q): %v", escaped, err)
		}
		if got, ok := tmpl.Literal(); !ok || got != s {
			t.Fatalf("Parse(%q) renders %q (literal %v), want %q", escaped, got, ok, s)
		}
	})
}
