#!/bin/sh
# test_shard_gateways.sh — issue 14's acceptance for sharding, with real processes:
# two gateways (`main.lua --universe FILE --shard 0/2` and `1/2`, gateway ids gw0
# and gw1) against two stand-ins (the same contract list, one session each).
# Asserts:
#  - the universe (246 codes: top 200 by volume, TXF/MXF 2 months, TXO near month
#    +-10 strikes) does not fit one session (200) and is split into two shards,
#    each under the cap, no code subscribed by both, their union = the universe
#    (checked against the universe computed by a third process);
#  - the archives are in separate directories named by gateway id
#    (shioaji-gw0, shioaji-gw1) and, read back with `shijim dump`, hold exactly
#    the events each stand-in sent (multisets of payload hashes equal), no code
#    in both archives;
#  - one gateway alone with --shard 0/1 is refused with an error naming how many
#    codes do not fit.
# Subscribes are paced under Shioaji's REST limit (about 45 per 5 s,
# docs/shioaji.md), so 123 codes take about 14 s: the gateways run 21 s, ticks only, and
# the stand-ins are paused at 18 s.
set -eu
export LC_ALL=C
B=${SHJ_BUILD_DIR:-build}
SRC=${SHJ_SOURCE_DIR:-.}
T=$(mktemp -d)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
UNI=$SRC/tests/fixtures/universe/shard_test.lua
DATE=2026-11-25

# Not in $(...): a subshell's PIDS would be lost and cleanup would leave it running.
start_standin() { # $1 = name; sets PORT
    "$B/tool_standin" --port 0 --date $DATE --seed 7 --rate 3000 --nominal-rate 3000 --heartbeat-ms 500 \
        --log "$T/$1.log" --log-payloads > "$T/$1.port" 2> "$T/$1.err" &
    PIDS="$PIDS $!"
    i=0
    while ! grep -q listening "$T/$1.port" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "stand-in $1 did not start: $(cat "$T/$1.err")"; sleep 0.05
    done
    PORT=$(sed 's/.*://' "$T/$1.port")
}
start_standin s0; P0=$PORT
start_standin s1; P1=$PORT

cd "$SRC/scripts"
# The whole universe as one process sees it (the union the shards must make up).
"$B/shijim" run "$SRC/tests/fixtures/universe/print_codes.lua" "http://127.0.0.1:$P0" "$UNI" > "$T/universe.txt" \
    || fail "cannot compute the universe"
N=$(wc -l < "$T/universe.txt")
[ "$N" -gt 200 ] || fail "the test universe has $N codes, not more than one session's 200"

# One session cannot hold it: a clear error naming how many codes do not fit.
if "$B/shijim" run main.lua --url "http://127.0.0.1:$P0" --universe "$UNI" --shard 0/1 --duration 1 \
     --dir "$T/raw1" --status-every 0 --quiet > "$T/one.out" 2>&1; then
    fail "--shard 0/1 over $N codes was accepted"
fi
grep -q "shard 0/1: $((N - 200)) of the universe's $N codes do not fit" "$T/one.out" \
    || fail "no clear over-the-cap error: $(cat "$T/one.out")"

run_gw() { # $1 shard, $2 port
    "$B/shijim" run main.lua --url "http://127.0.0.1:$2" --universe "$UNI" --shard "$1/2" --gateway-id "gw$1" \
        --duration 21 --kinds tick --dir "$T/raw" --status-every 0 --quiet > "$T/gw$1.out" 2>&1
}
run_gw 0 "$P0" & G0=$!
SHARD_ID=1 TOTAL_SHARDS=2 "$B/shijim" run main.lua --url "http://127.0.0.1:$P1" --universe "$UNI" \
    --gateway-id gw1 --duration 21 --kinds tick --dir "$T/raw" --status-every 0 --quiet > "$T/gw1.out" 2>&1 & G1=$!
# Quiesce both stand-ins 3 s before the gateways stop: every event sent is then
# read and archived (an event still in a socket at the stop is not a loss of ours).
sleep 18
for p in $P0 $P1; do curl -s -X POST -d '{"fault":"pause"}' "http://127.0.0.1:$p/_standin/fault" > /dev/null; done
wait $G0 || fail "gateway 0 failed: $(cat "$T/gw0.out")"
wait $G1 || fail "gateway 1 failed: $(cat "$T/gw1.out")"

curl -s "http://127.0.0.1:$P0/_standin/subs" |  sort > "$T/subs0"
curl -s "http://127.0.0.1:$P1/_standin/subs" |  sort > "$T/subs1"
curl -s "http://127.0.0.1:$P0/_standin/stats" > /dev/null  # flushes the logs
curl -s "http://127.0.0.1:$P1/_standin/stats" > /dev/null
n0=$(wc -l < "$T/subs0"); n1=$(wc -l < "$T/subs1")
echo "universe $N codes: shard 0 subscribed $n0, shard 1 $n1"
[ "$n0" -gt 0 ] && [ "$n0" -le 200 ] || fail "shard 0 holds $n0 codes"
[ "$n1" -gt 0 ] && [ "$n1" -le 200 ] || fail "shard 1 holds $n1 codes"
both=$(comm -12 "$T/subs0" "$T/subs1" | wc -l)
[ "$both" -eq 0 ] || fail "$both codes subscribed by both shards: $(comm -12 "$T/subs0" "$T/subs1" | head -5)"
 sort -u "$T/subs0" "$T/subs1" > "$T/union"
cmp -s "$T/union" "$T/universe.txt" || fail "the shards' union is not the universe: $(diff "$T/union" "$T/universe.txt" | head -5)"

# Archives: one directory per gateway id, exactly what each stand-in sent.
for i in 0 1; do
    d="$T/raw/shioaji-gw$i"
    [ -d "$d" ] || fail "no archive directory $d ($(ls "$T/raw"))"
    "$B/shijim" dump "$d"/*.shjraw > "$T/dump$i.jsonl" || fail "dump of $d failed"
    # stand-in log: "S seq conn tag code len xxh64 payload"; market events only
    awk '$1 == "S" && $4 != "heartbeat" { print $5 }' "$T/s$i.log" |  sort > "$T/sent_codes$i"
    awk '$1 == "S" && $4 != "heartbeat" { print $7 }' "$T/s$i.log" |  sort > "$T/sent_hash$i"
done
luajit "$SRC/tests/fixtures/universe/archive_hashes.lua" "$T/dump0.jsonl" > "$T/arch_hash0"
luajit "$SRC/tests/fixtures/universe/archive_hashes.lua" "$T/dump1.jsonl" > "$T/arch_hash1"
for i in 0 1; do
    s=$(wc -l < "$T/sent_hash$i"); a=$(wc -l < "$T/arch_hash$i")
    echo "gateway $i: stand-in sent $s events, archive holds $a"
    [ "$s" -gt 100 ] || fail "stand-in $i sent only $s events"
    cmp -s "$T/sent_hash$i" "$T/arch_hash$i" || fail "archive $i differs from what stand-in $i sent ($s vs $a)"
    if sort -u "$T/sent_codes$i" | comm -23 - "$T/subs$i" | grep -q .; then
        fail "stand-in $i sent a code shard $i did not subscribe"
    fi
done
 sort -u "$T/sent_codes0" > "$T/c0"; sort -u "$T/sent_codes1" > "$T/c1"
[ "$(comm -12 "$T/c0" "$T/c1" | wc -l)" -eq 0 ] || fail "a code is in both archives"
echo "ok: $N codes in 2 shards ($n0 + $n1), archives equal the events sent, no code in both"
