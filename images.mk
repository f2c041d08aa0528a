# OCI images of the examples. Included by the Makefile, after EXAMPLES.
#
#   make images                  build/oci/NAME: an OCI image layout per example
#                                (TOOLCHAIN=tinygo: build/tinygo/oci/NAME)
#   make push REGISTRY=host[:port]/path [IMAGE_TAG=tag]
#                                push them as REGISTRY/NAME:IMAGE_TAG, with the
#                                credentials of ~/.docker/config.json
#   make e2e                     push to a throwaway local registry and pull
#                                every image back the way Istio's agent does
#   make e2e-ratelimit           the global rate limit against Envoy's rate limit
#                                service and Redis (internal/e2e/ratelimit.sh)
#
# Images are reproducible: their times are the Unix epoch, or
# $SOURCE_DATE_EPOCH when set, so an unchanged module keeps its digest.

IMAGE_TAG ?= latest
WASMIMAGE := build/wasmimage

.PHONY: images push e2e

$(WASMIMAGE): $(GO_SOURCES)
	@mkdir -p build
	$(GO) build -o $@ ./cmd/wasmimage

$(BUILD)/oci/%/index.json: $(BUILD)/%.wasm $(WASMIMAGE)
	$(WASMIMAGE) build -out $(BUILD)/oci -tag $(IMAGE_TAG) $<

images: $(EXAMPLES:%=$(BUILD)/oci/%/index.json)

ifneq ($(filter push,$(MAKECMDGOALS)),)
ifeq ($(REGISTRY),)
$(error usage: make push REGISTRY=host[:port]/path [IMAGE_TAG=tag])
endif
endif

push: images
	$(WASMIMAGE) push -tag $(IMAGE_TAG) $(REGISTRY) $(EXAMPLES:%=$(BUILD)/oci/%)

e2e:
	internal/e2e/run.sh

# The global rate limit against Envoy's rate limit service and Redis.
.PHONY: e2e-ratelimit
e2e-ratelimit:
	internal/e2e/ratelimit.sh
