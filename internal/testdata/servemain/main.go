// Command servemain is a test plugin with the commonest mistake of a
// plugin's main package: it calls policy.Serve from main, which a module
// built with -buildmode=c-shared never runs. It must refuse to start with a
// line that says what to do.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testfilters"
)

func main() { policy.Serve(testfilters.Static()) }
