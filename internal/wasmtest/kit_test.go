package wasmtest

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/policytest"
)

func TestPlugin(t *testing.T) {
	p := Plugin(t, "chain", Chain(`{"name":"headermutate","config":{"request":{"add":{"x-a":"1"}}}}`,
		`{"name":"headermutate","id":"second","config":{"request":{"add":{"x-a":"2"}}}}`))
	res := p.Do(policytest.Request{Path: "/"})
	if res.Forwarded == nil || strings.Join(res.Forwarded.Values("x-a"), ",") != "1,2" {
		t.Errorf("forwarded %v, want x-a added twice, as two entries", res.Forwarded)
	}
}
