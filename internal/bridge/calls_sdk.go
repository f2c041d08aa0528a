//go:build !wasip1 || tinygo

package bridge

import (
	"encoding/binary"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
)

// Outside upstream Go's wasm builds (TinyGo, and native tests against the
// SDK's proxytest), the request path's host calls go through the SDK, whose
// wrappers do not allocate their result slots there.

// HeaderMap reads header map mt into dst[:0] and returns it.
func HeaderMap(mt MapType, dst [][2]string) ([][2]string, error) {
	var hs [][2]string
	var err error
	if mt == RequestHeaders {
		hs, err = proxywasm.GetHttpRequestHeaders()
	} else {
		hs, err = proxywasm.GetHttpResponseHeaders()
	}
	return append(dst[:0], hs...), err
}

// HeaderValue reads the first value of header name from map mt.
func HeaderValue(mt MapType, name string) (string, error) {
	if mt == RequestHeaders {
		return proxywasm.GetHttpRequestHeader(name)
	}
	return proxywasm.GetHttpResponseHeader(name)
}

// Property reads the property at path.
func Property(path []string) ([]byte, error) { return proxywasm.GetProperty(path) }

// Uint64Property reads a property that is an 8-byte little-endian integer.
func Uint64Property(path []string) (uint64, bool) {
	raw, err := proxywasm.GetProperty(path)
	if err != nil || len(raw) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(raw), true
}

// SharedData reads the value and CAS token of key from the proxy's shared
// data.
func SharedData(key string) ([]byte, uint32, error) { return proxywasm.GetSharedData(key) }

// PropertyString is Property as a string (a copy: the SDK's bytes may be
// the emulator's own).
func PropertyString(path []string) (string, error) {
	raw, err := proxywasm.GetProperty(path)
	return string(raw), err
}

// DefineMetric defines a metric of the ABI's type mt (0 counter, 1 gauge,
// 2 histogram) and returns its id.
func DefineMetric(mt uint32, name string) (uint32, error) {
	switch mt {
	case 0:
		return uint32(proxywasm.DefineCounterMetric(name)), nil
	case 1:
		return uint32(proxywasm.DefineGaugeMetric(name)), nil
	}
	return uint32(proxywasm.DefineHistogramMetric(name)), nil
}

// IncrementMetric adds delta to the counter or gauge id.
func IncrementMetric(id uint32, delta int64) error {
	proxywasm.MetricGauge(id).Add(delta) // the same host call for both kinds
	return nil
}

// RecordMetric records v into the histogram id.
func RecordMetric(id uint32, v uint64) error {
	proxywasm.MetricHistogram(id).Record(v)
	return nil
}
