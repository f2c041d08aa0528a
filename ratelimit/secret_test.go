package ratelimit

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dchest/siphash"
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/policytest"
)

// These tests run one proxy with several worker VMs over one shared data:
// natively, as limiters built the way worker VMs build them (see workers),
// and compiled, as VMs of build/ratelimit.wasm in the test kit's host
// (policytest), whose shared data is the proxy's and whose random_get is
// crypto/rand. (The SDK's emulator runs one VM at a time, so it cannot run
// a fleet.)

// fleet is one proxy running the filter with one configuration in
// several worker VMs.
type fleet interface {
	// allowed sends a request with "x-client: client" through worker w at
	// t0+at and reports whether it was let through (else it got 429).
	allowed(t *testing.T, w int, client string, at time.Duration) bool
	// shared reads a record of the proxy's shared data.
	shared(name string) (value []byte, cas uint32, ok bool)
	// logs is every line the workers logged, at every level.
	logs() []string
}

// secretName is the secret's record for a filter with the default domain,
// its ID "ratelimit".
const secretName = "ratelimit/ratelimit/siphash-key"

// fleets runs test natively and compiled; newFleet starts a proxy (a new
// shared data) of n workers running config, after writing records to its
// shared data.
func fleets(t *testing.T, n int, config string, test func(t *testing.T, newFleet func(records map[string][]byte) fleet)) {
	t.Run("go", func(t *testing.T) {
		test(t, func(records map[string][]byte) fleet { return newNativeFleet(t, n, config, records) })
	})
	t.Run("wasm", func(t *testing.T) {
		test(t, func(records map[string][]byte) fleet { return newWasmFleet(t, n, config, records) })
	})
}

type nativeFleet struct {
	store *countingStore
	ws    []*Limiter
	lines []string
}

// countingStore is a memStore counting the writes to each record.
type countingStore struct {
	*memStore
	sets map[string]int
}

func (s *countingStore) Set(key string, value []byte, cas uint32) error {
	s.sets[key]++
	return s.memStore.Set(key, value, cas)
}

func newNativeFleet(t *testing.T, n int, config string, records map[string][]byte) *nativeFleet {
	t.Helper()
	cfg, err := ParseConfig(gjson.Parse(config))
	if err != nil {
		t.Fatal(err)
	}
	f := &nativeFleet{store: &countingStore{memStore: newMemStore(), sets: map[string]int{}}}
	for k, v := range records {
		f.store.memStore.Set(k, v, 0)
	}
	f.ws = workers(t, n, cfg, f.store)
	for _, w := range f.ws {
		w.errLog.log = func(msg string) { f.lines = append(f.lines, msg) }
	}
	return f
}

func (f *nativeFleet) allowed(_ *testing.T, w int, client string, at time.Duration) bool {
	return request(f.ws[w], []byte(client), t0+int64(at))
}

func (f *nativeFleet) shared(name string) ([]byte, uint32, bool) {
	v, cas, err := f.store.Get(name)
	return v, cas, err == nil
}

func (f *nativeFleet) logs() []string { return f.lines }

type wasmFleet struct{ p *policytest.Plugin }

func newWasmFleet(t *testing.T, n int, config string, records map[string][]byte) *wasmFleet {
	t.Helper()
	opts := []policytest.Option{policytest.Workers(n), policytest.StartTime(time.Unix(0, t0))}
	for k, v := range records {
		opts = append(opts, policytest.SharedData(k, v))
	}
	return &wasmFleet{wasmtest.Plugin(t, "ratelimit", wasmtest.FilterConfig("ratelimit", "", config), opts...)}
}

