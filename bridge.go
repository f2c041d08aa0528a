package policy

// Importing the bridge makes every plugin built on this library run under
// upstream Go (GOOS=wasip1, -buildmode=c-shared). It is empty in other builds.
import _ "github.com/wasmpolicy/policy/internal/bridge"
