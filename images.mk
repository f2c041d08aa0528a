# OCI images of the examples. Included by the Makefile, after EXAMPLES.
#
#   make images                  build/oci/NAME: an OCI image layout per example
#   make push REGISTRY=host[:port]/path [IMAGE_TAG=tag]
#                                push them as REGISTRY/NAME:IMAGE_TAG, with the
#                                credentials of ~/.docker/config.json
#   make e2e                     push to a throwaway local registry and pull
#                                every image back the way Istio's agent does
#
# Images are reproducible: their times are the Unix epoch, or
# $SOURCE_DATE_EPOCH when set, so an unchanged module keeps its digest.

IMAGE_TAG ?= latest
WASMIMAGE := build/wasmimage

.PHONY: images push e2e

$(WASMIMAGE): $(GO_SOURCES)
	@mkdir -p build
	$(GO) build -o $@ ./internal/cmd/wasmimage

build/oci/%/index.json: build/%.wasm $(WASMIMAGE)
	$(WASMIMAGE) build -out build/oci -tag $(IMAGE_TAG) $<

images: $(EXAMPLES:%=build/oci/%/index.json)

ifneq ($(filter push,$(MAKECMDGOALS)),)
ifeq ($(REGISTRY),)
$(error usage: make push REGISTRY=host[:port]/path [IMAGE_TAG=tag])
endif
endif

push: images
	$(WASMIMAGE) push -tag $(IMAGE_TAG) $(REGISTRY) $(EXAMPLES:%=build/oci/%)

e2e:
	internal/e2e/run.sh
