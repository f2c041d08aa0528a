package jwt

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/text"
	"github.com/wasmpolicy/policy/stats"
)

// Defaults and bounds of remote_jwks.
const (
	// DefaultJWKSTimeout bounds a fetch when remote_jwks sets no timeout.
	DefaultJWKSTimeout = time.Second
	// DefaultJWKSCacheDuration is how long a fetched key set is current
	// when remote_jwks sets no cache_duration.
	DefaultJWKSCacheDuration = 10 * time.Minute
	// EarlyRefreshInterval is the shortest time between two fetches an
	// unknown kid brings forward (cache_duration if that is shorter): a
	// client sending made-up kids cannot make the proxy fetch faster, and
	// a key the issuer rotates in is used at most this long after its
	// first token, however many made-up kids came before.
	EarlyRefreshInterval = 30 * time.Second
	// MaxJWKSSize is the largest key set document accepted from a fetch.
	MaxJWKSSize = 256 << 10

	// firstRetry is the wait after a first failed fetch; it doubles with
	// every further failure, up to maxRetry.
	firstRetry = time.Second
	maxRetry   = 5 * time.Minute

	// tickSlack: a fetch due this soon after a tick is made on it, as a
	// timer's ticks come a little early or late.
	tickSlack = 50 * time.Millisecond
)

// fetchResults are the values of the result tag of jwt_jwks_fetches_total.
var fetchResults = []string{"success", "unavailable", "bad_status", "malformed"}

// remote is a provider's key set fetched over HTTP. The proxy's VMs share
// one shared-data record per provider (see record); whichever VM finds it
// due on its tick takes a lease on the fetch by writing the record with
// CAS, so that one VM per proxy fetches, and every VM parses the document
// from the record when its fetched-at time changes.
type remote struct {
	provider                 string
	cluster, path, authority string
	timeout, cacheDuration   time.Duration
	key                      string // the shared-data key of the record
	data                     policy.SharedData
	now                      func() time.Time
	log                      policy.Logger // the filter's
	fetches                  map[string]*stats.Counter
	changed                  func() // called when the VM adopts another key set
	// guard runs the answer to a fetch, which comes in the plugin
	// context, recovering a panic (policy.Env.Guard).
	guard func(func()) bool

	// This VM's view.
	version  int64   // the fetched-at time of the document keys come from
	keys     *KeySet // nil until a key set has been fetched
	doc      []byte  // the document keys were parsed from
	inflight bool    // this VM's fetch has not answered yet
	asked    int64   // the version this VM asked an early refresh of
	// notBefore is when this VM may ask again (Unix ns), after it asked
	// too soon after another early refresh.
	notBefore int64
}

// record is the shared-data record of a remote key set.
type record struct {
	fetched  int64 // when the document was fetched (Unix ns); 0: never
	next     int64 // when the next fetch is due
	lease    int64 // until when the VM fetching holds the fetch
	early    int64 // when an unknown kid last brought the fetch forward
	failures int   // consecutive failed fetches
	doc      []byte
}

const recordMagic = "jwks1"

func (r *record) encode() []byte {
	b := make([]byte, 0, len(recordMagic)+5*21+len(r.doc))
	b = append(b, recordMagic...)
	for _, n := range [...]int64{r.fetched, r.next, r.lease, r.early, int64(r.failures)} {
		b = strconv.AppendInt(append(b, ' '), n, 10)
	}
	return append(append(b, '\n'), r.doc...)
}

func decodeRecord(b []byte) (record, bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return record{}, false
	}
	f := strings.Fields(string(b[:i]))
	if len(f) != 6 || f[0] != recordMagic {
		return record{}, false
	}
	var n [5]int64
	for j := range n {
		v, err := strconv.ParseInt(f[j+1], 10, 64)
		if err != nil {
			return record{}, false
		}
		n[j] = v
	}
	return record{fetched: n[0], next: n[1], lease: n[2], early: n[3], failures: int(n[4]), doc: b[i+1:]}, true
}

func newRemote(provider string, c *RemoteJWKS) *remote {
	r := &remote{provider: provider, cluster: c.Cluster, path: c.Path, authority: c.Authority,
		timeout: c.Timeout, cacheDuration: c.CacheDuration}
	if r.authority == "" {
		r.authority = r.cluster
	}
	if r.timeout == 0 {
		r.timeout = DefaultJWKSTimeout
	}
	if r.cacheDuration == 0 {
		r.cacheDuration = DefaultJWKSCacheDuration
	}
	return r
}

