package ratelimit_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/testdata/ratelimitfail/failing"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// These cases replace the proxy's shared data with one that always fails,
// which only a plugin compiled with it can be given: they run natively and
// against the test plugin built from the same code (failing.Plugin). Its
// reads fail with "disk on fire", except in failing.ContendedDomain, where
// every write loses its compare-and-swap race.
const failImage = "ratelimitfail"

func failNative() types.VMContext { return failing.Plugin() }

func TestSharedDataFailure(t *testing.T) {
	wasmtest.Both(t, failImage, failNative, func(t *testing.T, r wasmtest.Runner) {
		t.Run("fails open by default", func(t *testing.T) { failsOpenByDefault(t, r) })
		t.Run("fails closed", func(t *testing.T) { failsClosed(t, r) })
		t.Run("status_on_error", func(t *testing.T) { statusOnError(t, r) })
		t.Run("endless contention is a failure", func(t *testing.T) { endlessContention(t, r) })
		t.Run("a keyed limit without its secret", func(t *testing.T) { keyedWithoutSecret(t, r) })
	})
}

func failsOpenByDefault(t *testing.T, r wasmtest.Runner) {
	host, reset := wasmtest.Start(t, r.VM, pluginConfig(`{"requests_per_unit": 1, "rate_limit_headers": true}`, ""))
	defer reset()
	for i := 0; i < 5; i++ {
		res := send(t, host, r.Wasm, at(time.Duration(i)*time.Second))
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
	want := "policy: filter ratelimit: shared data failed: disk on fire; letting requests through (failure_mode open); 0 more failures since the last report"
	if warn := host.GetWarnLogs(); len(warn) != 1 || warn[0] != want {
		t.Fatalf("warnings %q, want [%q]", warn, want)
	}
	// A minute after that line, the next failure is logged with the count
	// of those left out.
	send(t, host, r.Wasm, at(61*time.Second))
	if warn := host.GetWarnLogs(); len(warn) != 2 || !strings.HasSuffix(warn[1], "; 4 more failures since the last report") {
		t.Fatalf("warnings %q, want a second line reporting 4 more failures", warn)
	}
}

func failsClosed(t *testing.T, r wasmtest.Runner) {
	host, reset := wasmtest.Start(t, r.VM, pluginConfig(`{"requests_per_unit": 5, "failure_mode": "closed"}`, ""))
	defer reset()
	res := send(t, host, r.Wasm, at(0))
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

func statusOnError(t *testing.T, r wasmtest.Runner) {
	// Failing closed, the reply has status_on_error, or else the deny
	// status: a limited request and a failure can be told apart only if
	// they are configured apart.
	for _, c := range []struct {
		config string
		status uint32
	}{
		{`{"requests_per_unit": 5, "failure_mode": "closed", "status_on_error": 503}`, 503},
		{`{"requests_per_unit": 5, "failure_mode": "closed", "status_on_error": 503, "deny": {"status": 403}}`, 503},
		{`{"requests_per_unit": 5, "failure_mode": "closed", "deny": {"status": 403}}`, 403},
		{`{"requests_per_unit": 5, "status_on_error": 503}`, 200}, // failing open
	} {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(c.config, ""))
		res := send(t, host, r.Wasm, at(0))
		reset()
		if res.status != c.status {
			t.Errorf("%s: status %d, want %d", c.config, res.status, c.status)
		}
	}
}

func endlessContention(t *testing.T, r wasmtest.Runner) {
	// Every write loses its race: after a bounded number of attempts the
	// request is decided by the failure mode, not retried forever.
	host, reset := wasmtest.Start(t, r.VM, pluginConfig(`{"requests_per_unit": 5, "domain": "`+failing.ContendedDomain+`"}`, ""))
	defer reset()
	if res := send(t, host, r.Wasm, at(0)); res.status != 200 {
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

func keyedWithoutSecret(t *testing.T, r wasmtest.Runner) {
	// The secret that places keys is in shared data too. When it cannot be
	// read, or every attempt to create it loses its race, a keyed request
	// is decided by the failure mode like any other, and the next one
	// tries again.
	for _, c := range []struct {
		config    string
		status    uint32
		conflicts uint64
		warning   string
	}{
		{`{"requests_per_unit": 5, "key": ["header:x-user"]}`, 200, 0,
			"policy: filter ratelimit: shared data failed: disk on fire; letting requests through (failure_mode open)"},
		{`{"requests_per_unit": 5, "key": ["header:x-user"], "failure_mode": "closed", "status_on_error": 503}`, 503, 0,
			"policy: filter ratelimit: shared data failed: disk on fire; denying requests (failure_mode closed)"},
		{`{"requests_per_unit": 5, "key": ["header:x-user"], "domain": "` + failing.ContendedDomain + `"}`, 200, 2 * 10,
			"policy: filter ratelimit: shared data failed: compare-and-swap lost 10 times in a row; letting requests through"},
	} {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(c.config, ""))
		for i := 0; i < 2; i++ {
			if res := send(t, host, r.Wasm, withHeader(0, "x-user", "alice")); res.status != c.status {
				t.Errorf("%s: request %d: status %d, want %d", c.config, i, res.status, c.status)
			}
		}
		if got := wasmtest.Counter(t, host, ratelimitCounter("shared_data_errors_total")); got != 2 {
			t.Errorf("%s: shared_data_errors_total = %d, want 2", c.config, got)
		}
		if got := wasmtest.Counter(t, host, ratelimitCounter("cas_conflicts_total")); got != c.conflicts {
			t.Errorf("%s: cas_conflicts_total = %d, want %d", c.config, got, c.conflicts)
		}
		if warn := host.GetWarnLogs(); len(warn) != 1 || !strings.HasPrefix(warn[0], c.warning) {
			t.Errorf("%s: warnings %q, want one starting %q", c.config, warn, c.warning)
		}
		reset()
	}
}
