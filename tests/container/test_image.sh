#!/bin/sh
# tests/container/test_image.sh — build the Docker image for real and use it as
# the docs say (issue 12 part 1). Not a ctest: it needs root, podman/buildah and
# a few minutes; .ci/run calls it after the test suites.
#
#   tests/container/test_image.sh          (after tools/bootstrap.sh; as root)
#
# No Docker engine or registry here (shared/reference/containers.md): the base
# image is Debian 12 made by mmdebstrap (cached in $SHIJIM_BASE_TAR, default
# /var/tmp/shijim-base.tar), the Dockerfile is built by podman, and the image
# runs through `buildah run --isolation chroot` with host directories as volumes.
#
# What it asserts (each step fails the test):
#  1. the image builds from the Dockerfile as users build it (only BASE differs);
#  2. its config: ENTRYPOINT ["shijim"], CMD ["run","main.lua"], user 10001,
#     volumes /data/raw and /data/fallback, a HEALTHCHECK; no compiler and no
#     -dev package in the runtime image;
#  3. the image's own ENTRYPOINT+CMD (plus --duration) records the simulator
#     into a host directory mounted at /data/raw, as uid 10001, with ClickHouse
#     set only through SHIJIM_CLICKHOUSE_DSN and pointing at a port where
#     nothing listens: the rows go to /data/fallback; `build/shijim dump --check`
#     on the host verifies the .shjraw file;
#  4. the healthcheck is healthy on that fresh archive and unhealthy on a stale
#     one and on an empty directory;
#  5. `restore.lua --apply --fallback-dir /data/fallback --dsn ... --archive-dir
#     /data/fallback/archive`, run from the same image, puts every fallback
#     row into a real clickhouse-server on the host loopback: counts per table
#     equal the fallback files' lines AND the raw archive's tick/bidask records;
#     the files moved to the archive dir; a second restore finds nothing to do.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${SHJ_BUILD_DIR:-$ROOT/build}
export SHJ_BUILD_DIR="$BUILD"
IMAGE=localhost/shijim:test
BASE_IMAGE=localhost/debian:bookworm
BASE_TAR=${SHIJIM_BASE_TAR:-/var/tmp/shijim-base.tar}
RECORD_S=4

say() { echo "test_image: $*"; }
fail() { echo "test_image: FAIL: $*" >&2; exit 1; }
T0=$(date +%s)
step_t=$T0
step() {
  now=$(date +%s)
  say "[$((now - step_t)) s] done: $1"
  step_t=$now
}

[ "$(id -u)" = 0 ] || fail "needs root (podman/buildah with runc and cgroupfs, as on the CI machine)"
[ -x "$BUILD/shijim" ] && [ -x "$BUILD/tool_free_ports" ] ||
  fail "$BUILD/shijim and $BUILD/tool_free_ports are missing: run tools/bootstrap.sh first"

# Debian's container tools, installed when missing (as tools/bootstrap.sh does).
missing=""
for p in podman buildah runc mmdebstrap uidmap curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

WORK=$(mktemp -d /tmp/shijim-image.XXXXXX)
CONTAINER=""
CH_STARTED=""
cleanup() {
  rc=$?
  [ -n "$CONTAINER" ] && buildah rm "$CONTAINER" >/dev/null 2>&1 || true
  [ -n "$CH_STARTED" ] && "$ROOT/tests/chserver.sh" stop "$WORK/ch" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  if [ $rc -eq 0 ]; then say "PASS in $(( $(date +%s) - T0 )) s"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. base image (Debian 12 minbase) and the image -------------------------
if ! podman image exists "$BASE_IMAGE"; then
  if [ ! -s "$BASE_TAR" ]; then
    say "making the Debian 12 base with mmdebstrap into $BASE_TAR"
    part="${BASE_TAR%.tar}.part-$$.tar"   # mmdebstrap picks the format from ".tar"
    mmdebstrap --quiet --variant=minbase bookworm "$part"
    mv "$part" "$BASE_TAR"
  fi
  podman import --quiet "$BASE_TAR" "$BASE_IMAGE" >/dev/null
fi
step "base image $BASE_IMAGE"

# --format docker: the OCI format has no HEALTHCHECK field and podman would drop it.
podman build --quiet --runtime runc --cgroup-manager cgroupfs --format docker \
  --build-arg BASE="$BASE_IMAGE" -t "$IMAGE" "$ROOT" >"$WORK/build.log" 2>&1 ||
  { tail -n 40 "$WORK/build.log" >&2; fail "podman build failed (log above)"; }
step "podman build $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)"

# --- 2. the image's configuration ----------------------------------------------
cfg() { podman image inspect --format "$1" "$IMAGE"; }
expect() {  # expect WHAT GOT WANT
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}
expect "ENTRYPOINT" "$(cfg '{{json .Config.Entrypoint}}')" '["shijim"]'
expect "CMD" "$(cfg '{{json .Config.Cmd}}')" '["run","main.lua"]'
expect "USER" "$(cfg '{{.Config.User}}')" "10001:10001"
expect "VOLUME" "$(cfg '{{range $k, $v := .Config.Volumes}}{{$k}} {{end}}')" "/data/fallback /data/raw "
hc=$(cfg '{{json .Config.Healthcheck}}')
case "$hc" in *shijim-healthcheck*) ;; *) fail "HEALTHCHECK missing or unexpected: $hc" ;; esac
ENTRY=$(cfg '{{range .Config.Entrypoint}}{{.}} {{end}}')
CMD=$(cfg '{{range .Config.Cmd}}{{.}} {{end}}')