// start connects r to the plugin: its shared data, clock and metrics. It
// creates the record if no VM has yet, so that every later write of it is
// a compare-and-swap.
func (r *remote) start(env *policy.Env) {
	r.data, r.now, r.log, r.guard = env.SharedData(), env.Now, env.Log(), env.Guard
	r.key = "wasmpolicy/jwt/jwks/" + env.ID + "/" + r.provider + " " + r.cluster + " " + r.authority + r.path
	r.fetches = map[string]*stats.Counter{}
	for _, res := range fetchResults {
		r.fetches[res] = env.Counter("jwt_jwks_fetches_total", stats.Tag{Key: "provider", Value: r.provider}, stats.Tag{Key: "result", Value: res})
	}
	if _, _, ok := r.load(); !ok {
		r.create()
	}
}

// load reads the record; ok is false if there is none (or it is not one).
func (r *remote) load() (record, uint32, bool) {
	b, cas, err := r.data.Get(r.key)
	if err != nil {
		return record{}, 0, false
	}
	rec, ok := decodeRecord(b)
	return rec, cas, ok
}

// create writes an empty record: a fetch is due. Two VMs creating it at
// once write the same record.
func (r *remote) create() {
	empty := record{}
	_ = r.data.Set(r.key, empty.encode(), 0)
}

// adopt parses rec's document if it is not the one this VM's keys come
// from. It reports whether the keys changed: a document fetched again
// unchanged keeps the keys, and the tokens they verified.
func (r *remote) adopt(rec record) bool {
	if rec.fetched == 0 || rec.fetched == r.version {
		return false
	}
	if r.keys != nil && bytes.Equal(rec.doc, r.doc) { // fetched again, unchanged
		r.version = rec.fetched
		return false
	}
	keys, err := ParseKeySet(rec.doc, false)
	if err != nil { // every VM checks a document before it writes it
		r.log.Warnf("provider %s: the shared key set does not parse: %s", r.provider, err)
		r.version = rec.fetched
		return false
	}
	r.keys, r.version, r.doc = keys, rec.fetched, bytes.Clone(rec.doc)
	if r.changed != nil {
		r.changed()
	}
	return true
}

// sync adopts the record's key set, if another VM fetched a new one.
func (r *remote) sync() bool {
	rec, _, ok := r.load()
	return ok && r.adopt(rec)
}

// refreshAfter is how long after a fetch the next is due.
func (r *remote) refreshAfter() time.Duration { return r.cacheDuration * 3 / 4 }

// leaseTime is how long a VM holds the fetch: longer than the callout can
// take, so that a VM that never hears back does not block the others for
// good.
func (r *remote) leaseTime() time.Duration { return 2*r.timeout + time.Second }

