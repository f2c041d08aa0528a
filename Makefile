# Build and test entry points. Every build flag is written out here.
#
#   make demo       replay Istio's Wasm rate-limiting tutorial through the chain example, locally
#   make examples   build every examples/<name> into build/<name>.wasm (TOOLCHAIN=tinygo: build/tinygo/)
#   make test       build what the tests need, then go vet and go test
#   make images     an OCI image per example (images.mk); make push, make e2e
#   make bench      measure the compiled plugins, write BENCHMARKS.md (bench.mk)
#   make clean      remove build/

GO        ?= go
TINYGO    ?= tinygo
# go (upstream Go, the default) or tinygo. Each toolchain has its own
# output directory, so that switching toolchains rebuilds: build/NAME.wasm
# is built with upstream Go, build/tinygo/NAME.wasm with TinyGo.
TOOLCHAIN ?= go
ifeq ($(TOOLCHAIN),go)
BUILD := build
else ifeq ($(TOOLCHAIN),tinygo)
BUILD := build/tinygo
else
$(error TOOLCHAIN must be go or tinygo, not $(TOOLCHAIN))
endif

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

examples: $(EXAMPLES:%=$(BUILD)/%.wasm)

testplugins: $(TEST_PLUGINS:%=$(BUILD)/%.wasm)

# The source of NAME.wasm: examples/NAME or internal/testdata/NAME.
src = $(if $(wildcard examples/$(1)/main.go),./examples/$(1),./internal/testdata/$(1))

build/%.wasm: $(GO_SOURCES)
	@mkdir -p build
	@echo "building $@ from $(call src,$*) with upstream Go"
	$(GO_WASM_ENV) $(GO) build $(GO_WASM_FLAGS) -o $@ $(call src,$*)

# The shorter stem wins: build/tinygo/NAME.wasm is built by this rule.
build/tinygo/%.wasm: $(GO_SOURCES)
	@command -v $(TINYGO) >/dev/null 2>&1 || { echo "$(TINYGO) not found: install TinyGo (https://tinygo.org/getting-started/install/), or set TINYGO=/path/to/tinygo, or build with upstream Go (TOOLCHAIN=go, the default)" >&2; exit 1; }
	@mkdir -p build/tinygo
	@echo "building $@ from $(call src,$*) with TinyGo"
	$(TINYGO) build -o $@ $(TINYGO_FLAGS) $(call src,$*)

# go's ./... skips testdata directories; the test plugins there are vetted too.
TESTDATA_PKGS := $(sort $(patsubst %/,./%,$(dir $(shell find internal/testdata -name '*.go'))))

vet:
	$(GO) vet ./... $(TESTDATA_PKGS)
	$(GO_WASM_ENV) $(GO) vet ./... $(TESTDATA_PKGS)

# The wasm tests read the images of $(BUILD) (internal/wasmtest.ImagePath).
test: examples testplugins vet
	POLICY_BUILD_DIR=$(BUILD) $(GO) test ./...

clean:
	rm -rf build

include images.mk demo.mk bench.mk