func (f *wasmFleet) allowed(t *testing.T, w int, client string, at time.Duration) bool {
	t.Helper()
	f.p.SetTime(time.Unix(0, t0).Add(at))
	res := f.p.VM(w).Do(policytest.Request{Headers: [][2]string{{"x-client", client}}, Source: "10.1.2.3:51234"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Status != 200 && res.Status != 429 {
		t.Fatalf("status %d (%s)", res.Status, res.Details)
	}
	return res.Status == 200
}

func (f *wasmFleet) shared(name string) ([]byte, uint32, bool) { return f.p.SharedDataCAS(name) }

func (f *wasmFleet) logs() []string {
	var lines []string
	for _, l := range f.p.Logs() {
		lines = append(lines, l.Message)
	}
	return lines
}

// fnvHome is where the unkeyed placement (64-bit FNV-1a of the key, modulo
// the slots) put a key: anybody could compute it.
func fnvHome(key string, slots int) int {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return int(h % uint64(slots))
}

// collisions returns n values of the form prefix-<i> whose unkeyed home is
// victim's: under that placement they probe exactly victim's slots.
func collisions(victim, prefix string, slots, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		if k := prefix + "-" + strconv.Itoa(i); fnvHome(k, slots) == fnvHome(victim, slots) {
			out = append(out, k)
		}
	}
	return out
}

func TestCollidingKeysCannotLockAClientOut(t *testing.T) {
	// The attack on the unkeyed placement: knowing the victim's key, the
	// attacker computes 8 values that probe the victim's 8 slots and sends
	// one request with each, through the proxy's 4 workers, so that they
	// hold every slot the victim could take. It then drains the overflow
	// bucket the victim would have shared: 5 more colliding values, each
	// sent until it is denied, which empties whatever bucket each one
	// draws from. Under the unkeyed placement the victim's first request
	// got 429. Placed by the keyed hash, the colliding values land
	// anywhere: the victim gets a bucket of its own, and its whole limit.
	const slots = 64
	const config = `{"requests_per_unit": 5, "unit": "minute", "key": ["header:x-client"], "max_keys": 64}`
	const victim = "tenant-4711"
	attackers := collisions(victim, "attacker", slots, 13)
	fleets(t, 4, config, func(t *testing.T, newFleet func(map[string][]byte) fleet) {
		f := newFleet(nil)
		sent := 0
		send := func(client string) bool {
			sent++
			return f.allowed(t, sent%4, client, time.Duration(sent)*time.Millisecond)
		}
		for _, a := range attackers[:8] {
			if !send(a) {
				t.Fatalf("%s's first request was denied", a)
			}
		}
		for _, a := range attackers[8:] {
			for i := 0; send(a); i++ {
				if i == 5 {
					t.Fatalf("%s was allowed more than its 5 requests", a)
				}
			}
		}
		for i := 0; i < 5; i++ {
			if !send(victim) {
				t.Fatalf("the victim's request %d was denied after %d requests of colliding values", i+1, sent-1-i)
			}
		}
		if send(victim) {
			t.Fatal("the victim's sixth request in a minute was allowed")
		}
	})
}

func TestWorkersAgreeOnEverySlot(t *testing.T) {
	// Every worker places every key in the same slot: a key that used up
	// its limit through one worker is denied by every other, and a key
	// another worker never saw is placed where the first one put it.
	const config = `{"requests_per_unit": 5, "unit": "minute", "key": ["header:x-client"], "max_keys": 1000}`
	const n = 4
	fleets(t, n, config, func(t *testing.T, newFleet func(map[string][]byte) fleet) {
		f := newFleet(nil)
		for k := 0; k < 40; k++ {
			client := "client-" + strconv.Itoa(k)
			w := k % n
			for i := 0; i < 5; i++ {
				if !f.allowed(t, w, client, 0) {
					t.Fatalf("%s: request %d through worker %d denied", client, i+1, w)
				}
			}
			for other := 0; other < n; other++ {
				if f.allowed(t, other, client, time.Second) {
					t.Fatalf("%s used up its limit through worker %d, yet worker %d let it through", client, w, other)
				}
			}
		}
	})
}

// placedAt is the slot SipHash-2-4 under the placement key of secret (its
// first 16 bytes) gives key among slots, as the package documents it.
func placedAt(secret []byte, key string, slots int) int {
	h := siphash.Hash(binary.LittleEndian.Uint64(secret[0:8]), binary.LittleEndian.Uint64(secret[8:16]), []byte(key))
	return int(h & 0xffffffff % uint64(slots))
}

func TestTheSecretIsDrawnOncePerProxy(t *testing.T) {
	// The first worker to need the secret draws it; the others read it and
	// never write their own. Another proxy draws another one.
	const config = `{"requests_per_unit": 5, "unit": "minute", "key": ["header:x-client"], "max_keys": 1000}`
	const n = 4
	fleets(t, n, config, func(t *testing.T, newFleet func(map[string][]byte) fleet) {
		f := newFleet(nil)
		if _, _, ok := f.shared(secretName); ok {
			t.Fatal("a secret exists before any keyed request")
		}
		f.allowed(t, 0, "alice", 0)
		secret, cas, ok := f.shared(secretName)
		if !ok || len(secret) != 1+secretSize || secret[0] != secretVersion {
			t.Fatalf("secret record %x (found %v), want version %d and %d bytes", secret, ok, secretVersion, secretSize)
		}
		if bytes.Count(secret[1:], secret[1:2]) == secretSize {
			t.Fatalf("secret %x is one byte repeated", secret)
		}
		for w := 1; w < n; w++ {
			f.allowed(t, w, "client-"+strconv.Itoa(w), 0)
			if again, cas2, _ := f.shared(secretName); !bytes.Equal(again, secret) || cas2 != cas {
				t.Fatalf("worker %d rewrote the secret (CAS %d, then %d)", w, cas, cas2)
			}
		}
		if nf, ok := f.(*nativeFleet); ok && nf.store.sets[secretName] != 1 {
			t.Fatalf("the secret was written %d times", nf.store.sets[secretName])
		}
		// Bob, whom no worker has seen, is placed by the stored secret.
		f.allowed(t, n-1, "bob", 0)
		if v, _, ok := f.shared("ratelimit/ratelimit/default/" + strconv.Itoa(placedAt(secret[1:], "bob", 1000))); !ok || !bytes.HasSuffix(v, []byte("bob")) {
			t.Fatalf("bob's slot holds %q, want bob's bucket", v)
		}
		other := newFleet(nil)
		other.allowed(t, 0, "alice", 0)
		if s2, _, _ := other.shared(secretName); bytes.Equal(s2, secret) {
			t.Fatalf("two proxies drew the same secret %x", secret)
		}
	})
}

func TestWorkersUseTheStoredSecret(t *testing.T) {
	// A secret already in shared data (the proxy's, after a plugin reload)
	// is the one every worker uses: keys keep their slots.
	const config = `{"requests_per_unit": 5, "unit": "minute", "key": ["header:x-client"], "max_keys": 1000}`
	secret := bytes.Repeat([]byte{0x5e}, secretSize)
	fleets(t, 2, config, func(t *testing.T, newFleet func(map[string][]byte) fleet) {
		f := newFleet(map[string][]byte{secretName: append([]byte{secretVersion}, secret...)})
		for w, client := range []string{"alice", "bob"} {
			f.allowed(t, w, client, 0)
			if v, _, ok := f.shared("ratelimit/ratelimit/default/" + strconv.Itoa(placedAt(secret, client, 1000))); !ok || !bytes.HasSuffix(v, []byte(client)) {
				t.Fatalf("%s's slot holds %q, want its bucket", client, v)
			}
		}
		if v, _, _ := f.shared(secretName); !bytes.Equal(v[1:], secret) {
			t.Fatalf("the stored secret was replaced by %x", v)
		}
	})
}

func TestTheSecretIsNeverLogged(t *testing.T) {
	// Allowed, denied and spilled requests, logged at every level: no line
	// holds the secret in any usual encoding.
	const config = `{"requests_per_unit": 1, "unit": "minute", "key": ["header:x-client"], "max_keys": 2, "rate_limit_headers": true}`
	fleets(t, 2, config, func(t *testing.T, newFleet func(map[string][]byte) fleet) {
		f := newFleet(nil)
		for i := 0; i < 20; i++ {
			f.allowed(t, i%2, "client-"+strconv.Itoa(i%5), time.Duration(i)*time.Second)
		}
		secret, _, ok := f.shared(secretName)
		if !ok {
			t.Fatal("no secret")
		}
		if nf, ok := f.(*nativeFleet); ok {
			// Natively the filter's own log is all there is: make the
			// store fail so that it has something to say.
			for _, w := range nf.ws {
				w.data = failingStore{memStore: newMemStore(), err: errors.New("disk on fire")}
			}
			f.allowed(t, 0, "client-0", time.Hour)
		}
		lines := f.logs()
		if len(lines) == 0 {
			t.Fatal("nothing was logged: the test looks at nothing")
		}
		key := secret[1:]
		for _, enc := range []string{string(key), string(key[:8]), hex.EncodeToString(key), hex.EncodeToString(key[:8]),
			strings.ToUpper(hex.EncodeToString(key[:8])), base64.StdEncoding.EncodeToString(key),
			base64.RawURLEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(key[:8]),
			strings.Trim(fmt.Sprint(key[:8]), "[]"), fmt.Sprintf("%q", key[:8])} {
			if wasmtest.AnyContains(lines, enc) {
				t.Fatalf("the secret (as %q) is in the log: %q", enc, lines)
			}
		}
		t.Logf("%d lines checked, e.g. %q", len(lines), lines[len(lines)-1])
	})
}

func TestWorkersRacingToCreateTheSecretAgree(t *testing.T) {
	// Two workers find no secret at once: each draws one, the second to
	// write loses its race and reads the first one's instead of
	// overwriting it, so both place keys alike.
	cfg := Config{Limit: Limit{RequestsPerUnit: 5, Unit: Minute, Key: []string{"header:x-client"}, MaxKeys: 1000}}
	store := &racyStore{memStore: newMemStore()}
	ws := workers(t, 2, cfg, store)
	store.interfere = func() {
		store.interfere = nil
		for i := 0; i < 5; i++ { // worker 1 creates the secret, then drains alice
			if !request(ws[1], []byte("alice"), t0) {
				t.Fatal("worker 1 denied alice")
			}
		}
	}
	if request(ws[0], []byte("alice"), t0) { // worker 0's write of its secret loses
		t.Fatal("worker 0 let alice through after worker 1 used up her limit")
	}
	if store.lost != 1 {
		t.Fatalf("%d writes lost their race, want worker 0's secret", store.lost)
	}
	for i, w := range ws {
		if w.errLog.Logged() {
			t.Fatalf("worker %d logged a failure", i)
		}
	}
	for i := 0; i < 5; i++ {
		request(ws[0], []byte("bob"), t0)
	}
	if request(ws[1], []byte("bob"), t0) {
		t.Fatal("worker 1 let bob through after worker 0 used up his limit")
	}
}

func TestPlacementIsSipHash24(t *testing.T) {
	// The SipHash paper's example (key 00..0f, message 00..0e) and the
	// reference implementation's 128-bit vector for the empty message, in
	// the byte order owner digests are stored in.
	key := make([]byte, 16)
	for i := range key {
		key[i] = byte(i)
	}
	k0, k1 := binary.LittleEndian.Uint64(key[0:8]), binary.LittleEndian.Uint64(key[8:16])
	if h := siphash.Hash(k0, k1, key[:15]); h != 0xa129ca6149be45e5 {
		t.Errorf("SipHash-2-4 of the paper's example is %#x", h)
	}
	s := &secret{own0: k0, own1: k1}
	lo, hi := siphash.Hash128(s.own0, s.own1, nil)
	got := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, lo), hi)
	if want := "a3817f04ba25a8e66df67214c7550293"; hex.EncodeToString(got) != want {
		t.Errorf("128-bit SipHash-2-4 of the empty message is %x, want %s", got, want)
	}
	var digest [ownerDigestSize]byte
	long := []byte("a key of more than sixteen bytes")
	lo, hi = siphash.Hash128(k0, k1, long)
	if own := s.owner(long, &digest); binary.LittleEndian.Uint64(own[0:8]) != lo || binary.LittleEndian.Uint64(own[8:16]) != hi {
		t.Errorf("owner digest %x is not the key's 128-bit SipHash", own)
	}
	if own := s.owner([]byte("short"), &digest); string(own) != "short" {
		t.Errorf("owner of a short key is %q", own)
	}
}
