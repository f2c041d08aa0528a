// Package bridge lets proxy-wasm-go-sdk, which was written for TinyGo, run
// when a plugin is built with upstream Go:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
//
// It exports every guest callback the SDK implements under its proxy-wasm
// name, imports every host function the SDK calls from the "env" module, and
// installs itself as the SDK's host. Users never import it: the root package
// does, so every plugin built on this library gets it.
//
// It also has the data-returning host calls of the request path (HeaderMap,
// HeaderValue, Property, Uint64Property, SharedData) for the root package:
// under upstream Go they use the bridge's global result slots, where the
// SDK's wrappers allocate theirs on every call. Under TinyGo, and in native
// builds (tests against proxytest), those go through the SDK and the rest
// of the package is empty.
package bridge
