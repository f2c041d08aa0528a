# make demo: Istio's Wasm rate-limiting tutorial on this machine, with nothing but Go. It
# builds the chain example, starts the local runner (cmd/policyrun)
# in front of a built-in upstream on free loopback ports, sends the
# tutorial's traffic (three requests within a second, then, once the rate
# limit's bucket has refilled, one without and one with `allow: true`),
# prints every response as `curl -i` does, and stops what it started. It
# fails if the statuses are not 200 200 429 403 200.
#
# Include it after the Makefile's first target (`include demo.mk`), which
# provides BUILD and the rules that build its images. Compiled code is cached in
# build/wazero-cache, so runs after the first start in about a second.

GO ?= go

.PHONY: demo
demo: $(BUILD)/chain.wasm
	@echo "compiling the runner (go run ./cmd/policyrun), then the plugin"
	$(GO) run ./cmd/policyrun -demo -plugin $(BUILD)/chain.wasm -config examples/chain/config.json -cache-dir build/wazero-cache
