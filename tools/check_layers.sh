#!/bin/sh
# tools/check_layers.sh — the include rule of runtime/ (docs/architecture.md):
# a file may include headers of its own folder and of folders of a lower stage;
# never of a higher stage, nor of a peer on the same stage. core/ is below all.
#   stage 0 core | 1 parse | 2 archive | 3 loop | 4 ops (metrics: reads loop/ and
#   below; writers above register collectors with it) |
#   5 sim shioaji replay clickhouse backtest nats (peers) | 6 lua | 7 main.c
# Exit 1 with every offending line named; 0 when the tree obeys.
set -eu
cd "$(dirname "$0")/../runtime"
rank() {
    case "$1" in
        core) echo 0 ;; parse) echo 1 ;; archive) echo 2 ;; loop) echo 3 ;; ops) echo 4 ;;
        sim|shioaji|replay|clickhouse|backtest|nats) echo 5 ;; lua) echo 6 ;; .) echo 7 ;;
        *) echo "check_layers: unknown folder runtime/$1 (give it a stage here)" >&2; exit 1 ;;
    esac
}
out=$(
for f in $(find . -name '*.c' -o -name '*.h' | sort); do
    dir=$(dirname "$f" | sed 's|^\./||'); [ "$dir" = "." ] || dir=${dir%%/*}
    own=$(rank "$dir")
    grep -n '^#include "' "$f" | while IFS= read -r line; do
        inc=$(echo "$line" | sed 's/.*#include "//;s/".*//')
        case "$inc" in */*) ;; *) continue ;; esac   # same-folder include
        idir=${inc%%/*}
        [ "$idir" = "$dir" ] && continue
        r=$(rank "$idir")
        if [ "$r" -gt "$own" ] || { [ "$r" -eq "$own" ] && [ "$idir" != "$dir" ]; }; then
            echo "runtime/${f#./}:${line%%:*}: includes $inc (stage $r) from stage $own"
        fi
    done
done)
if [ -n "$out" ]; then
    echo "$out"
    echo "check_layers: $(echo "$out" | wc -l) include(s) run against the stages (docs/architecture.md)" >&2
    exit 1
fi
echo "check_layers: runtime/ includes only run downward"
