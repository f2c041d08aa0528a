// Package failing is a rate-limit plugin whose shared data always fails, so
// that the filter's failure modes can be tested in the compiled image as
// well as natively: the proxy's real shared data cannot be made to fail from
// outside the plugin, so the failing store has to be compiled in.
package failing

import (
	"errors"
	"strings"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/ratelimit"
)

// ErrStore is the error every failing read returns.
var ErrStore = errors.New("disk on fire")

// ContendedDomain is the ratelimit "domain" whose buckets are contended
// rather than unreadable: the filter names its records
// "ratelimit/<domain>/...", so a filter configured with this domain finds
// no record and loses every compare-and-swap, as if other workers always
// wrote first. Every other record fails to read with ErrStore.
const ContendedDomain = "contended"

const contendedPrefix = "ratelimit/" + ContendedDomain + "/"

// Store is a policy.SharedData that never works; see ContendedDomain.
type Store struct{}

// Get implements policy.SharedData.
func (Store) Get(key string) ([]byte, uint32, error) {
	if strings.HasPrefix(key, contendedPrefix) {
		return nil, 0, types.ErrorStatusNotFound
	}
	return nil, 0, ErrStore
}

// Set implements policy.SharedData: every write loses its race.
func (Store) Set(string, []byte, uint32) error { return types.ErrorStatusCasMismatch }

// Plugin is the ratelimit kind, configured from JSON, over Store.
func Plugin() *policy.Plugin {
	p := policy.Configured(ratelimit.Kind)
	p.SharedData = Store{}
	return p
}

var _ policy.SharedData = Store{}
