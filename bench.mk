# make bench: what a request costs in the compiled plugins, measured against
# the no-op plugin (internal/cmd/bench). It builds every example image,
# build/noop.wasm and the tutorial's peers (build/tutorial.wasm, the
# tutorial's plugin written against the SDK, and build/tutoriallib.wasm, the
# library doing the same), then measures time per request in wasm, host
# calls, Go allocations in wasm, native time and allocations, image sizes
# before and after Binaryen's wasm-opt and by dependency, compile time in
# V8, and the chain's memory over a million requests, and writes
# BENCHMARKS.md and its chart BENCHMARKS.svg at the repository root. One run
# takes a few minutes (the first wasm-opt of each image is most of it; its
# outputs are kept in build/wasm-opt); timings are best taken on an
# otherwise idle machine.
#
# wasm-opt comes from Debian's binaryen package, installed if missing.
# WASM_OPT= (empty) skips the optimized images. Node.js (node) must be on
# PATH: the report gives each image's compile time in V8.
#
# Besides the images as built, the bench reads two variants of each, built
# here: build/allocstats/NAME.wasm (the policy_allocstats tag: exports that
# count the Go runtime's allocations) and build/names/NAME.wasm (unstripped:
# the same code with a name section, for the size breakdown by dependency).
# The bench itself builds one more variant of each example and the chain,
# with the flags it is passed: build/nomodifiers/NAME.wasm (and, unstripped,
# build/nomodifiers/names/NAME.wasm), built against a copy of
# github.com/tidwall/gjson whose init leaves out the @pretty and @ugly
# modifiers (which link encoding/json, reflect and fmt into every image),
# through a go.work in a temporary directory; the report gives both sizes.
# A variant newer than its image as built is reused.
#
# The report's "TinyGo images" section compares the examples and the no-op
# plugin built with TinyGo, with nottinygc (build/tinygo/NAME.wasm, the
# Makefile's TinyGo build) and with TinyGo's precise collector
# (build/tinygo-precise/NAME.wasm), and their allocstats variants
# (build/tinygo*/allocstats/NAME.wasm): make bench-tinygo builds them all
# (TinyGo is installed first if missing, tinygo.mk). TINYGO_BENCH= (empty)
# leaves the section out.
#
# BASELINE='REV ...' also builds the chain and a few other images from each
# git revision (in a temporary worktree, with the same flags, into
# build/baseline/) and measures them in the same run: the report's "Before
# and after" section. For example: make bench BASELINE=9fd84c0
#
# Include it after the Makefile's first target (`include bench.mk`), which
# provides EXAMPLES, GO_WASM_ENV, GO_WASM_FLAGS, src, the examples target and
# the build/%.wasm rule.

GO       ?= go
WASM_OPT ?= wasm-opt

# The images the bench measures besides the examples.
BENCH_PLUGINS := noop tutorial tutoriallib
BENCH_IMAGES  := $(EXAMPLES) $(BENCH_PLUGINS)

# The TinyGo builds the report compares: the bench's flag for each and its
# directory (the Makefile's BUILD for TOOLCHAIN=tinygo and TINYGO_GC).
TINYGO_BENCH ?= -tinygo build/tinygo -tinygo-precise build/tinygo-precise

.PHONY: bench binaryen bench-tinygo

bench: examples $(BENCH_PLUGINS:%=build/%.wasm) $(BENCH_IMAGES:%=build/allocstats/%.wasm) \
		$(EXAMPLES:%=build/names/%.wasm) build/names/noop.wasm $(if $(WASM_OPT),binaryen) $(if $(TINYGO_BENCH),bench-tinygo)
	$(GO) run ./internal/cmd/bench -wasm-opt '$(WASM_OPT)' -baseline '$(BASELINE)' $(TINYGO_BENCH) -- $(GO_WASM_FLAGS)

# The TinyGo images and their allocstats variants, for each collector: the
# TinyGo build rules exist only with TOOLCHAIN=tinygo, so make builds them
# in a make of its own.
TINYGO_BENCH_IMAGES := $(EXAMPLES) noop

bench-tinygo:
	$(MAKE) $(foreach d,build/tinygo build/tinygo/allocstats,$(TINYGO_BENCH_IMAGES:%=$(d)/%.wasm)) TOOLCHAIN=tinygo TINYGO_GC=nottinygc
	$(MAKE) $(foreach d,build/tinygo-precise build/tinygo-precise/allocstats,$(TINYGO_BENCH_IMAGES:%=$(d)/%.wasm)) TOOLCHAIN=tinygo TINYGO_GC=precise

# The allocstats variant of an image: the same build with the
# policy_allocstats tag, which adds exports that read the Go runtime's
# allocation counters (internal/bridge/allocstats.go); the bench calls them
# before and after a run of requests. The shorter stem wins: this rule, not
# build/%.wasm, builds build/allocstats/NAME.wasm.
build/allocstats/%.wasm: $(GO_SOURCES)
	@mkdir -p build/allocstats
	$(GO_WASM_ENV) $(GO) build $(GO_WASM_FLAGS) -tags policy_allocstats -o $@ $(call src,$*)

ifeq ($(TOOLCHAIN),tinygo)
# The allocstats variant of a TinyGo image (internal/bridge/allocstats.go).
# The shorter stem wins: this rule, not $(BUILD)/%.wasm, builds
# $(BUILD)/allocstats/NAME.wasm.
$(BUILD)/allocstats/%.wasm: $(GO_SOURCES) | $(TINYGO_INSTALL)
	@mkdir -p $(@D)
	$(TINYGO) build -o $@ $(TINYGO_FLAGS) -tags='$(TINYGO_TAGS) policy_allocstats' $(call src,$*)
endif

# The unstripped variant of an image, for the size breakdown by dependency:
# the Makefile's flags without -ldflags='-s -w', so the same code with a
# name section (the bench checks that the code is the same).
GO_NAMES_FLAGS := $(subst -ldflags='-s -w',,$(GO_WASM_FLAGS))

build/names/%.wasm: $(GO_SOURCES)
	@mkdir -p build/names
	$(GO_WASM_ENV) $(GO) build $(GO_NAMES_FLAGS) -o $@ $(call src,$*)

binaryen:
	@command -v $(WASM_OPT) >/dev/null 2>&1 || apt-get install -y binaryen || { apt-get update && apt-get install -y binaryen; }
