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
//	go test ./headermutate -run '^$' -fuzz FuzzConfig

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
				if text, _ := o.value.Literal(); len(text) > MaxValueLength {
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
		if text, _ := o.value.Literal(); !httptoken.ValidValue(text) {
			t.Fatalf("accepted value text %q for %q", text, o.name)
		}
	}
}
