package ratelimit

import (
	"math/rand"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// workers builds n limiters from cfg the way n worker VMs would: each in
// its own plugin, with its own Env, all sharing data as their proxy-wide
// store. The plugins are started one after the other in the emulator; the
// limiters keep working afterwards, as they need no host call unless the
// store fails.
func workers(t *testing.T, n int, cfg Config, data policy.SharedData) []*Limiter {
	t.Helper()
	out := make([]*Limiter, n)
	for i := range out {
		p := policy.Static(policy.Spec{Kind: "ratelimit", Build: func(env *policy.Env) (policy.Filter, error) {
			l, err := New(cfg, env)
			out[i] = l
			return l, err
		}})
		p.SharedData = data
		if started, _ := wasmtest.TryStart(p, ""); !started || out[i] == nil {
			t.Fatalf("worker %d did not start", i)
		}
	}
	return out
}

// racyStore is the proxy's shared data with a hook that runs just before a
// write lands, where another worker's whole request can slip in: the write
// then loses its compare-and-swap and the writer must retry.
type racyStore struct {
	*memStore
	interfere func()
	inside    bool
	lost      int // writes that lost their race
}

func (s *racyStore) Set(key string, value []byte, cas uint32) error {
	if s.interfere != nil && !s.inside {
		s.inside = true
		s.interfere()
		s.inside = false
	}
	err := s.memStore.Set(key, value, cas)
	if err != nil {
		s.lost++
	}
	return err
}

// concurrencyLimits are the limits the concurrency tests run: one bucket
// for everything, and one bucket per client.
var concurrencyLimits = []struct {
	name string
	cfg  Config
	key  []byte
}{
	{"one bucket", Config{Limit: Limit{TokensPerFill: 3, FillInterval: 100 * time.Millisecond, Burst: 5}}, nil},
	{"keyed bucket", Config{Limit: Limit{TokensPerFill: 3, FillInterval: 100 * time.Millisecond, Burst: 5,
		Key: []string{"header:x-client"}, MaxKeys: 16}}, []byte("client-7")},
}

// allowed is the bound the limiter must meet: burst + rate × elapsed, in
// whole fills.
func allowedBy(r rate, first, last int64) int {
	return int(r.burst + r.fill*((last-first)/r.interval))
}

// request runs one request on l for key at now.
func request(l *Limiter, key []byte, now int64) bool {
	r := l.c.rules[0]
	name := r.tbl.single
	if key != nil {
		name = ""
	}
	return l.check(r, name, key, now, drawOne).allowed
}

func TestWorkersNeverAdmitMoreThanTheLimitTogether(t *testing.T) {
	for _, lim := range concurrencyLimits {
		t.Run(lim.name, func(t *testing.T) {
			const n = 4
			store := &racyStore{memStore: newMemStore()}
			ws := workers(t, n, lim.cfg, store)
			r := ws[0].c.rules[0].tbl.rate
			rng := rand.New(rand.NewSource(1))

			admitted, latest := 0, t0
			run := func(w int, now int64) {
				if request(ws[w], lim.key, now) {
					admitted++
				}
				latest = max(latest, now)
				if bound := allowedBy(r, t0, latest); admitted > bound {
					t.Fatalf("%d admitted by t0+%v, more than burst + rate × elapsed = %d",
						admitted, time.Duration(latest-t0), bound)
				}
			}
			// Before a worker's write lands, another worker (chosen at
			// random, its clock up to 30 ms behind) may run a request.
			var now int64
			store.interfere = func() {
				if rng.Intn(2) == 0 {
					run(rng.Intn(n), now-int64(rng.Intn(30))*int64(time.Millisecond))
				}
			}
			// 2 s of traffic, far above the limit, spread over the workers.
			for step := 0; step <= 200; step++ {
				now = t0 + int64(step)*int64(10*time.Millisecond)
				for i := 0; i < 3; i++ {
					run(rng.Intn(n), now)
				}
			}
			store.interfere = nil
			for w := 0; w < n; w++ { // drain what is left
				for i := 0; i < int(r.burst); i++ {
					run(w, now)
				}
			}
			if want := allowedBy(r, t0, now); admitted != want {
				t.Fatalf("admitted %d in 2 s, want exactly burst + rate × elapsed = %d", admitted, want)
			}
			if store.lost == 0 {
				t.Fatal("no write lost a race: the test did not interleave")
			}
			for i, w := range ws {
				if w.errLog.Logged() {
					t.Fatalf("worker %d ran out of CAS attempts", i)
				}
			}
			t.Logf("%d admitted, %d writes retried after losing a race", admitted, store.lost)
		})
	}
}

// lockedStore is the proxy's shared data as real threads see it: each
// call is atomic, nothing more, and a host call is slow enough for other
// threads to run between a worker's read and its write.
type lockedStore struct {
	mu   sync.Mutex
	m    *memStore
	lost int
}

func (s *lockedStore) Get(key string) ([]byte, uint32, error) {
	s.mu.Lock()
	v, cas, err := s.m.Get(key)
	v = append([]byte(nil), v...)
	s.mu.Unlock()
	runtime.Gosched()
	return v, cas, err
}

func (s *lockedStore) Set(key string, value []byte, cas uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.m.Set(key, value, cas)
	if err != nil {
		s.lost++
	}
	return err
}

func TestWorkersInParallelAdmitExactlyTheLimit(t *testing.T) {
	// Worker VMs are threads in Envoy. Here each runs in a goroutine (the
	// library has none; the test uses them to get real races). At each of
	// 200 instants 100 ms apart, all workers send requests at once until
	// one is denied, so they race for the fill; worker w's clock runs w ms
	// behind. Failing closed, a worker that keeps losing races denies
	// without taking a token, so the total stays exact.
	for _, lim := range concurrencyLimits {
		t.Run(lim.name, func(t *testing.T) {
			const n, steps = 4, 200
			cfg := lim.cfg
			cfg.FailureMode = policy.FailClosed
			store := &lockedStore{m: newMemStore()}
			ws := workers(t, n, cfg, store)
			var logMu sync.Mutex
			var logs []string
			for _, w := range ws {
				w.errLog.log = func(msg string) {
					logMu.Lock()
					defer logMu.Unlock()
					logs = append(logs, msg)
				}
			}
			r := ws[0].c.rules[0].tbl.rate
			if !request(ws[0], lim.key, t0) { // the bucket starts at t0
				t.Fatal("first request denied")
			}
			counts := make([]int, n)
			for step := 0; step <= steps; step++ {
				var wg sync.WaitGroup
				gate := make(chan struct{})
				for w := range ws {
					wg.Add(1)
					go func(w int) {
						defer wg.Done()
						<-gate
						now := t0 + int64(step)*r.interval - int64(w)*int64(time.Millisecond)
						for request(ws[w], lim.key, now) {
							counts[w]++
						}
					}(w)
				}
				close(gate)
				wg.Wait()
			}
			end := t0 + steps*r.interval
			admitted := 1
			for w := range ws {
				admitted += counts[w]
				for request(ws[w], lim.key, end) {
					admitted++
				}
			}
			if want := allowedBy(r, t0, end); admitted != want {
				t.Fatalf("admitted %d, want exactly burst + rate × elapsed = %d", admitted, want)
			}
			if store.lost == 0 {
				t.Fatal("no write lost a race: the workers did not run concurrently")
			}
			t.Logf("%d admitted, %d writes retried after losing a race, %d lines logged", admitted, store.lost, len(logs))
		})
	}
}

// Charges of costs by workers racing each other all land: after them, the
// bucket holds exactly its burst minus their sum.
func TestWorkersChargeCostsExactly(t *testing.T) {
	for _, lim := range concurrencyLimits {
		t.Run(lim.name, func(t *testing.T) {
			const n = 4
			cfg := lim.cfg
			cfg.Limit.Burst = 1_000_000
			cfg.Cost = &Cost{}
			store := &racyStore{memStore: newMemStore()}
			ws := workers(t, n, cfg, store)
			rng := rand.New(rand.NewSource(2))
			var sum int64
			chargeOn := func(w int) {
				r := ws[w].c.rules[0]
				name := r.tbl.single
				if lim.key != nil {
					name = ""
				}
				cost := int64(rng.Intn(500))
				o := update(ws[w].data, r.tbl, name, lim.key, t0, nil, charge(cost))
				if o.err != nil {
					t.Fatalf("worker %d: %v", w, o.err)
				}
				sum += cost
			}
			store.interfere = func() {
				if rng.Intn(4) == 0 { // every charge writes: ten lost races in a row would give up
					chargeOn(rng.Intn(n))
				}
			}
			for i := 0; i < 300; i++ {
				chargeOn(rng.Intn(n))
			}
			store.interfere = nil
			r := ws[0].c.rules[0]
			name := r.tbl.single
			if lim.key != nil {
				name = ""
			}
			o := update(ws[0].data, r.tbl, name, lim.key, t0, nil, hasTokens)
			if want := cfg.Limit.Burst - sum; o.b.tokens != want {
				t.Fatalf("the bucket holds %d tokens after charges of %d, want %d", o.b.tokens, sum, want)
			}
			if store.lost == 0 {
				t.Fatal("no write lost a race: the test did not interleave")
			}
		})
	}
}
