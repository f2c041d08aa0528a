package ratelimit_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// brokenStore fails every read with err, or, if err is nil, loses every
// compare-and-swap as if other workers always wrote first.
type brokenStore struct{ err error }

func (s brokenStore) Get(string) ([]byte, uint32, error) {
	if s.err != nil {
		return nil, 0, s.err
	}
	return nil, 0, types.ErrorStatusNotFound
}

func (s brokenStore) Set(string, []byte, uint32) error { return types.ErrorStatusCasMismatch }

// These cases replace the proxy's shared data with a broken one, which only
// a plugin compiled into the test can be given: they run natively.
func startWithStore(t *testing.T, store policy.SharedData, config string) (proxytest.HostEmulator, func()) {
	p := policy.Configured(ratelimit.Kind)
	p.SharedData = store
	return wasmtest.Start(t, p, pluginConfig(config, ""))
}

func TestSharedDataFailureFailsOpenByDefault(t *testing.T) {
	host, reset := startWithStore(t, brokenStore{err: errors.New("disk on fire")}, `{"requests_per_unit": 1, "rate_limit_headers": true}`)
	defer reset()
	for i := 0; i < 5; i++ {
		res := send(t, host, nil, at(time.Duration(i)*time.Second))
		if res.status != 200 {
			t.Fatalf("request %d: status %d, want 200 (failing open)", i, res.status)
		}
		if got := wasmtest.HeaderValues(res.headers, "x-ratelimit-remaining"); got != nil {
			t.Fatalf("request %d: x-ratelimit-remaining %q with no bucket state", i, got)
		}
	}
	if got := wasmtest.Counter(t, host, ratelimitCounter("shared_data_errors_total")); got != 5 {
		t.Fatalf("shared_data_errors_total = %d, want 5", got)
	}
	// One line for the burst, not one per request.
	want := "ratelimit ratelimit: shared data failed: disk on fire; letting requests through (failure_mode open); 0 more failures since the last report"
	if warn := host.GetWarnLogs(); len(warn) != 1 || warn[0] != want {
		t.Fatalf("warnings %q, want [%q]", warn, want)
	}
	// A minute after that line, the next failure is logged with the count
	// of those left out.
	send(t, host, nil, at(61*time.Second))
	if warn := host.GetWarnLogs(); len(warn) != 2 || !strings.HasSuffix(warn[1], "; 4 more failures since the last report") {
		t.Fatalf("warnings %q, want a second line reporting 4 more failures", warn)
	}
}

func TestSharedDataFailureFailsClosed(t *testing.T) {
	host, reset := startWithStore(t, brokenStore{err: errors.New("gone")}, `{"requests_per_unit": 5, "failure_mode": "closed"}`)
	defer reset()
	res := send(t, host, nil, at(0))
	if res.status != 429 || !slices.Equal(wasmtest.HeaderValues(res.headers, "retry-after"), []string{"1"}) {
		t.Fatalf("status %d, retry-after %q; want 429 and 1", res.status, wasmtest.HeaderValues(res.headers, "retry-after"))
	}
	if got := wasmtest.Counter(t, host, ratelimitCounter("shared_data_errors_total")); got != 1 {
		t.Fatalf("shared_data_errors_total = %d, want 1", got)
	}
	if !wasmtest.AnyContains(host.GetWarnLogs(), "denying requests (failure_mode closed)") {
		t.Fatalf("warnings %q", host.GetWarnLogs())
	}
	if !wasmtest.AnyContains(wasmtest.Logs(host), "rate limit state unavailable; failing closed (default)") {
		t.Fatalf("the denial's reason was not logged: %q", wasmtest.Logs(host))
	}
}

func TestEndlessContentionIsAFailure(t *testing.T) {
	// Every write loses its race: after a bounded number of attempts the
	// request is decided by the failure mode, not retried forever.
	host, reset := startWithStore(t, brokenStore{}, `{"requests_per_unit": 5}`)
	defer reset()
	if res := send(t, host, nil, at(0)); res.status != 200 {
		t.Fatalf("status %d, want 200 (failing open)", res.status)
	}
	if got := wasmtest.Counter(t, host, ratelimitCounter("cas_conflicts_total")); got != 10 {
		t.Fatalf("cas_conflicts_total = %d, want 10 attempts", got)
	}
	if got := wasmtest.Counter(t, host, ratelimitCounter("shared_data_errors_total")); got != 1 {
		t.Fatalf("shared_data_errors_total = %d, want 1", got)
	}
	if !wasmtest.AnyContains(host.GetWarnLogs(), "compare-and-swap lost 10 times in a row") {
		t.Fatalf("warnings %q", host.GetWarnLogs())
	}
}
