# TinyGo, for TOOLCHAIN=tinygo.
#
#   make tinygo        install TinyGo 0.37.0 into TINYGO_DIR (internal/tinygo/install.sh)
#   make test-tinygo   build every example and test plugin with TinyGo, with
#                      nottinygc and with TinyGo's precise collector, and run
#                      the whole suite on each set of images
#
# TINYGO is the tinygo command: the one on the PATH if there is one,
# otherwise the one `make tinygo` installs, which the TinyGo builds install
# first when it is missing.

TINYGO_VERSION := 0.37.0
TINYGO_DIR     ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/wasmpolicy/tinygo-$(TINYGO_VERSION)
TINYGO         ?= $(or $(shell command -v tinygo 2>/dev/null),$(TINYGO_DIR)/bin/tinygo)

# The installed command is a prerequisite of the TinyGo builds only when it
# is the one used.
TINYGO_INSTALL := $(if $(filter $(TINYGO_DIR)/bin/tinygo,$(TINYGO)),$(TINYGO_DIR)/bin/tinygo)

.PHONY: tinygo test-tinygo

tinygo: $(TINYGO_DIR)/bin/tinygo

$(TINYGO_DIR)/bin/tinygo:
	sh internal/tinygo/install.sh $(TINYGO_DIR)

# After the suites, a build without the tags that keep malloc out of the
# module's exports must fail, naming them (internal/bridge/gc_tinygo_tags.go).
test-tinygo: $(TINYGO_INSTALL)
	$(MAKE) test TOOLCHAIN=tinygo
	$(MAKE) test TOOLCHAIN=tinygo TINYGO_GC=precise
	@if $(TINYGO) build -o build/untagged.wasm -buildmode=c-shared -target=wasi -scheduler=none ./internal/testdata/noop >build/untagged.log 2>&1; then \
		echo "test-tinygo: a TinyGo build without -tags=custommalloc compiled; it must not" >&2; exit 1; \
	elif ! grep -q add_tinygo_tags_custommalloc build/untagged.log; then \
		echo "test-tinygo: a TinyGo build without -tags=custommalloc failed for another reason:" >&2; cat build/untagged.log >&2; exit 1; \
	else echo "test-tinygo: a build without -tags=custommalloc is refused, as it must be"; fi
