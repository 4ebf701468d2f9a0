#!/bin/sh
# shijim-healthcheck — the container's HEALTHCHECK until the recorder serves
# /healthz (issue 12 part 2; this script then becomes a probe of that).
#
# Healthy (exit 0) when the newest raw archive file (*.shjraw) under
# $SHIJIM_HEALTH_DIR (default /data/raw) was modified within
# $SHIJIM_HEALTH_MAX_AGE seconds (default 120). The raw writer fsyncs every
# --fsync-ms (100 ms) while events arrive, so a recorder that stopped making
# progress — stalled loop, lost feed, full disk — turns unhealthy within that
# age. It cannot tell a closed market from a dead feed: outside trading hours
# a live Shioaji source is reported unhealthy (raise the age, or see
# docs/deploy.md). Unhealthy (exit 1) prints why on one line.
set -u
dir=${SHIJIM_HEALTH_DIR:-/data/raw}
max_age=${SHIJIM_HEALTH_MAX_AGE:-120}
case "$max_age" in
''|*[!0-9]*) echo "unhealthy: SHIJIM_HEALTH_MAX_AGE must be a whole number of seconds, got '$max_age'"; exit 1 ;;
esac
if [ ! -d "$dir" ]; then
  echo "unhealthy: $dir does not exist"
  exit 1
fi
# "%T@ %p": modification time (seconds.fraction) and path; the newest sorts last.
newest=$(find "$dir" -type f -name '*.shjraw' -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n 1)
if [ -z "$newest" ]; then
  echo "unhealthy: no raw archive file (*.shjraw) under $dir yet"
  exit 1
fi
mtime=${newest%%.*}
path=${newest#* }
age=$(( $(date +%s) - mtime ))
if [ "$age" -gt "$max_age" ]; then
  echo "unhealthy: newest raw archive file $path last written ${age}s ago (limit ${max_age}s)"
  exit 1
fi
echo "healthy: $path written ${age}s ago (limit ${max_age}s)"
exit 0