CONTAINER=$(buildah from --quiet "$IMAGE")
# Docker binds `-v HOST:/data/raw` over the image's declared volume. buildah
# 1.28 (Debian 12) honours only the first -v that shadows a declared volume
# and mounts its own empty volume over the others (measured: with both -v
# given, /data/raw was a buildah volume and the host directory stayed empty).
# So the working container (not the image, checked above) forgets the
# declarations and every -v below is a plain bind, as under Docker.
buildah config --volume /data/raw- --volume /data/fallback- "$CONTAINER"
run() {  # run ARGS... inside the image, with the image's user and workdir
  buildah run --isolation chroot "$@"
}
if run "$CONTAINER" -- sh -c 'command -v cc gcc cmake' >/dev/null 2>&1; then
  fail "the runtime image contains a compiler or cmake"
fi
devs=$(run "$CONTAINER" -- sh -c "dpkg-query -W -f='\${Package}\n' | grep -e '-dev\$' || true")
[ -z "$devs" ] || fail "the runtime image contains -dev packages: $devs"
expect "uid in the container" "$(run "$CONTAINER" -- id -u)" "10001"
step "image config (entrypoint, cmd, user, volumes, healthcheck, no build tools)"

# --- 3. record the simulator into host directories -----------------------------
mkdir -p "$WORK/raw" "$WORK/fallback"
chown 10001:10001 "$WORK/raw" "$WORK/fallback"   # what docs/deploy.md tells users to do
DEAD_PORT=$("$BUILD/tool_free_ports" 1)
# What `docker run -v ...:/data/raw -v ...:/data/fallback -e SHIJIM_CLICKHOUSE_DSN=... shijim`
# runs: the image's ENTRYPOINT + CMD, here with --duration appended so it stops.
# shellcheck disable=SC2086 # ENTRY and CMD are the image's words, split on purpose
# ClickHouse is down on purpose, so every row goes to the fallback and main.lua
# exits 1 saying restore is still owed (scripts/main.lua's exit summary): any
# other exit code, or 1 without that sentence, is a failed recording.
rc=0
run --env "SHIJIM_CLICKHOUSE_DSN=clickhouse://default@127.0.0.1:$DEAD_PORT/market" \
  -v "$WORK/raw:/data/raw" -v "$WORK/fallback:/data/fallback" "$CONTAINER" -- \
  $ENTRY $CMD --duration "$RECORD_S" --quiet >"$WORK/record.log" 2>&1 || rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "rows are in the fallback: run restore.lua --apply" "$WORK/record.log"; then
  cat "$WORK/record.log" >&2
  fail "recording in the container: exit $rc, want 1 with the fallback summary (log above)"
fi
grep -q "source: simulated market" "$WORK/record.log" ||
  { cat "$WORK/record.log" >&2; fail "the recording did not say it used the simulated market"; }
