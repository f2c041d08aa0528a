package ratelimit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
)

// A record is one bucket in shared data, little-endian:
//
//	[0]      format version (1)
//	[1:9]    tokens, int64
//	[9:17]   last fill, int64 Unix nanoseconds
//	[17:]    owner: the key the bucket belongs to (keyed slots only)
//
// Keys shorter than ownerDigestSize bytes are stored as they are; longer
// ones as their SHA-256, so a record stays small whatever a client sends.
// Owners of the two kinds cannot be confused: they differ in length.
const (
	recordVersion   = 1
	recordHeader    = 17
	ownerDigestSize = sha256.Size
)

// owner is the identity a record stores for key.
func owner(key []byte, digest *[ownerDigestSize]byte) []byte {
	if len(key) < ownerDigestSize {
		return key
	}
	*digest = sha256.Sum256(key)
	return digest[:]
}

// encode packs s and its owner into a new record.
func encode(s state, own []byte) []byte {
	return appendRecord(make([]byte, 0, recordHeader+len(own)), s, own)
}

// appendRecord appends the record of s and its owner to b.
func appendRecord(b []byte, s state, own []byte) []byte {
	b = append(b, recordVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.tokens))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.last))
	return append(b, own...)
}

// decode unpacks a record. ok is false for a record this version cannot
// read (written by another format, or damaged); callers treat it as free.
func decode(b []byte) (s state, own []byte, ok bool) {
	if len(b) < recordHeader || b[0] != recordVersion {
		return state{}, nil, false
	}
	s.tokens = int64(binary.LittleEndian.Uint64(b[1:9]))
	s.last = int64(binary.LittleEndian.Uint64(b[9:17]))
	return s, b[recordHeader:], true
}

// owns reports whether a record's owner is own.
func owns(recordOwner, own []byte) bool { return bytes.Equal(recordOwner, own) }
