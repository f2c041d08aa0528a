package ratelimit

import (
	"encoding/binary"
	"errors"

	"github.com/dchest/siphash"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/random"
)

// A keyed limit places a key by SipHash-2-4 of the key under a secret key,
// one per domain and proxy, so that nobody outside the proxy can tell which
// slots a key probes or which overflow bucket it spills to, nor choose keys
// that collide with it (see table). SipHash is a keyed pseudorandom
// function made for exactly this, hash tables facing chosen keys (Go's
// runtime and many others place map keys with it); it is much smaller
// than HMAC-SHA-256 in a Wasm module.
//
// The secret is one record in shared data, "ratelimit/<domain>/siphash-key",
// since every worker VM must place a key in the same slots:
//
//	[0]     format version (1)
//	[1:17]  the SipHash key that places keys (see place)
//	[17:33] the SipHash key of owner digests (see owner)
//
// (Versions before this one kept an HMAC-SHA-256 key in
// "ratelimit/<domain>/secret"; the new name keeps VMs of the two versions
// sharing a proxy from replacing each other's secret.)
//
// The first worker that needs it (at its first keyed decision) draws it
// from the host (WASI random_get, see internal/random) and creates the
// record with createCAS; a worker that loses that race reads the winner's,
// and every worker, the creator included, uses the value it reads back
// from shared data. A worker reads it once and keeps it: the record is
// never replaced once readable.
//
// Shared data lasts as long as the proxy process. A plugin reload or a new
// configuration of the same VM id (new VMs in the same proxy) reads the same
// secret, so keys keep their slots and their buckets; a proxy restart starts
// with empty shared data, a new secret and fresh buckets.
//
// When shared data fails (or keeps losing races) while the secret is read
// or created, the keyed decision fails like any other shared-data failure:
// the request is let through or denied as failure_mode says, counted in
// ratelimit_shared_data_errors_total and logged, and the worker tries again
// at its next keyed request. No log line or error carries the secret.
type secret struct {
	name   string // the record
	loaded bool
	place0 uint64 // the placement key, as SipHash's two words
	place1 uint64
	own0   uint64 // the owner digest key
	own1   uint64
}

const (
	secretVersion = 1
	secretSize    = 32
)

func newSecret(domain string) *secret { return &secret{name: "ratelimit/" + domain + "/siphash-key"} }

// place hashes key: the low 32 bits of its SipHash-2-4 under the placement
// key, modulo the slots, are where its probes start (home); the high 32
// bits, modulo the slots, pick its overflow bucket (spill). Slots number at
// most a million, so either is as good as uniform. lost counts the races
// lost creating the secret.
func (s *secret) place(data policy.SharedData, key []byte) (home, spill uint64, lost int, err error) {
	if !s.loaded {
		if lost, err = s.load(data); err != nil {
			return 0, 0, lost, err
		}
	}
	h := siphash.Hash(s.place0, s.place1, key)
	return h & 0xffffffff, h >> 32, lost, nil
}

// owner is the identity a record stores for key, once the secret is
// loaded: keys shorter than ownerDigestSize bytes as they are, longer ones
// as their 128-bit SipHash-2-4 under the owner key, so that a record stays
// small whatever a client sends. Owners of the two kinds cannot be
// confused: they differ in length.
//
// Two keys of one table share a bucket if their digests are equal. The
// digest is a keyed pseudorandom function of the key under a secret no
// client sees, in no log and in no response, so nobody can compute a
// digest, let alone search for a key whose digest equals another's:
// collisions cannot be precomputed or chosen, only happen by chance, and
// among n keys live at once the chance of any is about n²/2^129, under
// 2^-89 for the largest table (a million slots).
func (s *secret) owner(key []byte, digest *[ownerDigestSize]byte) []byte {
	if len(key) < ownerDigestSize {
		return key
	}
	lo, hi := siphash.Hash128(s.own0, s.own1, key)
	binary.LittleEndian.PutUint64(digest[0:8], lo)
	binary.LittleEndian.PutUint64(digest[8:16], hi)
	return digest[:]
}

// load reads the secret, creating it first if there is none, or replacing
// a record this version cannot read (on its CAS token, so that of several
// workers replacing it one wins and the others read the winner's). lost
// counts the writes that lost their race; after casAttempts writes it gives
// up.
func (s *secret) load(data policy.SharedData) (lost int, err error) {
	for writes := 0; ; writes++ {
		val, cas, err := data.Get(s.name)
		switch {
		case err == nil && len(val) == 1+secretSize && val[0] == secretVersion:
			le := binary.LittleEndian
			s.place0, s.place1 = le.Uint64(val[1:9]), le.Uint64(val[9:17])
			s.own0, s.own1 = le.Uint64(val[17:25]), le.Uint64(val[25:33])
			s.loaded = true
			return lost, nil
		case errors.Is(err, types.ErrorStatusNotFound):
			cas = createCAS
		case err != nil:
			return lost, err
		}
		if writes == casAttempts {
			return lost, errContended
		}
		rec := make([]byte, 1+secretSize)
		rec[0] = secretVersion
		if err := random.Read(rec[1:]); err != nil {
			return lost, err
		}
		switch err := data.Set(s.name, rec, cas); {
		case errors.Is(err, types.ErrorStatusCasMismatch):
			lost++
		case err != nil:
			return lost, err
		}
	}
}
