#!/bin/sh
# test_secret_sentinel.sh — no secret reaches any output, log, file or metric.
#
# Every command is run with secrets that cannot occur by chance (sentinels):
# a Shioaji URL password, Shioaji API/secret keys in the environment, and
# ClickHouse DSN passwords — on success paths and on error paths (a wrong
# password, an unreachable server, a misspelt DSN parameter whose value is the
# secret). Then stdout and stderr of each command (the log is on stderr, text
# and JSON), /metrics scraped during the live run, and every file the
# commands wrote (raw archive and its dumps, ClickHouse fallback, restore's
# quarantine, replay's JSONL, backtest output) are searched for each sentinel,
# and for the base64 of the URL's user:password (an Authorization header
# printed by mistake). 0 hits, and each run must have reached the path it is
# meant to exercise (else the search would prove nothing).
#
# Needs clickhouse-server (tests/chserver.sh), tool_standin, curl.
# Environment: SHJ_BUILD_DIR, SHJ_SOURCE_DIR (set by ctest).
set -u
B=$(cd "${SHJ_BUILD_DIR:-build}" && pwd)
S=$(cd "${SHJ_SOURCE_DIR:-.}" && pwd)
BIN="$B/shijim"
W=$(mktemp -d /tmp/shj-sentinel.XXXXXX)
KEEP=${KEEP:-}
OUT="$W/out"
RUN="$W/run"
mkdir -p "$OUT" "$RUN"

URLPW=SNTNLurlpw7Qx      # in --url http://u:URLPW@...
CHPW=SNTNLchpw7Qx        # ClickHouse DSN passwords
APIKEY=SNTNLkey7Qx       # SHIOAJI_API_KEY
SECKEY=SNTNLsec7Qx       # SHIOAJI_SECRET_KEY
TYPO=SNTNLtypo7Qx        # value of a misspelt DSN parameter (?pasword=...)
B64=$(printf 'u:%s' "$URLPW" | base64)

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

