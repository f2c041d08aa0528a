package headermutate

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/internal/httptoken"
)

// The seed corpora are in testdata/fuzz; run with
//
//	go test ./headermutate -run '^$' -fuzz FuzzParseTemplate
//	go test ./headermutate -run '^$' -fuzz FuzzConfig

// FuzzParseTemplate checks that any text, with its '%' doubled, is a
// template whose literal text is that text, and that a template that parses
// renders either a valid header value or nothing, with the placeholder at
// fault, when a placeholder's value is s.
func FuzzParseTemplate(f *testing.F) {
	f.Add("Hello world from %REQ(:authority)%")
	f.Fuzz(func(t *testing.T, s string) {
		if tmpl, err := parseTemplate(s); err == nil {
			src := fakeSource{":authority": s, "x-user": s, "@source": s, "@route": s, "x-request-id": s}
			v, fault := tmpl.render(src)
			text, _ := tmpl.literal() // compileHeader refuses invalid text
			switch {
			case !fault.ok() && v != "":
				t.Fatalf("parseTemplate(%q) renders %q with the fault %v", s, v, fault)
			case len(v) > MaxValueLength:
				t.Fatalf("parseTemplate(%q) renders %d bytes", s, len(v))
			case httptoken.ValidValue(text) && !httptoken.ValidValue(v):
				t.Fatalf("parseTemplate(%q) renders the invalid value %q", s, v)
			}
		} else if !strings.HasPrefix(err.Error(), "at offset ") {
			t.Fatalf("parseTemplate(%q) error %q does not give the offset", s, err)
		} else if !strings.Contains(s, "%") {
			t.Fatalf("parseTemplate(%q) failed without a '%%': %v", s, err)
		}
		escaped := strings.ReplaceAll(s, "%", "%%")
		tmpl, err := parseTemplate(escaped)
		if err != nil {
			t.Fatalf("parseTemplate(%q): %v", escaped, err)
		}
		if got, ok := tmpl.literal(); !ok || got != s {
			t.Fatalf("parseTemplate(%q) renders %q (literal %v), want %q", escaped, got, ok, s)
		}
	})
}

// FuzzConfig checks that any JSON either builds a filter whose operations
// have valid names and values, or fails with an error that names a path.
func FuzzConfig(f *testing.F) {
	f.Add(`{"request": {"set": {"x-hello": "Hello world from %REQ(:authority)%"}}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		if !gjson.Valid(doc) {
			return
		}
		cfg, err := ParseConfig(gjson.Parse(doc))
		var m *Mutator
		if err == nil {
			m, err = New(cfg, nil)
		}
		if err != nil {
			var e *conf.Error
			if !errors.As(err, &e) || e.Reason == "" {
				t.Fatalf("error %v is not a path and a reason", err)
			}
			return
		}
		for _, ops := range [][]op{m.request, m.response} {
			for _, o := range ops {
				if text, _ := o.value.literal(); len(text) > MaxValueLength {
					t.Fatalf("accepted %d bytes of literal text for %q", len(text), o.name)
				}
			}
		}
		checkOps(t, m.request, requestPseudo)
		checkOps(t, m.response, responsePseudo)
	})
}

func checkOps(t *testing.T, ops []op, pseudo []string) {
	for _, o := range ops {
		if o.name == "" || o.name != policy.HeaderName(o.name) || strings.ContainsAny(o.name, "\r\n\x00") {
			t.Fatalf("accepted header name %q", o.name)
		}
		if i := strings.IndexByte(o.name, ':'); i > 0 || i == 0 && (!contains(pseudo, o.name) || o.remove || !o.action.overwrites()) {
			t.Fatalf("accepted %q (remove %v, %s)", o.name, o.remove, o.action)
		}
		for _, p := range o.value.parts {
			if p.from == nil && !httptoken.ValidValue(p.text) {
				t.Fatalf("accepted value text %q for %q", p.text, o.name)
			}
		}
	}
}
