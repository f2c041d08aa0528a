package bridge_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"

	"github.com/wasmpolicy/policy/internal/testdata/probe/probe"
	"github.com/wasmpolicy/policy/internal/tinygo"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// Every host call that returns data makes the host call
// proxy_on_memory_allocate and copy the data into the buffer it returns.
// The bridge must keep that buffer alive until the guest has read its
// address back, and let it go after: then linear memory stays flat however
// many calls a plugin makes.
//
// A bridge that never released those buffers (say, one that appended every
// allocation to a list it never cleared) would keep all the payloads this
// test fetches reachable: 100,000 calls returning 1 KiB each would pin
// about 98 MiB, and Go would grow linear memory by at least that much,
// twenty times the bound below. The "leak_is_visible" subtest shows the
// measurement catches such retention: the probe's op "retain" keeps the
// very buffers the host returned, as such an allocator would, and memory
// grows by more than the bound after only 20,000 calls.

const (
	payloadSize = 1024
	// memoryBound is how much linear memory may grow while 100,000 calls
	// run after the warm-up: one 4 MiB heap arena of the Go runtime.
	memoryBound = 4 << 20
)

func TestProbeMemory(t *testing.T) {
	vm := wasmtest.NewVM(t, wasmtest.Image(t, "probe"))
	r := wasmtest.Runner{Name: "wasm", VM: vm, Wasm: vm}
	payload := strings.Repeat("p", payloadSize)
	withPayload := func(o *proxytest.EmulatorOption) { o.WithProperty(probe.PayloadProperty, []byte(payload)) }

	// repeat runs one request making n host calls that each return the
	// payload, deletes its context as Envoy does, and returns the size of
	// linear memory.
	repeat := func(e *probeEnv, op string, n int) uint32 {
		t.Helper()
		id, _ := e.request(op, [2]string{"x-repeat", strconv.Itoa(n)}, [2]string{"x-payload", payload})
		e.expectf("repeat", "calls=%d bad=0 set=ok", n)
		e.host.CompleteHttpContext(id)
		vm.Delete(id)
		return vm.MemoryBytes()
	}

	t.Run("proxy_on_memory_allocate", func(t *testing.T) {
		start(t, r, pluginConfig)
		size := vm.MemoryBytes()
		a := call(t, vm, "proxy_on_memory_allocate", 64)
		b := call(t, vm, "proxy_on_memory_allocate", 64)
		if a == 0 || b == 0 || a == b || a+64 > uint64(size) || b+64 > uint64(size) {
			t.Errorf("allocations at %#x and %#x (64 bytes each) in %d bytes of memory", a, b, size)
		}
	})

	t.Run("zero_bytes", func(t *testing.T) {
		tinygo.SkipIfCannot(t)
		start(t, r, pluginConfig)
		size := vm.MemoryBytes()
		if a := call(t, vm, "proxy_on_memory_allocate", 0); a == 0 || a >= uint64(size) {
			t.Errorf("an allocation of 0 bytes at %#x in %d bytes of memory", a, size)
		}
	})

	t.Run("100000_host_calls", func(t *testing.T) {
		e := start(t, r, pluginConfig, withPayload)
		repeat(e, "repeat", 30_000)
		warm := repeat(e, "repeat", 30_000)
		after := repeat(e, "repeat", 100_000)
		t.Logf("linear memory: %d bytes after warm-up, %d after 100,000 more host calls", warm, after)
		if after > warm+memoryBound {
			t.Errorf("linear memory grew by %d bytes over 100,000 host calls, more than %d", after-warm, memoryBound)
		}
	})

	t.Run("leak_is_visible", func(t *testing.T) {
		e := start(t, r, pluginConfig, withPayload)
		before := vm.MemoryBytes()
		after := repeat(e, "retain", 20_000)
		t.Logf("linear memory: %d bytes before, %d after retaining 20,000 host buffers", before, after)
		if after <= before+memoryBound {
			t.Errorf("retaining 20,000 buffers of %d bytes grew memory by only %d bytes: the measurement would miss a leak",
				payloadSize, after-before)
		}
	})
}
