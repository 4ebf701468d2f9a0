#!/bin/sh
# bench/ch_vs_client.sh — the ClickHouse benchmark of issue 4 (see bench/bench_ch.c):
# the writer vs clickhouse-client inserting the same rows from a file, RowBinary
# vs TabSeparated, restore rows/s, and the writer's memory under a stalled
# server, all against one throwaway clickhouse-server in the same run.
#
#   bench/ch_vs_client.sh [rows=1000000] [build dir=build]
# Results are printed and kept in bench/results/ch-<date>.txt.
set -eu
cd "$(dirname "$0")/.."
rows=${1:-1000000}
build=${2:-build}
[ -x "$build/bench_ch" ] || { echo "build first: cmake --build $build" >&2; exit 2; }
command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null ||
  { echo "needs clickhouse-server and clickhouse-client (apt-get install clickhouse-server clickhouse-client)" >&2; exit 2; }
mkdir -p bench/results
out="bench/results/ch-$(date +%Y%m%d-%H%M%S).txt"
{
  echo "# $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores, $(clickhouse-client --version)"
  SHJ_BUILD_DIR="$PWD/$build" "$build/bench_ch" "$rows"
} | tee "$out"
echo "saved $out"
