#!/bin/sh
# tools/soak.sh [N] — crash soak of the recorder with ClickHouse (issue 11).
#
#   tools/soak.sh 50          50 random SIGKILLs (a few minutes)
#   SOAK_RATE=100000 SOAK_SEED=7 tools/soak.sh 20
#
# N times: start `shijim run main.lua --clickhouse` (simulated market, high
# rate) and SIGKILL it after a random 0.4..2.5 s, with ClickHouse in one of
# three states picked at random: up the whole time; down (SIGKILLed before
# the recorder starts, brought back after it died); or SIGKILLed itself in
# the middle of the run and restarted while the recorder keeps going. The
# fallback dir is deleted after every round: nothing may depend on a manual
# restore. Then one clean run (ClickHouse up, 1 s) whose start replays, by
# itself, whatever the watermarks say ClickHouse lacks.
#
# At the end, for every day file: `shijim dump --check` (blocks, checksums,
# no torn file), and `shijim verify.lua` (sequence continuity across all the
# restarts, per-kind row counts and a digest of every stored field against
# ClickHouse FINAL). Prints lost (archive rows missing from ClickHouse) and
# extra (ClickHouse rows not in the archive: duplicates under a new key).
# Exit 0 only when every check passed. Not in the default test run; ctest's
# soak_short runs it with N=5.
set -eu
cd "$(dirname "$0")/.."
N=${1:-50}
BUILD=${SHJ_BUILD_DIR:-$(pwd)/build}
RATE=${SOAK_RATE:-60000}
SEED=${SOAK_SEED:-$(date +%s)}
SHIJIM="$BUILD/shijim"
export SHJ_BUILD_DIR="$BUILD"
[ -x "$SHIJIM" ] || { echo "soak: no $SHIJIM (build first)" >&2; exit 2; }
case "$N" in ''|*[!0-9]*) echo "soak: N must be a number, got '$N'" >&2; exit 2 ;; esac

work=$(mktemp -d /tmp/shj_soak_XXXXXX)
ch="$work/ch"
rec_pid=""
cleanup() {
  [ -n "$rec_pid" ] && kill -9 "$rec_pid" 2>/dev/null || true
  tests/chserver.sh stop "$ch" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

set -- $(tests/chserver.sh start "$ch")
port=$2
DSN="clickhouse://127.0.0.1:$port/soak"
echo "soak: $N rounds, rate $RATE/s, seed $SEED, work dir $work, ClickHouse on port $port"

# rnd I MAX: a deterministic pseudo-random integer 0..MAX-1 for round I
rnd() { awk -v s="$SEED" -v i="$1" -v m="$2" 'BEGIN { srand(s * 1000 + i); print int(rand() * m) }'; }
ms() { awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }'; }

record() { # record LOG [extra args]: the recorder in the background -> rec_pid
  log=$1
  shift
  "$SHIJIM" run main.lua --dir "$work/raw" --fallback-dir "$work/fb" --clickhouse "$DSN" --rate "$RATE" \
    --quiet --status-every 0 "$@" >"$log" 2>&1 &
  rec_pid=$!
}

up=0 down=0 chkill=0
i=1
while [ "$i" -le "$N" ]; do
  mode=$(rnd "$i" 3)
  life=$((400 + $(rnd "$((i + 100000))" 2100)))
  case $mode in
  0) up=$((up + 1))
     record "$work/run$i.log"
     sleep "$(ms "$life")" ;;
  1) down=$((down + 1))
     tests/chserver.sh kill9 "$ch" >/dev/null
     record "$work/run$i.log"
     sleep "$(ms "$life")" ;;
  2) chkill=$((chkill + 1))
     record "$work/run$i.log"
     sleep "$(ms $((life / 2)))"
     tests/chserver.sh kill9 "$ch" >/dev/null
     tests/chserver.sh start "$ch" >/dev/null
     sleep "$(ms $((life / 2)))" ;;
  esac
  kill -9 "$rec_pid" 2>/dev/null || true
  wait "$rec_pid" 2>/dev/null || true
  rec_pid=""
  [ "$mode" = 1 ] && tests/chserver.sh start "$ch" >/dev/null
  rm -rf "$work/fb"
  i=$((i + 1))
done
echo "soak: $N SIGKILLs of the recorder done (ClickHouse up $up, down $down, SIGKILLed mid-run $chkill)"

record "$work/final.log" --duration 1
final_rc=0
wait "$rec_pid" || final_rc=$?
rec_pid=""
grep -h "reconcile" "$work/final.log" || true

fail=0
files=0
for f in "$work"/raw/sim/*.shjraw; do
  files=$((files + 1))
  if ! "$SHIJIM" dump --check "$f"; then fail=1; fi
  day=$(basename "$f" .shjraw)
  out=$("$SHIJIM" verify.lua --date "$day" --dir "$work/raw" --dsn "$DSN" 2>&1) || fail=1
  echo "$out"
  echo "$out" | awk -v day="$day" '
    /^archive rows:/ { for (i = 3; i <= 8; i += 2) { k = $i; gsub(",", "", $(i+1)); a[k] = $(i+1) } }
    /^clickhouse rows/ { for (i = 1; i <= NF; i++) if ($i == "tick" || $i == "quote" || $i == "bidask") { v = $(i+1); gsub(",", "", v); c[$i] = v } }
    END { lost = 0; extra = 0; n = 0
          for (k in a) { n += a[k]; d = a[k] - c[k]; if (d > 0) lost += d; else extra -= d }
          printf "soak: %s: archive rows %d, lost %d, extra %d\n", day, n, lost, extra }'
done
[ "$files" -gt 0 ] || { echo "soak: no archive file"; fail=1; }
if [ "$final_rc" != 0 ]; then echo "soak: the final clean run exited $final_rc"; tail -5 "$work/final.log"; fail=1; fi
if [ "$fail" = 0 ]; then
  echo "soak: OK ($N recorder SIGKILLs, $chkill ClickHouse SIGKILLs, $down rounds with ClickHouse down)"
  cleanup
  trap - EXIT INT TERM
  rm -rf "$work"
else
  echo "soak: FAILED (kept $work)"
fi
exit "$fail"
