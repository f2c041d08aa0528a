# Build and test entry points. Every build flag is written out here.
#
#   make demo       replay Istio's Wasm rate-limiting tutorial through the chain example, locally
#   make examples   build every examples/<name> into build/<name>.wasm
#   make test       build what the tests need, then go vet and go test
#   make images     an OCI image per example (images.mk); make push, make e2e
#   make bench      measure the compiled plugins, write BENCHMARKS.md (bench.mk)
#   make clean      remove build/

GO        ?= go
TINYGO    ?= tinygo
# go (upstream Go, the default) or tinygo.
TOOLCHAIN ?= go

# Upstream Go: a WASI reactor (c-shared exports _initialize, which Envoy
# calls before any callback), stripped of debug information.
GO_WASM_ENV   := GOOS=wasip1 GOARCH=wasm
GO_WASM_FLAGS := -buildmode=c-shared -trimpath -ldflags='-s -w'
# TinyGo: the nottinygc collector, tuned for Envoy.
TINYGO_FLAGS  := -gc=custom -tags='custommalloc nottinygc_envoy' -target=wasi -scheduler=none

EXAMPLES     := $(notdir $(patsubst %/,%,$(dir $(wildcard examples/*/main.go))))
TEST_PLUGINS := $(notdir $(patsubst %/,%,$(dir $(wildcard internal/testdata/*/main.go))))
GO_SOURCES   := $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum

.PHONY: all examples testplugins test vet clean

all: examples

examples: $(EXAMPLES:%=build/%.wasm)

testplugins: $(TEST_PLUGINS:%=build/%.wasm)

# The source of build/NAME.wasm: examples/NAME or internal/testdata/NAME.
src = $(if $(wildcard examples/$(1)/main.go),./examples/$(1),./internal/testdata/$(1))

build/%.wasm: $(GO_SOURCES)
	@mkdir -p build
	@echo "building $@ from $(call src,$*) with $(TOOLCHAIN)"
ifeq ($(TOOLCHAIN),tinygo)
	$(TINYGO) build -o $@ $(TINYGO_FLAGS) $(call src,$*)
else
	$(GO_WASM_ENV) $(GO) build $(GO_WASM_FLAGS) -o $@ $(call src,$*)
endif

# go's ./... skips testdata directories; the test plugins there are vetted too.
TESTDATA_PKGS := $(sort $(patsubst %/,./%,$(dir $(shell find internal/testdata -name '*.go'))))

vet:
	$(GO) vet ./... $(TESTDATA_PKGS)
	$(GO_WASM_ENV) $(GO) vet ./... $(TESTDATA_PKGS)

test: examples testplugins vet
	$(GO) test ./...

clean:
	rm -rf build

include images.mk demo.mk bench.mk
