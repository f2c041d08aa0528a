#!/usr/bin/env bash
# End-to-end test of the global rate limit against the real parts
# (make e2e-ratelimit):
#   1. installs Debian's redis-server if it is missing, without starting or
#      enabling the system service it ships;
#   2. builds Envoy's rate limit service, github.com/envoyproxy/ratelimit,
#      from the Go module proxy at a pinned version, into a cache directory
#      ($E2E_CACHE, ~/.cache/wasmpolicy-e2e by default), once;
#   3. builds build/globalratelimit.wasm;
#   4. runs the e2e_ratelimit-tagged Go test, which starts Redis and the
#      service on free loopback ports with their configuration and data in a
#      temporary directory, sends traffic through two hosts, stops Redis and
#      the service mid-run, and stops whatever is left when it ends.
# The temporary directory is removed when the script exits, whether it
# passes, fails or is interrupted.
set -euo pipefail
cd "$(dirname "$0")/../.."

MAKE=${E2E_MAKE:-make}
GO=${GO:-go}
# A version of the service that builds with the Go of this repository.
RATELIMIT_VERSION=v1.4.1-0.20260122083618-3fb702589d36
CACHE=${E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmpolicy-e2e}

work=$(mktemp -d)
policy_guard=
cleanup() {
	if [ -n "$policy_guard" ]; then rm -f /usr/sbin/policy-rc.d; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf 'e2e-ratelimit: %s\n' "$*"; }
. internal/e2e/lib.sh

command -v redis-server >/dev/null || install_package redis-server

service=$CACHE/ratelimit-$RATELIMIT_VERSION/service_cmd
if [ ! -x "$service" ]; then
	say "building github.com/envoyproxy/ratelimit@$RATELIMIT_VERSION"
	mkdir -p "$(dirname "$service")"
	(cd "$work" && GOBIN=$(dirname "$service") GOFLAGS=-mod=mod "$GO" install "github.com/envoyproxy/ratelimit/src/service_cmd@$RATELIMIT_VERSION")
fi

$MAKE build/globalratelimit.wasm

E2E_REDIS_SERVER=$(command -v redis-server) E2E_RATELIMIT_SERVICE=$service E2E_WORK=$work \
	"$GO" test -tags e2e_ratelimit -count=1 -run TestGlobalRateLimit -v ./internal/e2e
