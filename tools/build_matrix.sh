#!/bin/sh
# tools/build_matrix.sh — build everything (runtime, tests, tools, benches) in the
# standard build types with gcc and clang-14, -Wall -Wextra -Werror kept, so a
# packager's Release or a clang build never meets a warning we have not seen.
# The other two corners are built by tools/test.sh: gcc RelWithDebInfo (build/)
# and gcc Debug + ASan/UBSan (build-asan/). Builds go to build-matrix/<cc>-<type>/.
#   tools/build_matrix.sh            gcc Release, gcc MinSizeRel, clang Release, clang Debug
#   tools/build_matrix.sh --all      every type with both compilers
set -eu
cd "$(dirname "$0")/.."
command -v clang-14 >/dev/null 2>&1 || {
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get install -y -qq --no-install-recommends clang-14 >/dev/null
}
COMBOS="gcc:Release gcc:MinSizeRel clang-14:Release clang-14:Debug"
[ "${1:-}" = "--all" ] && COMBOS="gcc:Debug gcc:Release gcc:RelWithDebInfo gcc:MinSizeRel \
clang-14:Debug clang-14:Release clang-14:RelWithDebInfo clang-14:MinSizeRel"
for combo in $COMBOS; do
    cc=${combo%%:*}
    type=${combo#*:}
    dir=build-matrix/$cc-$type
    start=$(date +%s)
    CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
    if ! cmake --build "$dir" -j"$(nproc)" >"$dir.log" 2>&1; then
        grep -E 'error|warning' "$dir.log" | head -20
        echo "build_matrix: $cc $type FAILED (log: $dir.log)"
        exit 1
    fi
    echo "build_matrix: $cc $type ok ($(( $(date +%s) - start )) s)"
done
