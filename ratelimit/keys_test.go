package ratelimit_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/ratelimit"
)

// recordingStore is the proxy's shared data, noting every key written.
type recordingStore struct {
	policy.ProxySharedData
	written map[string]bool
}

func (s *recordingStore) Set(key string, value []byte, cas uint32) error {
	s.written[key] = true
	return s.ProxySharedData.Set(key, value, cas)
}

func TestCyclingKeysCannotGrowMemory(t *testing.T) {
	// An attacker sends a new x-user value with every request. Two clients
	// hold the two slots; the attacker's keys spill to the two overflow
	// buckets, the clients keep their buckets, and neither shared data nor
	// the VM's memory grows. Once the clients go idle, their slots serve
	// new keys.
	const config = `{"requests_per_unit": 1, "key": ["header:x-user"], "max_keys": 2}`
	store := &recordingStore{written: map[string]bool{}}
	nativeWithStore := func() types.VMContext {
		p := policy.Configured(ratelimit.Kind)
		p.SharedData = store
		return p
	}
	wasmtest.Both(t, image, nativeWithStore, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, ""))
		defer reset()
		user := func(at time.Duration, name string) uint32 {
			return send(t, host, r.Wasm, withHeader(at, "x-user", name)).status
		}
		if user(0, "alice") != 200 || user(0, "bob") != 200 {
			t.Fatal("the first two clients were denied")
		}
		attack := func(at time.Duration, from, n int) (allowed int) {
			for i := from; i < from+n; i++ {
				if user(at, "attacker-"+strconv.Itoa(i)+strings.Repeat("x", 1000)) == 200 {
					allowed++
				}
			}
			return allowed
		}
		// The first 5000 requests take the VM's heap to its steady size
		// (about 9 MB here, whatever the keys); the next 5000 must not
		// add to it.
		allowed := attack(0, 0, 5000)
		var before uint32
		if r.Wasm != nil {
			before = r.Wasm.MemoryBytes()
		}
		allowed += attack(0, 5000, 5000)
		if allowed != 2 {
			t.Fatalf("%d attacker requests allowed, want the 2 overflow buckets' 1 each", allowed)
		}
		if r.Wasm != nil {
			// 5000 keys of 1 KB would take 5 MB if they were kept.
			if after := r.Wasm.MemoryBytes(); after > before+1<<20 {
				t.Fatalf("the VM's memory grew from %d to %d bytes", before, after)
			}
		} else if len(store.written) != 5 {
			t.Fatalf("records written: %v, want the 2 slots, the 2 overflow buckets and the secret", store.written)
		}
		if user(0, "alice") != 429 {
			t.Fatal("alice's drained bucket was lost to the attack")
		}
		if got := wasmtest.Counter(t, host, ratelimitCounter("overflow_total")); got != 10000 {
			t.Fatalf("overflow_total = %d, want 10000", got)
		}
		// A second later alice's and bob's buckets are full again: idle.
		// Their slots go to the next new keys.
		for _, name := range []string{"carol", "dave"} {
			if user(time.Second, name) != 200 || user(time.Second, name) != 429 {
				t.Fatalf("%s did not get a bucket of its own", name)
			}
		}
		// The next new keys spill to the refilled overflow buckets.
		if got := attack(time.Second, 10000, 200); got != 2 {
			t.Fatalf("%d requests of new keys allowed at t0+1s, want the 2 overflow buckets' 1 each", got)
		}
		if r.Wasm == nil && len(store.written) != 5 {
			t.Fatalf("records written: %v, want still 5", store.written)
		}
	})
}
