// Package e2e holds the end-to-end test of the plugin images: run.sh (what
// `make e2e` runs) starts a private registry on loopback, pushes every
// example's image with `make push`, and runs this package's test, built
// only with the e2e tag, which pulls each image back by tag and by digest
// the way Istio's agent does and checks the module it holds.
//
// The test needs the registry run.sh starts, so it is not part of
// `go test ./...`; run it as `make e2e`.
//
// ratelimit.sh (`make e2e-ratelimit`) installs Redis and builds Envoy's rate
// limit service, then runs the test built with the e2e_ratelimit tag: it
// starts both on loopback, sends traffic through two hosts running
// build/globalratelimit.wasm, and checks that the limit holds exactly across
// them and that every failure of the service takes the failure mode.
package e2e