# One file per trading day (two if the run crossed 15:00 Taipei, the after-hours cut).
set -- "$WORK"/raw/sim/*.shjraw
[ -s "$1" ] || { cat "$WORK/record.log" >&2; fail "no .shjraw file under the host's raw dir"; }
for f in "$@"; do
  expect "owner of $f" "$(stat -c %u "$f")" "10001"
done
"$BUILD/shijim" dump --check "$@" >"$WORK/check.txt" 2>&1 ||
  { cat "$WORK/check.txt" >&2; fail "shijim dump --check rejects the file the image wrote"; }
# Ticks and bid/asks in the raw archive: what ClickHouse must end up with.
"$BUILD/shijim" dump "$@" >"$WORK/dump.jsonl"
# Raw records are Shioaji events: tick_stk/tick_fop, bidask_stk/bidask_fop, quote_stk.
RAW_TICKS=$(grep -c '"event":"tick_' "$WORK/dump.jsonl" || true)
RAW_QUOTES=$(grep -c '"event":"quote_' "$WORK/dump.jsonl" || true)
RAW_BIDASKS=$(grep -c '"event":"bidask_' "$WORK/dump.jsonl" || true)
[ "$RAW_TICKS" -gt 0 ] && [ "$RAW_BIDASKS" -gt 0 ] ||
  fail "the raw archive holds $RAW_TICKS ticks and $RAW_BIDASKS bid/asks: the simulator recorded nothing"
lines() { cat "$@" 2>/dev/null | wc -l; }
FB_TICKS=$(lines "$WORK"/fallback/ticks/*.jsonl)
FB_BIDASKS=$(lines "$WORK"/fallback/bidasks/*.jsonl)
expect "fallback tick rows vs the raw archive's ticks+quotes" "$FB_TICKS" "$((RAW_TICKS + RAW_QUOTES))"
expect "fallback bid/ask rows vs the raw archive's bid/asks" "$FB_BIDASKS" "$RAW_BIDASKS"
step "recorded ${RECORD_S} s in the image: $(echo "$@") ok; $FB_TICKS tick rows + $FB_BIDASKS bid/ask rows in the fallback"

# --- 4. the healthcheck -----------------------------------------------------------
# buildah's own "exit status 1" lines go to hc.err: only the script's verdict is kept.
hc_run() { run -v "$1:/data/raw" "$CONTAINER" -- shijim-healthcheck 2>"$WORK/hc.err"; }
out=$(hc_run "$WORK/raw") || fail "healthcheck unhealthy on a fresh archive: $out"
touch -d '10 minutes ago' "$WORK"/raw/sim/*.shjraw
if out=$(hc_run "$WORK/raw"); then fail "healthcheck healthy on a file last written 10 minutes ago: $out"; fi
case "$out" in *"last written"*) ;; *) fail "stale healthcheck does not say why: $out" ;; esac
mkdir -p "$WORK/empty"
if out=$(hc_run "$WORK/empty"); then fail "healthcheck healthy with no archive file: $out"; fi
step "healthcheck: healthy when fresh, unhealthy when stale or empty ($out)"

# --- 5. restore the fallback from the image into a real ClickHouse -----------------
CH_STARTED=1
ch=$("$ROOT/tests/chserver.sh" start "$WORK/ch") || fail "clickhouse-server did not start"
CH_PORT=${ch#* }
DSN="clickhouse://default@127.0.0.1:$CH_PORT/market"
step "clickhouse-server on 127.0.0.1:$CH_PORT"
restore() {
  run -v "$WORK/fallback:/data/fallback" "$CONTAINER" -- shijim restore.lua --apply \
    --fallback-dir /data/fallback --dsn "$DSN" --archive-dir /data/fallback/archive
}
restore >"$WORK/restore.log" 2>&1 || { cat "$WORK/restore.log" >&2; fail "restore in the container failed"; }
q() { curl -sS --fail "http://127.0.0.1:$CH_PORT/" --data-binary "$1"; }
CH_TICKS=$(q "SELECT count() FROM market.ticks FINAL")
CH_BIDASKS=$(q "SELECT count() FROM market.bidasks FINAL")
expect "rows in market.ticks" "$CH_TICKS" "$FB_TICKS"
expect "rows in market.bidasks" "$CH_BIDASKS" "$FB_BIDASKS"
grep -q "inserted $((FB_TICKS + FB_BIDASKS)) rows" "$WORK/restore.log" ||
  { cat "$WORK/restore.log" >&2; fail "restore did not report inserting $((FB_TICKS + FB_BIDASKS)) rows"; }
left=$(find "$WORK/fallback/ticks" "$WORK/fallback/bidasks" -name '*.jsonl' | wc -l)
expect "fallback files left after restore" "$left" "0"
expect "tick rows in the archive dir" "$(lines "$WORK"/fallback/archive/ticks/*.jsonl)" "$FB_TICKS"
expect "bid/ask rows in the archive dir" "$(lines "$WORK"/fallback/archive/bidasks/*.jsonl)" "$FB_BIDASKS"
restore >"$WORK/restore2.log" 2>&1 || { cat "$WORK/restore2.log" >&2; fail "second restore failed"; }
grep -q "nothing to do" "$WORK/restore2.log" ||
  { cat "$WORK/restore2.log" >&2; fail "a second restore did not find the fallback empty"; }
expect "rows in market.ticks after a second restore" "$(q "SELECT count() FROM market.ticks FINAL")" "$FB_TICKS"
step "restore from the image: $CH_TICKS ticks + $CH_BIDASKS bid/asks in ClickHouse, files archived"
