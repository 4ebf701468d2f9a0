#!/bin/sh
# tools/bootstrap.sh — install what is missing (Debian 12, as root or via sudo), then build.
#   tools/bootstrap.sh            -> build/        (RelWithDebInfo)
#   tools/bootstrap.sh --asan     -> build-asan/   (AddressSanitizer + UBSan)
#   tools/bootstrap.sh --tsan     -> build-tsan/   (ThreadSanitizer)
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential cmake pkg-config luajit libluajit-5.1-dev libev-dev libcurl4-openssl-dev libnats-dev nats-server \
lua-cjson lua-busted liblz4-dev libxxhash-dev libcjson-dev zlib1g-dev clickhouse-server clickhouse-client \
curl ca-certificates libmicrohttpd-dev prometheus chromium \
libsystemd-dev python3-pandas python3-lz4 python3-xxhash"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "bootstrap: installing:$missing"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

BUILD=build
FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo"
if [ "${1:-}" = "--asan" ]; then
    BUILD=build-asan
    FLAGS="-DCMAKE_BUILD_TYPE=Debug -DSHJ_SANITIZE=ON"
elif [ "${1:-}" = "--tsan" ]; then
    BUILD=build-tsan
    FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHJ_TSAN=ON"
fi
cmake -S . -B "$BUILD" $FLAGS >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
echo "bootstrap: built $BUILD/shijim"
