# make demo: Istio's Wasm rate-limiting tutorial on this machine, with nothing but Go. It
# builds the chain example, starts the local runner (internal/cmd/policyrun)
# in front of a built-in upstream on free loopback ports, sends the
# tutorial's traffic (three requests within a second, then, once the rate
# limit's bucket has refilled, one without and one with `allow: true`),
# prints every response as `curl -i` does, and stops what it started. It
# fails if the statuses are not 200 200 429 403 200.
#
# Include it after the Makefile's first target (`include demo.mk`), which
# provides the build/%.wasm rule. Compiled code is cached in
# build/wazero-cache, so runs after the first start in about a second.

GO ?= go

.PHONY: demo
demo: build/chain.wasm
	$(GO) run ./internal/cmd/policyrun -demo -plugin build/chain.wasm -config examples/chain/config.json -cache-dir build/wazero-cache
