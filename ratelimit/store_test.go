package ratelimit

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

func testTable(slots int) *table {
	return newTable(rate{fill: 1, interval: int64(time.Second), burst: 2}, "ratelimit/test/0/", slots, newSecret("test"))
}

// placed is where tbl places key in data: its home slot and its overflow
// bucket.
func placed(t *testing.T, data *memStore, tbl *table, key string) (home, spill int) {
	t.Helper()
	h, s, _, err := tbl.sec.place(data, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return int(h % uint64(tbl.slots)), int(s % uint64(tbl.slots))
}

// draws takes n tokens for key from t in data at now and returns how many
// were granted.
func draws(t *testing.T, data *memStore, tbl *table, key string, now int64, n int) int {
	t.Helper()
	granted := 0
	for i := 0; i < n; i++ {
		o := take(data, tbl, "", []byte(key), now)
		if o.err != nil {
			t.Fatalf("take %q: %v", key, o.err)
		}
		if o.allowed {
			granted++
		}
	}
	return granted
}

func TestSlotsAreBoundedAndReclaimed(t *testing.T) {
	data := newMemStore()
	tbl := testTable(3)
	// Three active keys fill the three slots.
	for _, k := range []string{"a", "b", "c"} {
		if got := draws(t, data, tbl, k, t0, 1); got != 1 {
			t.Fatalf("key %s: granted %d", k, got)
		}
	}
	// Every other key draws from one of the 3 overflow buckets (burst 2),
	// however many values an attacker cycles through.
	granted := 0
	for i := 0; i < 1000; i++ {
		granted += draws(t, data, tbl, "attacker-"+strings.Repeat("x", i%50)+string(rune('A'+i%26)), t0, 1)
	}
	if granted != 6 {
		t.Fatalf("overflow keys were granted %d requests, want the 3 overflow buckets' 2 each", granted)
	}
	if n := len(data.entries); n != 7 {
		t.Fatalf("%d records after 1003 keys, want 3 slots, 3 overflow buckets and the secret: %v", n, keys(data))
	}
	// The active keys kept their buckets (1 token left each).
	if got := draws(t, data, tbl, "a", t0, 2); got != 1 {
		t.Fatalf("key a: granted %d of its last token, want 1", got)
	}
	// Once full again (idle), a slot is free for a new key.
	later := t0 + int64(2*time.Second)
	if got := draws(t, data, tbl, "newcomer", later, 2); got != 2 {
		t.Fatalf("newcomer after idle: granted %d, want its own burst of 2", got)
	}
	if n := len(data.entries); n != 7 {
		t.Fatalf("%d records, want 7", n)
	}
}

func TestSpilledKeysShareOnlyTheirOverflowBucket(t *testing.T) {
	// With every slot held, a key that empties its overflow bucket does
	// not deny a key that spills to another one.
	data := newMemStore()
	tbl := testTable(4)
	for _, k := range []string{"a", "b", "c", "d"} {
		draws(t, data, tbl, k, t0, 1)
	}
	_, spill := placed(t, data, tbl, "attacker")
	victim := ""
	for i := 0; victim == ""; i++ {
		k := "victim-" + strconv.Itoa(i)
		if _, s := placed(t, data, tbl, k); s != spill {
			victim = k
		}
	}
	if got := draws(t, data, tbl, "attacker", t0, 5); got != 2 {
		t.Fatalf("the attacker's key was granted %d, want its overflow bucket's 2", got)
	}
	if got := draws(t, data, tbl, victim, t0, 3); got != 2 {
		t.Fatalf("a key spilling to another overflow bucket was granted %d, want that bucket's 2", got)
	}
	if n := len(data.entries); n != 4+2+1 {
		t.Fatalf("records %v, want the 4 slots, 2 overflow buckets and the secret", keys(data))
	}
}

func TestSlotKeepsOwnerFoundPastAFreeSlot(t *testing.T) {
	// A key placed beyond a busy slot stays there when the busy one frees
	// up: it must not get a second, fresh bucket.
	data := newMemStore()
	tbl := testTable(2)
	home := func(k string) int { h, _ := placed(t, data, tbl, k); return h }
	first, second := "k0", "k1"
	for i := 2; home(first) != home(second); i++ {
		second = "k" + strconv.Itoa(i)
	}
	draws(t, data, tbl, first, t0, 2) // first's bucket is empty, in its home slot
	half := t0 + int64(500*time.Millisecond)
	draws(t, data, tbl, second, half, 2) // second probes on to the other slot
	// At t0+2s first's bucket is full again (idle, its slot free), while
	// second's has refilled one token since t0+0.5s. Second must find its
	// own bucket, not start a fresh one in the free slot.
	later := t0 + int64(2*time.Second)
	if got := draws(t, data, tbl, second, later, 2); got != 1 {
		t.Fatalf("second key granted %d at t0+2s, want the 1 token refilled in its own bucket", got)
	}
}

func TestLongKeysAreStoredAsDigests(t *testing.T) {
	data := newMemStore()
	tbl := testTable(4)
	long := strings.Repeat("k", 5000)
	if got := draws(t, data, tbl, long, t0, 3); got != 2 {
		t.Fatalf("granted %d, want 2", got)
	}
	for name, e := range data.entries {
		if name != tbl.sec.name && len(e.value) != recordHeader+ownerDigestSize {
			t.Fatalf("record %s is %d bytes, want %d", name, len(e.value), recordHeader+ownerDigestSize)
		}
	}
	// A key that differs only at the end is another bucket.
	if got := draws(t, data, tbl, long[:4999]+"j", t0, 1); got != 1 {
		t.Fatal("a different long key shared the bucket")
	}
}

func TestUnreadableRecordsAreReplaced(t *testing.T) {
	// A record in another format (another version of the filter sharing
	// the VM id) is replaced by a fresh bucket rather than failing every
	// request.
	data := newMemStore()
	tbl := testTable(0)
	data.Set(tbl.single, []byte("garbage"), 0)
	for i, want := range []bool{true, true, false} {
		o := take(data, tbl, tbl.single, nil, t0)
		if o.err != nil || o.allowed != want {
			t.Fatalf("request %d: allowed %v, err %v; want %v", i, o.allowed, o.err, want)
		}
	}
}

func TestEarlierFormatRecordsAreFree(t *testing.T) {
	// Version 1 records (written by earlier versions of the filter, with
	// SHA-256 owners of keys placed under another secret) in every slot a
	// key probes, empty and owned by that very key: none is read as its
	// bucket, so it gets a full one.
	data := newMemStore()
	tbl := testTable(4)
	for i := 0; i < 4; i++ {
		v1 := encode(state{tokens: 0, last: t0}, []byte("alice"))
		v1[0] = 1
		data.Set(tbl.slotName(i), v1, 0)
	}
	if got := draws(t, data, tbl, "alice", t0, 3); got != 2 {
		t.Fatalf("granted %d, want the 2 of a full bucket", got)
	}
	home, _ := placed(t, data, tbl, "alice")
	if v, _, _ := data.Get(tbl.slotName(home)); v[0] != recordVersion || string(v[recordHeader:]) != "alice" {
		t.Fatalf("alice's home slot holds %q, want her bucket in version %d", v, recordVersion)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	s := state{tokens: 123456789, last: -42}
	got, own, ok := decode(encode(s, []byte("owner")))
	if !ok || got != s || string(own) != "owner" {
		t.Fatalf("decode(encode) = %+v %q %v", got, own, ok)
	}
	for _, bad := range [][]byte{nil, make([]byte, recordHeader-1), append([]byte{9}, make([]byte, 16)...)} {
		if _, _, ok := decode(bad); ok {
			t.Errorf("decoded %v", bad)
		}
	}
}

// failingStore fails Get with err, or, if err is nil, loses every CAS race.
type failingStore struct {
	*memStore
	err error
}

func (f failingStore) Get(key string) ([]byte, uint32, error) {
	if f.err != nil {
		return nil, 0, f.err
	}
	return f.memStore.Get(key)
}

func (f failingStore) Set(key string, value []byte, cas uint32) error {
	return types.ErrorStatusCasMismatch
}

func TestTakeGivesUpAfterBoundedAttempts(t *testing.T) {
	tbl := testTable(0)
	o := take(failingStore{memStore: newMemStore()}, tbl, tbl.single, nil, t0)
	if !errors.Is(o.err, errContended) || o.allowed || o.retries != casAttempts {
		t.Fatalf("outcome %+v, want contention after %d attempts", o, casAttempts)
	}
	broken := errors.New("broken")
	o = take(failingStore{memStore: newMemStore(), err: broken}, tbl, tbl.single, nil, t0)
	if !errors.Is(o.err, broken) {
		t.Fatalf("err = %v, want the store's", o.err)
	}
}

func keys(m *memStore) []string {
	var out []string
	for k := range m.entries {
		out = append(out, k)
	}
	return out
}

// BenchmarkTake measures the decision alone: the bucket arithmetic and the
// record's read, decode, encode and compare-and-swap, against an in-memory
// store.
func BenchmarkTake(b *testing.B) {
	r := rate{fill: maxCount, interval: int64(time.Second), burst: maxCount}
	for _, c := range []struct {
		name  string
		slots int
		key   []byte
	}{{"one bucket", 0, nil}, {"keyed", DefaultMaxKeys, []byte("alice")}} {
		b.Run(c.name, func(b *testing.B) {
			data, tbl := newMemStore(), newTable(r, "ratelimit/bench/0/", c.slots, newSecret("bench"))
			name := tbl.single
			if c.key != nil {
				name = ""
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if o := take(data, tbl, name, c.key, t0); !o.allowed {
					b.Fatal("denied")
				}
			}
		})
	}
}

func TestCreatingABucketRacesSafely(t *testing.T) {
	// Two workers find no record and both create it: the second creation
	// must lose its race and retry on the first one's record, not
	// overwrite the first one's draw.
	tbl := testTable(0)
	store := &racyStore{memStore: newMemStore()}
	store.interfere = func() {
		store.interfere = nil
		if !take(store, tbl, tbl.single, nil, t0).allowed {
			t.Fatal("the other worker was denied")
		}
	}
	if o := take(store, tbl, tbl.single, nil, t0); !o.allowed || o.retries != 1 {
		t.Fatalf("outcome %+v, want allowed after losing one race", o)
	}
	if take(store, tbl, tbl.single, nil, t0).allowed {
		t.Fatal("a third request was allowed from a bucket of 2")
	}
}
