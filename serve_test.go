package policy_test

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// A main package that calls Serve from main, which a c-shared module never
// runs, gets a refusal that says what to do, not a panic of the SDK on a
// nil VM context.
func TestServeFromMain(t *testing.T) {
	wasm := policytest.Load(t, wasmtest.ImagePath("servemain"))
	got := policytest.Refused(t, wasm, "")
	for _, want := range []string{"did not call policy.Serve", "call it from an init function", "not from main"} {
		if !strings.Contains(got, want) {
			t.Errorf("refusal %q does not say %q", got, want)
		}
	}
}
