#!/bin/sh
# tools/fuzz.sh [SECONDS] [TARGET...] — build the libFuzzer targets (tests/fuzz/fuzz_*.c)
# with clang-14 + ASan + UBSan into build-fuzz/ and run each for SECONDS (default 60).
# Targets: fuzz_parse (loop vs worker path), fuzz_sse (whole vs chunked), fuzz_archive
# (sync vs prefetch vs scan), fuzz_archive_append (open-for-append recovery, then
# every record readable), fuzz_jsonl (restore's reader, Shijim's and the Python
# shijim's lines), fuzz_dsn (with a secret-leak oracle), fuzz_decimal, fuzz_ticks
# (the historical-ticks answer reader).
#
# Seeds: tests/fuzz/seeds/<target>/ (committed, small). The working corpus lives in
# build-fuzz/corpus/<target>/ so runs accumulate without touching the tree.
# A crash stops with exit 1 and leaves the reproducer in build-fuzz/crash-<target>-*.
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-60}
[ $# -gt 0 ] && shift
TARGETS=${*:-}
command -v clang-14 >/dev/null 2>&1 || {
    echo "fuzz: installing clang-14 (libFuzzer)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get install -y -qq --no-install-recommends clang-14 >/dev/null
}
tools/bootstrap.sh >/dev/null   # the Debian packages
CC=clang-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHJ_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
# every target built from tests/fuzz/fuzz_*.c (executables only: the logs are fuzz_*.log)
[ -n "$TARGETS" ] || TARGETS=$(cd build-fuzz && find . -maxdepth 1 -name 'fuzz_*' -type f -perm -u+x | sed 's|^\./||' | sort)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in $TARGETS; do
    corpus=build-fuzz/corpus/$t
    mkdir -p "$corpus"
    seeds=tests/fuzz/seeds/${t#fuzz_}
    [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
    log=build-fuzz/$t.log
    if build-fuzz/$t -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="build-fuzz/crash-$t-" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "fuzz: $t ${SECS}s ok: $execs execs, $rate/s, $cov, corpus $(ls "$corpus" | wc -l)"
    else
        echo "fuzz: $t FAILED — see $log and build-fuzz/crash-$t-*"
        tail -40 "$log"
        status=1
    fi
done
exit $status
