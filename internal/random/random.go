// Package random fills buffers with random bytes from the host, for
// secrets. Under upstream Go's wasip1 it is WASI's random_get, called
// through package syscall: crypto/rand would read the same random_get but
// links Go's FIPS 140 module (its DRBG, AES, SHA-2, SHA-3 and HMAC), about
// 85 KB of code in a Wasm module. Elsewhere (native tests, TinyGo) it is
// crypto/rand.
package random