SPID="" MPID=""
cleanup() {
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
    [ -n "$MPID" ] && kill "$MPID" 2>/dev/null
    "$S/tests/chserver.sh" stop "$W/ch" >/dev/null 2>&1
    [ -n "$KEEP" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT INT TERM

# run NAME CMD... : stdout/stderr into $OUT/NAME.out/.err, exit code into $OUT/NAME.rc
run() {
    name=$1
    shift
    (cd "$RUN" && "$@") >"$OUT/$name.out" 2>"$OUT/$name.err"
    echo $? >"$OUT/$name.rc"
}
# expect NAME PATTERN : the run reached the path it exercises (grep -E on out+err)
expect() {
    if cat "$OUT/$1.out" "$OUT/$1.err" | grep -Eq -- "$2"; then ok "$1 shows /$2/"; else
        fail "$1 does not show /$2/ (rc $(cat "$OUT/$1.rc"))"
        tail -5 "$OUT/$1.err"
    fi
}

# ---- servers -----------------------------------------------------------------
set -- $("$S/tests/chserver.sh" start "$W/ch")
CHPORT=${2:-}
[ -n "$CHPORT" ] || { echo "FAIL: clickhouse-server did not start"; exit 1; }
"$B/tool_standin" --port 0 --log "$W/standin.log" --rate 300 --heartbeat-ms 200 >"$W/standin.port" 2>"$W/standin.err" &
SPID=$!
SPORT=""
for _ in $(seq 1 200); do
    SPORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$W/standin.port")
    [ -n "$SPORT" ] && break
    sleep 0.05
done
[ -n "$SPORT" ] || { echo "FAIL: tool_standin did not start"; exit 1; }
MPORT=$("$B/tool_free_ports" 1)
# A ClickHouse user whose password is the sentinel, so that a recording with
# the secret in its DSN really inserts (the server re-reads users.xml by itself).
sed -i "s|</users>|<snt><password>$CHPW</password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></snt></users>|" "$W/ch/users.xml"
touch -d "@$(($(date +%s) + 5))" "$W/ch/users.xml" # a different mtime, whatever the clock's granularity
snt_ok() { [ "$(curl -s -u "snt:$CHPW" --data-binary 'SELECT 7' "http://127.0.0.1:$CHPORT/")" = 7 ]; }
for _ in $(seq 1 50); do snt_ok && break; sleep 0.2; done
if ! snt_ok; then # not re-read yet: a restart reads it for sure
    "$S/tests/chserver.sh" kill9 "$W/ch" >/dev/null 2>&1
    "$S/tests/chserver.sh" start "$W/ch" >/dev/null || { echo "FAIL: clickhouse-server did not restart"; exit 1; }
fi
snt_ok || { echo "FAIL: user snt not accepted"; exit 1; }
GOOD="clickhouse://snt:$CHPW@127.0.0.1:$CHPORT/sent"        # the secret is the right password
WRONG="clickhouse://shj:$CHPW@127.0.0.1:$CHPORT/sent"     # a wrong password for user shj
DOWN="clickhouse://shj:$CHPW@127.0.0.1:1/sent"             # nothing listens on port 1
TYPODSN="clickhouse://shj@127.0.0.1:$CHPORT/sent?pasword=$TYPO"

# ---- main.lua: live source with a password in the URL and keys in the
# environment, recording into ClickHouse with the secret as its password,
# /metrics scraped while it runs and after the stop.
(
    sleep 2
    curl -s "http://127.0.0.1:$MPORT/metrics" >"$OUT/metrics_running.txt"
    curl -s "http://127.0.0.1:$MPORT/healthz" >"$OUT/healthz.txt"
    curl -s "http://127.0.0.1:$MPORT/readyz" >"$OUT/readyz.txt"
    sleep 2.5
    curl -s "http://127.0.0.1:$MPORT/metrics" >"$OUT/metrics_after.txt"
) &
MPID=$!
run main_live env SHIOAJI_API_KEY=$APIKEY SHIOAJI_SECRET_KEY=$SECKEY "$BIN" run main.lua \
    --url "http://u:$URLPW@127.0.0.1:$SPORT" --clickhouse "$GOOD" --dir "$RUN/raw" --fallback-dir "$RUN/fb" \
    --stocks 2330,2317 --futures TXFR1 --duration 4 --metrics "127.0.0.1:$MPORT" --metrics-linger 2
wait "$MPID"
MPID=""
expect main_live "clickhouse://snt:"
n=$(curl -s -u "snt:$CHPW" --data-binary 'SELECT count() FROM sent.ticks' "http://127.0.0.1:$CHPORT/")
[ "${n:-0}" -gt 0 ] 2>/dev/null && ok "main_live inserted $n ticks" || fail "main_live inserted no ticks ($n)"

# a wrong password: refused at the start
run main_wrong "$BIN" run main.lua --clickhouse "$WRONG" --dir "$RUN/raw" --fallback-dir "$RUN/fb" --duration 1
expect main_wrong "Wrong password|Authentication failed"
if grep -q '^shijim_events_total' "$OUT/metrics_running.txt" 2>/dev/null; then ok "metrics scraped"; else fail "no metrics scraped"; fi

# the same with JSON log lines
run main_json env SHIOAJI_API_KEY=$APIKEY SHIOAJI_SECRET_KEY=$SECKEY "$BIN" run main.lua \
    --url "http://u:$URLPW@127.0.0.1:$SPORT" --clickhouse "$GOOD" --dir "$RUN/raw" --fallback-dir "$RUN/fb" \
    --stocks 2330 --futures TXFR1 --duration 2 --log-format json
expect main_json '"level"'

# simulated market, ClickHouse unreachable
run main_down "$BIN" run main.lua --clickhouse "$DOWN" --dir "$RUN/raw" --fallback-dir "$RUN/fb" --duration 2 --rate 2000
expect main_down "fallback"

# a misspelt DSN parameter carrying the secret
run main_typo "$BIN" run main.lua --clickhouse "$TYPODSN" --dir "$RUN/raw" --fallback-dir "$RUN/fb" --duration 1
expect main_typo "pasword"

# the Shioaji server unreachable (password in the URL) and wrong keys in the environment
run main_url_down env SHIOAJI_API_KEY=$APIKEY SHIOAJI_SECRET_KEY=$SECKEY "$BIN" run main.lua \
    --url "http://u:$URLPW@127.0.0.1:1" --dir "$RUN/raw" --duration 2
expect main_url_down "127\.0\.0\.1:1"

ls "$RUN"/raw/*/*.shjraw >/dev/null 2>&1 && ok "raw archive written" || fail "no raw archive written"
ls "$RUN"/fb/*/*.jsonl >/dev/null 2>&1 && ok "fallback written" || fail "no fallback written"

# ---- dump every archive file
i=0
for f in "$RUN"/raw/*/*.shjraw; do
    i=$((i + 1))
    run "dump$i" "$BIN" dump "$f"
    run "dump_resync$i" "$BIN" dump --resync "$f"
done
[ "$i" -gt 0 ] && expect dump1 'tick_stk|bidask'


# ---- restore.lua: dry run, then a wrong password, an unreachable server, a misspelt parameter
cp -r "$RUN/fb" "$RUN/fb_copy"
run restore_dry "$BIN" restore.lua --fallback-dir "$RUN/fb"
expect restore_dry "total: "
run restore_wrong "$BIN" restore.lua --fallback-dir "$RUN/fb" --apply --dsn "$WRONG"
expect restore_wrong "Wrong password|Authentication failed"
run restore_down "$BIN" restore.lua --fallback-dir "$RUN/fb" --apply --dsn "$DOWN"
expect restore_down "cannot reach"
run restore_typo "$BIN" restore.lua --fallback-dir "$RUN/fb" --apply --dsn "$TYPODSN"
expect restore_typo "pasword"
run restore_http "$BIN" restore.lua --fallback-dir "$RUN/fb" --apply --dsn "http://shj:$CHPW@127.0.0.1:$CHPORT/?database=sent"
expect restore_http "Wrong password|Authentication failed"
# a malformed line is quarantined with its text: a restore that succeeds, with the rejected file written
echo '{"kind":"tick","code":"2330","close":58x.5}' >>"$(ls "$RUN"/fb_copy/ticks/*.jsonl | head -1)"
run restore_ok "$BIN" restore.lua --fallback-dir "$RUN/fb_copy" --apply --dsn "$GOOD" \
    --archive-dir "$RUN/fb_restored"
expect restore_ok "inserted [1-9]"

# ---- replay.lua into ClickHouse with the secret (refused, then unreachable) and to JSONL
ls "$RUN"/raw/shioaji/*.shjraw >/dev/null 2>&1 && ok "live archive written" || fail "no live archive written"
run replay_good "$BIN" replay.lua --archive-dir "$RUN/raw" --source shioaji --clickhouse "$GOOD" \
    --fallback-dir "$RUN/fb_replay0" --jsonl "$RUN/replay0.jsonl"
expect replay_good "clickhouse://snt:"
SRC=sim
run replay_wrong "$BIN" replay.lua --archive-dir "$RUN/raw" --source "$SRC" --clickhouse "$WRONG" \
    --fallback-dir "$RUN/fb_replay" --jsonl "$RUN/replay.jsonl"
expect replay_wrong "Wrong password|Authentication failed|authentication"
run replay_down "$BIN" replay.lua --archive-dir "$RUN/raw" --source "$SRC" --clickhouse "$DOWN" --fallback-dir "$RUN/fb_replay2"
expect replay_down "fallback|cannot reach|down"
run replay_typo "$BIN" replay.lua --archive-dir "$RUN/raw" --source "$SRC" --clickhouse "$TYPODSN"
expect replay_typo "pasword"

# ---- schema.lua
run schema_good "$BIN" schema.lua --dsn "$GOOD"
expect schema_good "."
run schema_wrong "$BIN" schema.lua --dsn "$WRONG"
expect schema_wrong "Wrong password|Authentication failed"
run schema_down "$BIN" schema.lua --dsn "$DOWN"
expect schema_down "cannot reach|connect|refused"
run schema_typo "$BIN" schema.lua --dsn "$TYPODSN" --print
expect schema_typo "pasword|CREATE"
run schema_migrate "$BIN" schema.lua --dsn "$WRONG" --migrate
expect schema_migrate "Wrong password|Authentication failed"

# ---- backtest.lua over the recorded archive (keys in the environment)
run backtest env SHIOAJI_API_KEY=$APIKEY SHIOAJI_SECRET_KEY=$SECKEY "$BIN" backtest.lua \
    --strategy "$S/scripts/strategies/ma_cross.lua" --archive-dir "$RUN/raw" --source sim --out "$RUN/bt"
expect backtest "."

# ---- the search: every output and every file written, 0 hits
# (first a control: the search does find a planted sentinel)
printf 'planted %s here\n' "$CHPW" >"$RUN/control.txt"
grep -r -a -l -F -- "$CHPW" "$OUT" "$RUN" 2>/dev/null | grep -q 'control\.txt$' || fail "the search misses a planted sentinel"
rm -f "$RUN/control.txt"
hits=0
for s in "$URLPW" "$CHPW" "$APIKEY" "$SECKEY" "$TYPO" "$B64"; do
    found=$(grep -r -a -l -F -- "$s" "$OUT" "$RUN" 2>/dev/null)
    if [ -n "$found" ]; then
        hits=$((hits + 1))
        for f in $found; do
            fail "secret $s in $f: $(grep -a -m1 -o -F -- "$s" "$f" | head -1) — $(grep -a -m1 -F -- "$s" "$f" | cut -c1-200)"
        done
    fi
done
nfiles=$(find "$OUT" "$RUN" -type f | wc -l)
[ "$hits" -eq 0 ] && ok "0 sentinel hits in $nfiles files (outputs, logs, metrics, archive, dumps, fallback, quarantine, replay JSONL, backtest output)"

if [ "$fails" -gt 0 ]; then
    echo "test_secret_sentinel: $fails failure(s)"
    exit 1
fi
echo "test_secret_sentinel: passed"