// backoff is the wait after the failures-th consecutive failed fetch.
func backoff(failures int) time.Duration {
	d := firstRetry
	for i := 1; i < failures && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

// tick adopts the shared key set, and fetches it if it is due and no other
// VM is fetching it.
func (r *remote) tick(now time.Time) {
	rec, cas, ok := r.load()
	if !ok {
		r.create()
		if rec, cas, ok = r.load(); !ok {
			return
		}
	}
	r.adopt(rec)
	t := now.UnixNano()
	if r.inflight || t+int64(tickSlack) < rec.next || t < rec.lease {
		return
	}
	rec.lease = now.Add(r.leaseTime()).UnixNano()
	if err := r.data.Set(r.key, rec.encode(), cas); err != nil {
		return // another VM wrote first: it fetches, or just did
	}
	r.fetch(rec.fetched, now)
}

// fetch sends the request for the key set at start, the tick's time; had
// is the fetched-at time of the key set known then. The next fetch is
// scheduled from start, so that it falls on a tick.
func (r *remote) fetch(had int64, start time.Time) {
	headers := [][2]string{{":method", "GET"}, {":path", r.path}, {":authority", r.authority}, {"accept", "application/json"}}
	_, err := proxywasm.DispatchHttpCall(r.cluster, headers, nil, nil, uint32(r.timeout/time.Millisecond), func(numHeaders, bodySize, _ int) {
		r.inflight = false
		r.guard(func() { r.answer(had, start, numHeaders, bodySize) })
	})
	if err != nil {
		r.failed(had, start, "unavailable", "the call could not be sent: "+err.Error())
		return
	}
	r.inflight = true
}

// answer takes the answer to the fetch sent at start.
func (r *remote) answer(had int64, start time.Time, numHeaders, bodySize int) {
	var status int
	var body []byte
	if numHeaders > 0 {
		if hs, err := proxywasm.GetHttpCallResponseHeaders(); err == nil {
			for _, h := range hs {
				if h[0] == ":status" {
					status, _ = strconv.Atoi(h[1])
				}
			}
		}
	}
	if bodySize > MaxJWKSSize {
		r.failed(had, start, "malformed", text.Sprintf("the key set is %d bytes, more than %d", bodySize, MaxJWKSSize))
		return
	}
	if bodySize > 0 {
		body, _ = proxywasm.GetHttpCallResponseBody(0, bodySize)
	}
	took := r.now().Sub(start).Round(time.Millisecond)
	switch {
	case status == 0:
		r.failed(had, start, "unavailable", text.Sprintf("the proxy ended the call after %s without a response (timeout %s)", took, r.timeout))
	case status != 200:
		r.failed(had, start, "bad_status", text.Sprintf("answered %d after %s", status, took))
	default:
		if _, err := ParseKeySet(body, false); err != nil {
			r.failed(had, start, "malformed", "the key set "+err.Error())
			return
		}
		r.succeeded(body, start)
	}
}

// update applies change to the record with compare-and-swap, retrying a
// few times when another VM writes between; change returns false to leave
// the record as it is.
func (r *remote) update(change func(rec *record) bool) {
	for range 8 {
		rec, cas, ok := r.load()
		if !ok {
			rec, cas = record{}, 0
		}
		if !change(&rec) {
			return
		}
		err := r.data.Set(r.key, rec.encode(), cas)
		if err == nil {
			r.adopt(rec)
			return
		}
		if !errors.Is(err, types.ErrorStatusCasMismatch) {
			r.log.Warnf("provider %s: writing the key set's shared record: %s", r.provider, err)
			return
		}
	}
}

func (r *remote) succeeded(doc []byte, start time.Time) {
	r.fetches["success"].Inc()
	now := r.now()
	r.update(func(rec *record) bool {
		t := now.UnixNano()
		if t <= rec.fetched {
			t = rec.fetched + 1 // a new version, even if the clock has not moved
		}
		rec.doc, rec.fetched, rec.failures, rec.lease = doc, t, 0, 0
		rec.next = start.Add(r.refreshAfter()).UnixNano()
		return true
	})
	r.log.Debugf("provider %s: fetched the key set from cluster %q", r.provider, r.cluster)
}

func (r *remote) failed(had int64, start time.Time, result, why string) {
	r.fetches[result].Inc()
	failures := 0
	r.update(func(rec *record) bool {
		if rec.fetched != had { // another VM fetched a key set meanwhile
			return false
		}
		rec.failures++
		failures = rec.failures
		rec.lease = 0
		rec.next = start.Add(backoff(rec.failures)).UnixNano()
		return true
	})
	keeps := "no key set yet: requests for the provider fail"
	if r.keys != nil {
		keeps = "the last key set fetched stays in use"
	}
	r.log.Warnf("provider %s: fetching the key set from cluster %q, path %q: %s: %s; %s; next try in %s",
		r.provider, r.cluster, r.path, result, why, keeps, backoff(max(failures, 1)))
}

// unknownKid is called when a token names a kid the VM's key set lacks.
// Once per key set and VM, it adopts a newer key set another VM may have
// fetched, and reports whether it did; if not, it brings the next fetch
// forward to the next tick, which the proxy does at most once per
// EarlyRefreshInterval.
func (r *remote) unknownKid() bool {
	now := r.now()
	if r.keys == nil || r.asked == r.version || now.UnixNano() < r.notBefore {
		return false // asked already, or too soon to ask again
	}
	if r.sync() {
		return true
	}
	interval := int64(min(EarlyRefreshInterval, r.cacheDuration))
	r.update(func(rec *record) bool {
		t := now.UnixNano()
		switch {
		case rec.fetched == 0 || rec.next <= t: // a fetch is due anyway
			r.asked = r.version
			return false
		case rec.early != 0 && t < rec.early+interval:
			r.notBefore = rec.early + interval // this VM asks again then
			return false
		}
		rec.early, rec.next = t, t
		r.asked = r.version
		return true
	})
	return false
}
