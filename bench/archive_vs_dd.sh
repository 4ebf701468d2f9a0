#!/bin/sh
# archive_vs_dd.sh — the raw archive writer's MB/s next to dd's sequential
# write on the same disk, in the same run.
#
# Usage: bench/archive_vs_dd.sh [BUILD_DIR=build] [DIR=bench-tmp] [MILLIONS=4]
# Runs bench_archive (lz4 and none, MILLIONS x 10^6 records each) in DIR,
# then dd 2 GiB of zeros into DIR twice: with oflag=direct (the device,
# bypassing the page cache) and with conv=fdatasync (through the page cache
# plus one final fdatasync, which is what the archive does). Prints the
# bench's report and a side-by-side table. MB = 10^6 bytes. DIR's files are
# removed afterwards.
set -eu
export LC_ALL=C
BUILD=${1:-build}
DIR=${2:-bench-tmp}
M=${3:-4}
mkdir -p "$DIR"

out=$("$BUILD/bench_archive" "$DIR" "$M")
echo "$out" | grep -v '^RESULT'

# dd's last line: "2147483648 bytes (2.1 GB, 2.0 GiB) copied, 1.57 s, 1.4 GB/s"
dd_mbps() {
    awk '{ for (i = 1; i <= NF; i++) if ($i == "s,") s = $(i - 1); printf "%.0f", $1 / s / 1e6 }'
}
direct=$(dd if=/dev/zero of="$DIR/dd.bin" bs=1M count=2048 oflag=direct 2>&1 | tail -1 | dd_mbps)
rm -f "$DIR/dd.bin"
fsynced=$(dd if=/dev/zero of="$DIR/dd.bin" bs=1M count=2048 conv=fdatasync 2>&1 | tail -1 | dd_mbps)
rm -f "$DIR/dd.bin"

field() { echo "$out" | grep "^RESULT codec=$1 " | tr ' ' '\n' | grep "^$2=" | cut -d= -f2; }
echo
echo "same disk ($(df -P "$DIR" | awk 'NR == 2 { print $1 }')), same run:"
printf '  %-44s %10s\n' "writer" "MB/s"
for c in lz4 none; do
    raw=$(field $c raw_MBps)
    [ -n "$raw" ] || continue
    printf '  %-44s %10.0f\n' "raw archive $c: raw input" "$raw"
    printf '  %-44s %10.0f\n' "raw archive $c: written to disk" "$(field $c written_MBps)"
    printf '  %-44s %10.0f\n' "raw archive $c: raw input per writer core" "$(field $c writer_core_MBps)"
    printf '  %-44s %10.2f\n' "raw archive $c: M records/s" "$(echo "$(field $c rec_per_s)" | awk '{ print $1 / 1e6 }')"
done
printf '  %-44s %10s\n' "dd bs=1M count=2048 oflag=direct" "$direct"
printf '  %-44s %10s\n' "dd bs=1M count=2048 conv=fdatasync" "$fsynced"
