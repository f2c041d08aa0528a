package ratelimit

import (
	"bytes"
	"encoding/binary"
)

// A record is one bucket in shared data, little-endian:
//
//	[0]      format version (2)
//	[1:9]    tokens, int64
//	[9:17]   last fill, int64 Unix nanoseconds
//	[17:]    owner: the key the bucket belongs to (keyed slots only), or
//	         its digest (see secret.owner)
//
// Version 1 records, written by earlier versions of the filter, hold
// SHA-256 owners of keys placed under another secret: this version reads
// them as free, so a bucket of an earlier version starts full once rather
// than be matched to the wrong key.
const (
	recordVersion   = 2
	recordHeader    = 17
	ownerDigestSize = 16
)

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
