// Package examples holds the ready plugin images, one per directory: each
// examples/NAME is a main package with a config.json, and beside them the
// deployment files generated from that config.json, an Istio WasmPlugin
// (wasmplugin.yaml) and a static Envoy configuration (envoy.yaml). This
// package itself only tests those files; README.md explains how to build,
// push and deploy the images.
package examples

//go:generate go run ../internal/cmd/deployfiles -root ..
