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

.PHONY: bench binaryen

bench: examples $(BENCH_PLUGINS:%=build/%.wasm) $(BENCH_IMAGES:%=build/allocstats/%.wasm) \
		$(EXAMPLES:%=build/names/%.wasm) build/names/noop.wasm $(if $(WASM_OPT),binaryen)
	$(GO) run ./internal/cmd/bench -wasm-opt '$(WASM_OPT)' -baseline '$(BASELINE)' -- $(GO_WASM_FLAGS)

# The allocstats variant of an image: the same build with the
# policy_allocstats tag, which adds exports that read the Go runtime's
# allocation counters (internal/bridge/allocstats.go); the bench calls them
# before and after a run of requests. The shorter stem wins: this rule, not
# build/%.wasm, builds build/allocstats/NAME.wasm.
build/allocstats/%.wasm: $(GO_SOURCES)
	@mkdir -p build/allocstats
	$(GO_WASM_ENV) $(GO) build $(GO_WASM_FLAGS) -tags policy_allocstats -o $@ $(call src,$*)

# The unstripped variant of an image, for the size breakdown by dependency:
# the Makefile's flags without -ldflags='-s -w', so the same code with a
# name section (the bench checks that the code is the same).
GO_NAMES_FLAGS := $(subst -ldflags='-s -w',,$(GO_WASM_FLAGS))

build/names/%.wasm: $(GO_SOURCES)
	@mkdir -p build/names
	$(GO_WASM_ENV) $(GO) build $(GO_NAMES_FLAGS) -o $@ $(call src,$*)

binaryen:
	@command -v $(WASM_OPT) >/dev/null 2>&1 || apt-get install -y binaryen || { apt-get update && apt-get install -y binaryen; }
