#!/bin/sh
# tools/test.sh — build and run every test: C tests (ctest) and Lua specs (busted, via ctest).
#   tools/test.sh           normal build
#   tools/test.sh --asan    the same tests under AddressSanitizer + UBSan
set -eu
cd "$(dirname "$0")/.."
tools/bootstrap.sh "$@"
BUILD=build
[ "${1:-}" = "--asan" ] && BUILD=build-asan
if [ "$BUILD" = build-asan ]; then
    # LuaJIT's own allocator confuses LeakSanitizer; leaks in our C are still
    # caught by the pure-C tests, which run without LuaJIT in the process.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
ctest --test-dir "$BUILD" --output-on-failure -j2
