# Build and test entry points. Every build flag is written out here.
#
#   make demo       replay Istio's Wasm rate-limiting tutorial through the chain example, locally
#   make examples   build every examples/<name> into build/<name>.wasm (TOOLCHAIN=tinygo: build/tinygo/)
#   make tinygo     install TinyGo (tinygo.mk); make test-tinygo runs the suite on TinyGo's images
#   make test       build what the tests need, then go vet and go test
#   make walkthrough  run the README's "Your own plugin" alone (part of make test)
#   make images     an OCI image per example (images.mk); make push, make e2e
#   make bench      measure the compiled plugins, TinyGo's too (make bench-tinygo), write BENCHMARKS.md (bench.mk)
#   make clean      remove build/

GO        ?= go
# go (upstream Go, the default) or tinygo. Each toolchain has its own
# output directory, so that switching toolchains rebuilds: build/NAME.wasm
# is built with upstream Go, build/tinygo/NAME.wasm with TinyGo and
# nottinygc, build/tinygo-GC/NAME.wasm with TinyGo's own collector GC.
TOOLCHAIN ?= go
# TinyGo's collector: nottinygc (the default), or TinyGo's own precise,
# conservative or leaking.
TINYGO_GC ?= nottinygc
ifeq ($(TOOLCHAIN),go)
BUILD := build
else ifeq ($(TOOLCHAIN),tinygo)
BUILD := build/tinygo$(if $(filter-out nottinygc,$(TINYGO_GC)),-$(TINYGO_GC))
else
$(error TOOLCHAIN must be go or tinygo, not $(TOOLCHAIN))
endif

# Upstream Go: a WASI reactor (c-shared exports _initialize, which Envoy
# calls before any callback), stripped of debug information.
GO_WASM_ENV   := GOOS=wasip1 GOARCH=wasm
GO_WASM_FLAGS := -buildmode=c-shared -trimpath -ldflags='-s -w'

# TinyGo: a reactor too, without debug information. TINYGO_GC=nottinygc
# links the nottinygc collector as the proxy-wasm tutorials do, with its
# Envoy settings; any other value is TinyGo's own collector of that name.
# Both builds carry the custommalloc tag, which keeps malloc and free out of
# the module's exports: Envoy hands data to a module through its exported
# malloc when it has one and never frees it, so every request would leak
# what the plugin read (internal/bridge/gc_tinygo.go).
# TINYGO_TAGS are the build tags of a TinyGo build; a variant adds its own
# to them (TinyGo takes only the last -tags it is given).
TINYGO_GC_FLAG := $(if $(filter nottinygc,$(TINYGO_GC)),custom,$(TINYGO_GC))
TINYGO_TAGS    := custommalloc$(if $(filter nottinygc,$(TINYGO_GC)), nottinygc_envoy)
TINYGO_FLAGS   := -buildmode=c-shared -no-debug -target=wasi -scheduler=none -gc=$(TINYGO_GC_FLAG)
include tinygo.mk

EXAMPLES     := $(notdir $(patsubst %/,%,$(dir $(wildcard examples/*/main.go))))
TEST_PLUGINS := $(notdir $(patsubst %/,%,$(dir $(wildcard internal/testdata/*/main.go))))
GO_SOURCES   := $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum

.PHONY: all examples testplugins test vet walkthrough clean

all: examples

examples: $(EXAMPLES:%=$(BUILD)/%.wasm)

testplugins: $(TEST_PLUGINS:%=$(BUILD)/%.wasm)

# The source of NAME.wasm: examples/NAME or internal/testdata/NAME.
src = $(if $(wildcard examples/$(1)/main.go),./examples/$(1),./internal/testdata/$(1))

build/%.wasm: $(GO_SOURCES)
	@mkdir -p build
	@echo "building $@ from $(call src,$*) with upstream Go"
	$(GO_WASM_ENV) $(GO) build $(GO_WASM_FLAGS) -o $@ $(call src,$*)

ifeq ($(TOOLCHAIN),tinygo)
# The shorter stem wins: build/tinygo*/NAME.wasm is built by this rule.
$(BUILD)/%.wasm: $(GO_SOURCES) | $(TINYGO_INSTALL)
	@mkdir -p $(BUILD)
	@echo "building $@ from $(call src,$*) with TinyGo ($(TINYGO_GC))"
	$(TINYGO) build -o $@ $(TINYGO_FLAGS) -tags='$(TINYGO_TAGS)' $(call src,$*)
endif

# go's ./... skips testdata directories; the test plugins there are vetted too.
TESTDATA_PKGS := $(sort $(patsubst %/,./%,$(dir $(shell find internal/testdata -name '*.go'))))

vet:
	$(GO) vet ./... $(TESTDATA_PKGS)
	$(GO_WASM_ENV) $(GO) vet ./... $(TESTDATA_PKGS)

# The README's "Your own plugin", command by command, in a throwaway
# directory (internal/walkthrough): go test ./... runs it, and make
# walkthrough runs it alone. It runs the README's curl lines with curl,
# installed from Debian's packages when it is missing.
WALKTHROUGH_TOOLS := $(if $(shell command -v curl 2>/dev/null),,install-curl)

walkthrough: $(WALKTHROUGH_TOOLS)
	$(GO) test -count=1 -v ./internal/walkthrough

.PHONY: install-curl
install-curl:
	apt-get install -y --no-install-recommends curl || { apt-get update && apt-get install -y --no-install-recommends curl; }

# The wasm tests read the images of $(BUILD) (internal/wasmtest.ImagePath),
# and know the toolchain and collector that built them (internal/tinygo).
# With TinyGo they also read the allocstats variants of the chain and the
# no-op plugin (bench.mk), which upstream Go's tests build themselves.
test: examples testplugins vet $(if $(filter tinygo,$(TOOLCHAIN)),$(BUILD)/allocstats/chain.wasm $(BUILD)/allocstats/noop.wasm) $(WALKTHROUGH_TOOLS)
	POLICY_BUILD_DIR=$(BUILD) POLICY_TOOLCHAIN=$(TOOLCHAIN) POLICY_TINYGO_GC=$(TINYGO_GC) $(GO) test ./...

clean:
	rm -rf build

include images.mk demo.mk bench.mk
