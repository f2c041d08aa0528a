#!/usr/bin/env bash
# End-to-end test of the plugin images (make e2e):
#   1. builds every example's image (make images) and checks that
#      rebuilding it gives byte-identical layouts;
#   2. starts a private registry (Debian's docker-registry, installed if
#      missing) on a free loopback port, with its own configuration and
#      storage in a temporary directory;
#   3. pushes every image to it (make push);
#   4. runs the e2e-tagged Go test, which pulls each image back by tag and
#      by digest as Istio's agent does and checks the module in it.
# Everything it starts is stopped, and its temporary files removed, when it
# exits, whether it passes, fails or is interrupted.
set -euo pipefail
cd "$(dirname "$0")/../.."

# E2E_MAKE is the make command (word-split), "make" by default.
MAKE=${E2E_MAKE:-make}
GO=${GO:-go}
TAG=e2e

work=$(mktemp -d)
registry_pid=
policy_guard=
cleanup() {
	if [ -n "$registry_pid" ]; then
		kill "$registry_pid" 2>/dev/null || true
		wait "$registry_pid" 2>/dev/null || true
	fi
	if [ -n "$policy_guard" ]; then rm -f /usr/sbin/policy-rc.d; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf 'e2e: %s\n' "$*"; }

. internal/e2e/lib.sh

command -v docker-registry >/dev/null || install_package docker-registry

say "building the images"
$MAKE images
$MAKE build/wasmimage >/dev/null
examples=$(for m in examples/*/main.go; do basename "$(dirname "$m")"; done)
for name in $examples; do
	build/wasmimage build -out "$work/rebuild" -tag latest "build/$name.wasm" >/dev/null
	if ! diff -r "build/oci/$name/blobs" "$work/rebuild/$name/blobs" >/dev/null; then
		say "rebuilding the image of $name did not give the same bytes" >&2
		exit 1
	fi
done
say "rebuilt every image: identical digests"

mkdir -p "$work/storage" "$work/docker"
cat >"$work/registry.yml" <<CONFIG
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  secret: e2e-only
CONFIG
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!

# The registry picks a free port and logs it.
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*msg="listening on 127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$work/registry.log")
	[ -n "$port" ] && break
	kill -0 "$registry_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	say "the registry did not start:" >&2
	cat "$work/registry.log" >&2
	exit 1
fi
registry=127.0.0.1:$port/wasmpolicy
say "registry listening on 127.0.0.1:$port"

# An empty Docker configuration: no credentials of the user's are sent to
# the test registry, and none are needed.
export DOCKER_CONFIG=$work/docker

$MAKE push REGISTRY="$registry" IMAGE_TAG="$TAG"

status=0
E2E_REGISTRY=$registry E2E_TAG=$TAG "$GO" test -tags e2e -count=1 ./internal/e2e || status=$?
if [ "$status" != 0 ]; then
	say "registry log:" >&2
	tail -n 50 "$work/registry.log" >&2
fi
exit "$status"
