package ratelimit

import (
	"errors"
	"strconv"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
)

const (
	// casAttempts bounds the read-modify-write attempts of one decision.
	// Each lost race means another worker's write landed, so running out
	// takes that many concurrent writes to the same bucket in a row.
	casAttempts = 10
	// maxProbes bounds the slots a keyed bucket may occupy, hence the
	// reads that finding or placing it costs.
	maxProbes = 8
	// createCAS is the CAS token used to create a record. The proxy
	// ignores the token when the key is missing and compares it when the
	// key exists, so a token no record is likely to hold means "create if
	// absent": of two workers creating the same bucket, one loses the race
	// and retries instead of overwriting the other's draw.
	createCAS uint32 = 0x7fffffff
)

// errContended is the failure when every attempt lost a CAS race.
var errContended = errors.New("compare-and-swap lost " + strconv.Itoa(casAttempts) + " times in a row")

// table is where one limit keeps its buckets: one record per bucket in a
// store, under names that start with the table's prefix.
//
// A keyed table has a fixed number of slots, and as many overflow buckets.
// A key lives in one of the maxProbes slots from its home, which a keyed
// hash of the key gives (see secret), and takes the first one that is free
// (never written, or holding a full bucket, which carries no history) when
// it has none. When all of them hold active keys, the key draws from its
// overflow bucket, which the keyed hash picks too, with whatever other keys
// spilled there. Records are never deleted (proxy-wasm has no call for it);
// their number is bounded by the slots instead: at most twice max_keys,
// plus the fallback bucket.
//
// A key that holds a slot is limited by its own bucket alone: no other key
// can take or reset it while it is not full. Nobody outside the proxy knows
// the secret, so nobody can tell which slots a key probes or where it
// spills, nor pick keys that collide with it. To deny a client's request
// before its own bucket is empty, an attacker must hold all of its slots
// and empty its overflow bucket; not knowing which they are, it must hold
// every slot (a request per slot and interval) and empty every overflow
// bucket (burst requests each, then fill per interval): max_keys × (burst
// + 1) requests to begin with and max_keys × (fill + 1) per interval to
// keep it up, which is the traffic of max_keys clients each using its whole
// limit, and more as its keys land where they land. Short of that it denies
// a client only where its spilled keys happened to empty the client's
// overflow bucket: emptying k of them hits a given one with probability
// k / max_keys.
//
// Every bucket update is exact; placing a new key is exact but for one
// race: two workers placing the same new key at the same moment, while a
// slot on its path falls idle between their reads, can place it in two
// slots. Later requests find the first; the draws taken from the other
// (one or a few requests) are admitted beyond the key's limit, once.
type table struct {
	rate     rate
	slots    int     // max_keys; 0 for a table with one bucket
	probes   int     // min(slots, maxProbes)
	sec      *secret // places keys; nil for a table with one bucket
	prefix   string  // "ratelimit/<domain>/<rule>/"
	single   string  // the one bucket of an unkeyed table
	fallback string  // requests without the key
}

// newTable makes a table of slots slots (0 for one bucket) whose keys sec
// places.
func newTable(r rate, prefix string, slots int, sec *secret) *table {
	if slots == 0 {
		sec = nil
	}
	return &table{rate: r, slots: slots, probes: min(slots, maxProbes), sec: sec, prefix: prefix,
		single: prefix + "all", fallback: prefix + "fallback"}
}

// slotName is the record of slot i: "<prefix><i>".
func (t *table) slotName(i int) string { return t.name("", i) }

// overflowName is the record of overflow bucket i: "<prefix>overflow/<i>".
func (t *table) overflowName(i int) string { return t.name("overflow/", i) }

func (t *table) name(kind string, i int) string {
	var buf [80]byte
	b := append(append(buf[:0], t.prefix...), kind...)
	return string(strconv.AppendInt(b, int64(i), 10))
}

// target is the record a decision reads and writes.
type target struct {
	name    string
	st      state
	cas     uint32 // createCAS for a record that does not exist yet
	fresh   bool   // the record is claimed: st is a full bucket for this owner
	spilled bool   // name is an overflow bucket
}

// outcome is one decision.
type outcome struct {
	allowed bool
	b       bucket // the bucket after the decision, for the rate-limit headers
	spilled bool   // the key drew from its overflow bucket
	retries int    // CAS races lost
	err     error  // the store failed or every attempt lost its race
}

// take draws one token at now from the bucket named name (unkeyed), or
// from key's bucket in t's slots (keyed, name empty).
func take(data policy.SharedData, t *table, name string, key []byte, now int64) outcome {
	return takeWith(data, t, name, key, now, nil)
}

// takeWith is take encoding the record it writes into rec, a buffer the
// caller keeps between decisions (SharedData.Set copies the value), so a
// decision does not allocate one.
func takeWith(data policy.SharedData, t *table, name string, key []byte, now int64, rec *[]byte) outcome {
	return update(data, t, name, key, now, rec, drawOne)
}

