#!/bin/sh
# tools/test.sh — build and run every test: C tests (ctest) and Lua specs (busted, one ctest test per spec file).
#   tools/test.sh           normal build
#   tools/test.sh --asan    the same tests under AddressSanitizer + UBSan
#   tools/test.sh --tsan    the tests of the modules that own threads (archive
#                           writer and read-ahead, replay's parse workers,
#                           ClickHouse fallback, Shioaji on the archive, the
#                           metrics server, the logger, the NATS publisher
#                           and consumer threads) under
#                           ThreadSanitizer: any data race fails them
set -eu
cd "$(dirname "$0")/.."
tools/bootstrap.sh "$@"
BUILD=build
[ "${1:-}" = "--asan" ] && BUILD=build-asan
if [ "${1:-}" = "--tsan" ]; then
    # Not the Lua specs (luajit is not instrumented), nor the slowest C tests
    # whose threads these already cover (test_archive, test_ch_record), nor
    # test_ch_stall, whose timing assumptions do not survive TSan's slowdown.
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
    exec ctest --test-dir build-tsan --output-on-failure -j2 \
        -R 'test_(archive_prefetch|archive_torn|archive_crash|archive_resync|watchdog|replay|pipeline|ch_outage|ch_writer|ch_fallback|ch_enospc|shioaji_backpressure|shioaji_stream|shioaji_backfill|ops_health|ops_log|nats_cluster)$'
fi
if [ "$BUILD" = build-asan ]; then
    # LuaJIT's own allocator confuses LeakSanitizer; leaks in our C are still
    # caught by the pure-C tests, which run without LuaJIT in the process.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
ctest --test-dir "$BUILD" --output-on-failure -j2
