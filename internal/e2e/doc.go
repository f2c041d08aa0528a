// Package e2e holds the end-to-end test of the plugin images: run.sh (what
// `make e2e` runs) starts a private registry on loopback, pushes every
// example's image with `make push`, and runs this package's test, built
// only with the e2e tag, which pulls each image back by tag and by digest
// the way Istio's agent does and checks the module it holds.
//
// The test needs the registry run.sh starts, so it is not part of
// `go test ./...`; run it as `make e2e`.
package e2e
