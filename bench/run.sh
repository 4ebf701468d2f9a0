#!/bin/sh
# bench/run.sh — every benchmark, with its baseline measured in the same run.
#   bench/run.sh [--perf]     (--perf adds a perf profile of the end-to-end pipeline)
# Numbers are printed and appended to bench/results/<host>-<date>.txt.
set -eu
cd "$(dirname "$0")/.."
[ -x build/shijim ] || tools/bootstrap.sh
# Benches that start helper programs (the Shioaji stand-in) find them here.
export SHJ_BUILD_DIR="$PWD/build" SHJ_SOURCE_DIR="$PWD"
mkdir -p bench/results
out="bench/results/$(uname -n)-$(date +%Y%m%d-%H%M%S).txt"
run() {
    echo "== $*" | tee -a "$out"
    "$@" 2>&1 | tee -a "$out"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
for b in build/bench_*; do
    [ -x "$b" ] || continue
    run "$b"
done
run build/shijim run bench/lua_handlers.lua
for s in bench/*.sh; do
    [ "$s" = bench/run.sh ] && continue
    run sh "$s"
done
if [ "${1:-}" = "--perf" ] && command -v perf >/dev/null; then
    echo "== perf: where the end-to-end pipeline spends its time" | tee -a "$out"
    perf record -q -o /tmp/shj-perf.data build/bench_pipeline 2000000 >/dev/null 2>&1
    perf report -i /tmp/shj-perf.data --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25 | tee -a "$out"
fi
echo "results: $out"
