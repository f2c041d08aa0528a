package ratelimit

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// memStore is a policy.SharedData in this VM's memory, for "scope":
// "worker". It follows the proxy's rules, so buckets behave the same in
// both scopes: a missing key is created whatever the CAS token, an existing
// one is replaced only if the token matches (or is 0), and tokens are never
// 0. Its size is bounded the same way too: by the tables' slots.
type memStore struct {
	entries map[string]*memEntry
	cas     uint32
}

type memEntry struct {
	value []byte
	cas   uint32
}

func newMemStore() *memStore { return &memStore{entries: map[string]*memEntry{}} }

// Get implements policy.SharedData.
func (m *memStore) Get(key string) ([]byte, uint32, error) {
	e, ok := m.entries[key]
	if !ok {
		return nil, 0, types.ErrorStatusNotFound
	}
	return e.value, e.cas, nil
}

// Set implements policy.SharedData. It copies value, as the proxy does,
// into the entry's own buffer, which records of one table fill exactly.
func (m *memStore) Set(key string, value []byte, cas uint32) error {
	e, ok := m.entries[key]
	if ok && cas != 0 && cas != e.cas {
		return types.ErrorStatusCasMismatch
	}
	if !ok {
		e = &memEntry{}
		m.entries[key] = e
	}
	m.cas++
	if m.cas == 0 {
		m.cas++
	}
	e.value, e.cas = append(e.value[:0], value...), m.cas
	return nil
}