// An op changes a bucket at now and reports whether the request is
// allowed: drawOne takes a token, hasTokens (a limit by cost, before the
// response tells the cost) only looks, and a charge takes what a response
// cost. It is a value, not a function, so that the bucket it changes stays
// on the stack.
type op struct {
	kind uint8
	n    int64 // a charge's tokens
}

const (
	opDrawOne = iota
	opHasTokens
	opCharge
)

var (
	drawOne   = op{kind: opDrawOne}
	hasTokens = op{kind: opHasTokens}
)

// charge is the op that draws n tokens, overdrawing the bucket down to
// -burst at most: a request admitted with tokens left may cost more than
// there are.
func charge(n int64) op { return op{kind: opCharge, n: n} }

// apply applies o to b at now.
func (o op) apply(b *bucket, now int64) bool {
	switch o.kind {
	case opHasTokens:
		b.advance(now)
		return b.tokens >= 1
	case opCharge:
		b.draw(now, o.n)
		return true
	}
	return b.allowN(now, 1)
}

// update applies apply to the bucket named name (unkeyed), or to key's bucket
// in t's slots (keyed, name empty), writing the record with
// compare-and-swap, and retrying when another worker wrote first.
func update(data policy.SharedData, t *table, name string, key []byte, now int64, rec *[]byte, apply op) (o outcome) {
	if rec == nil {
		rec = new([]byte)
	}
	var digest [ownerDigestSize]byte
	var own []byte
	var home, spill uint64
	if name == "" {
		var err error
		if home, spill, o.retries, err = t.sec.place(data, key); err != nil {
			o.err = err
			return o
		}
		own = t.sec.owner(key, &digest)
	}
	for attempt := 0; attempt < casAttempts; attempt++ {
		var tg target
		var err error
		if name != "" {
			tg, err = lookup(data, t.rate, name, nil, now)
		} else {
			tg, err = locate(data, t, home, spill, own, now)
		}
		if err != nil {
			o.err = err
			return o
		}
		o.spilled = tg.spilled
		o.b = bucket{rate: t.rate, state: tg.st}
		before := o.b.state
		o.allowed = apply.apply(&o.b, now)
		if !tg.fresh && o.b.state == before {
			return o // nothing to write: the decision stands on the record read
		}
		recOwner := own
		if name != "" || tg.spilled {
			recOwner = nil
		}
		b := appendRecord((*rec)[:0], o.b.state, recOwner)
		*rec = nil // a decision nested in Set (tests interleave workers so) gets its own
		err = data.Set(tg.name, b, tg.cas)
		*rec = b
		switch {
		case err == nil:
			return o
		case !errors.Is(err, types.ErrorStatusCasMismatch):
			o.err = err
			return o
		}
		o.retries++
	}
	o.allowed = false
	o.err = errContended
	return o
}

// lookup reads the single-owner record name: a fixed bucket, or a slot
// being probed for own.
func lookup(data policy.SharedData, r rate, name string, own []byte, now int64) (target, error) {
	val, cas, err := data.Get(name)
	if errors.Is(err, types.ErrorStatusNotFound) {
		return target{name: name, st: r.full(now), cas: createCAS, fresh: true}, nil
	}
	if err != nil {
		return target{}, err
	}
	st, recOwner, ok := decode(val)
	if !ok || !owns(recOwner, own) {
		return target{name: name, st: r.full(now), cas: cas, fresh: true}, nil
	}
	return target{name: name, st: clamp(st, r), cas: cas}, nil
}

// locate finds the slot of the key own stands for in t, whose hash gave
// home and spill: the slot it owns, else the first free one, else its
// overflow bucket.
func locate(data policy.SharedData, t *table, home, spill uint64, own []byte, now int64) (target, error) {
	home %= uint64(t.slots)
	var free target
	for i := 0; i < t.probes; i++ {
		name := t.slotName(int((home + uint64(i)) % uint64(t.slots)))
		val, cas, err := data.Get(name)
		if errors.Is(err, types.ErrorStatusNotFound) {
			// Slots are never emptied, so the key cannot own one further on.
			if free.name == "" {
				free = target{name: name, st: t.rate.full(now), cas: createCAS, fresh: true}
			}
			break
		}
		if err != nil {
			return target{}, err
		}
		st, recOwner, ok := decode(val)
		if ok && owns(recOwner, own) {
			return target{name: name, st: clamp(st, t.rate), cas: cas}, nil
		}
		if free.name == "" && (!ok || (bucket{rate: t.rate, state: clamp(st, t.rate)}).idle(now)) {
			free = target{name: name, st: t.rate.full(now), cas: cas, fresh: true}
		}
	}
	if free.name != "" {
		return free, nil
	}
	tg, err := lookup(data, t.rate, t.overflowName(int(spill%uint64(t.slots))), nil, now)
	tg.spilled = true
	return tg, err
}

// clamp bounds a record's tokens by the current rate, whose burst may have
// changed since the record was written.
func clamp(s state, r rate) state {
	s.tokens = max(-r.burst, min(s.tokens, r.burst))
	return s
}
