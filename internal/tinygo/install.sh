#!/bin/sh
# Installs TinyGo into a cache directory, from the Go module proxy and
# Debian's packages alone, and prints what it does. `make tinygo` runs it;
# `make examples TOOLCHAIN=tinygo` and `make test TOOLCHAIN=tinygo` run it
# when there is no tinygo on the PATH.
#
#   install.sh DIR     installs into DIR (by default
#                      ${XDG_CACHE_HOME:-~/.cache}/wasmpolicy/tinygo-VERSION)
#                      and leaves the command at DIR/bin/tinygo
#
# What it puts together, and why these versions:
#
#   - TinyGo's source, from the Go module proxy (its module zip: the
#     compiler, its runtime and targets, without the git submodules).
#   - The compiler, built with cgo against Debian's LLVM 19 (llvm-19-dev,
#     libclang-19-dev, liblld-19-dev; clang-19 and lld-19 as the tools)
#     and under Go 1.24, the newest Go this TinyGo accepts: GOTOOLCHAIN
#     makes the go command fetch Go 1.24 from the module proxy, for the build
#     and for every later tinygo command (the wrapper DIR/bin/tinygo).
#   - The WASI C library the submodules would bring: Debian's prebuilt
#     wasi-libc package as the sysroot, and the sources TinyGo compiles a
#     few files from (musl's string and math files in wasi-libc's source
#     package, compiler-rt's builtins in LLVM's), fetched with apt-get source
#     through a deb-src list of its own, so the system's APT configuration is
#     left as it is.
#
# TinyGo 0.37.0 is the newest release whose WASI target links nottinygc:
# from 0.38 TinyGo compiles a wasi-libc of its own without ctype, and
# nottinygc's prebuilt mimalloc then fails to link (undefined symbol
# toupper). A newer TinyGo builds this module with its own collector
# (make TINYGO_GC=precise).
set -eu

VERSION=v0.37.0
GO_VERSION=go1.24.13
LLVM=19
# The sources come from the machine's own Debian release (tested: bookworm,
# Debian 12), so that they match its wasi-libc package.
DEBIAN_SUITE=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
DIR=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmpolicy/tinygo-${VERSION#v}}

say() { echo "tinygo install: $*"; }

if [ -x "$DIR/bin/tinygo" ] && "$DIR/bin/tinygo" version >/dev/null 2>&1; then
	say "already installed: $DIR/bin/tinygo ($("$DIR/bin/tinygo" version))"
	exit 0
fi

command -v apt-get >/dev/null 2>&1 || {
	say "this installer needs Debian's apt-get; elsewhere install TinyGo $VERSION (https://tinygo.org/getting-started/install/) and put tinygo on the PATH"
	exit 1
}

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

PACKAGES="llvm-$LLVM-dev libclang-$LLVM-dev liblld-$LLVM-dev clang-$LLVM lld-$LLVM wasi-libc xz-utils"
missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing Debian packages:$missing"
	$SUDO apt-get install -y -qq $missing >/dev/null 2>&1 || {
		$SUDO apt-get update -qq && $SUDO apt-get install -y -qq $missing
	}
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

say "fetching github.com/tinygo-org/tinygo@$VERSION from the Go module proxy"
SRC=$(cd "$WORK" && GOFLAGS=-mod=mod go mod download -json "github.com/tinygo-org/tinygo@$VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$SRC" ] || { say "the module proxy did not give TinyGo $VERSION"; exit 1; }

ROOT=$DIR/root
rm -rf "$DIR"
mkdir -p "$DIR/bin"
cp -R "$SRC" "$ROOT"
chmod -R u+w "$ROOT"
# The net package is a submodule TinyGo's module zip lacks; plugins do not
# use it, and an empty directory is what a checkout without it has.
mkdir -p "$ROOT/src/net"

say "building the compiler with $GO_VERSION against LLVM $LLVM (about a minute)"
(cd "$ROOT" && GOTOOLCHAIN=$GO_VERSION CGO_ENABLED=1 GOFLAGS=-mod=mod go build -tags=llvm$LLVM -o build/tinygo .)

say "fetching the wasi-libc and llvm-toolchain-$LLVM sources from Debian ($DEBIAN_SUITE)"
APT="$WORK/apt"
mkdir -p "$APT/parts" "$APT/lists/partial" "$APT/cache" "$WORK/src"
cat >"$APT/parts/src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $DEBIAN_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
APT_OPTS="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$APT/parts -o Dir::State::Lists=$APT/lists -o Dir::Cache=$APT/cache -o APT::Sandbox::User=root"
apt-get $APT_OPTS -qq update
(cd "$WORK/src" && apt-get $APT_OPTS -qq source --download-only wasi-libc "llvm-toolchain-$LLVM" >/dev/null)

LIB=$ROOT/lib
mkdir -p "$LIB/wasi-libc" "$LIB/compiler-rt-builtins"
tar -xJf "$WORK"/src/wasi-libc_*.orig.tar.xz -C "$LIB/wasi-libc" --strip-components=1
# Only compiler-rt's builtins, out of the whole LLVM source.
tar -xJf "$WORK"/src/llvm-toolchain-"$LLVM"_*.orig.tar.xz -C "$LIB/compiler-rt-builtins" \
	--strip-components=4 --wildcards '*/compiler-rt/lib/builtins/*'
mkdir -p "$LIB/wasi-libc/sysroot/lib"
cp -R /usr/lib/wasm32-wasi "$LIB/wasi-libc/sysroot/lib/wasm32-wasi"
cp -R /usr/include/wasm32-wasi "$LIB/wasi-libc/sysroot/include"

cat >"$DIR/bin/tinygo" <<WRAPPER
#!/bin/sh
# TinyGo $VERSION, installed by internal/tinygo/install.sh: it runs under
# $GO_VERSION (fetched by the go command) with its root here.
export TINYGOROOT='$ROOT' GOTOOLCHAIN=$GO_VERSION
exec '$ROOT/build/tinygo' "\$@"
WRAPPER
chmod +x "$DIR/bin/tinygo"

say "installed $("$DIR/bin/tinygo" version) at $DIR/bin/tinygo"
