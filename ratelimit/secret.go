package ratelimit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
)

// A keyed limit places a key by HMAC-SHA-256 of the key under a secret of
// secretSize random bytes, one per domain and proxy, so that nobody outside
// the proxy can tell which slots a key probes or which overflow bucket it
// spills to, nor choose keys that collide with it (see table).
//
// The secret is one record in shared data, "ratelimit/<domain>/secret",
// since every worker VM must place a key in the same slots:
//
//	[0]    format version (1)
//	[1:33] the secret
//
// The first worker that needs it (at its first keyed decision) draws it
// from crypto/rand (WASI random_get) and creates the record with createCAS;
// a worker that loses that race reads the winner's, and every worker, the
// creator included, uses the value it reads back from shared data. A worker
// reads it once and keeps it: the record is never replaced once readable.
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
	name string    // the record
	mac  hash.Hash // HMAC-SHA-256 under the secret; nil until it is read
	sum  [sha256.Size]byte
}

const (
	secretVersion = 1
	secretSize    = 32
)

func newSecret(domain string) *secret { return &secret{name: "ratelimit/" + domain + "/secret"} }

// place hashes key: home (the HMAC's first 8 bytes, little-endian) is
// where its probes start, modulo the slots, and spill (the next 8) picks
// its overflow bucket. lost counts the races lost creating the secret.
func (s *secret) place(data policy.SharedData, key []byte) (home, spill uint64, lost int, err error) {
	if s.mac == nil {
		if lost, err = s.load(data); err != nil {
			return 0, 0, lost, err
		}
	}
	s.mac.Reset()
	s.mac.Write(key)
	sum := s.mac.Sum(s.sum[:0])
	return binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16]), lost, nil
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
			s.mac = hmac.New(sha256.New, val[1:])
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
		if _, err := rand.Read(rec[1:]); err != nil {
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
