#!/bin/sh
# tests/report/test_report_chromium.sh — the tear sheet rendered by headless Chromium.
# make_report.lua writes two synthetic runs' reports; check_dom.lua loads each in
# `chromium --headless --dump-dom` and asserts the charts were laid out (see there).
# Needs Debian's chromium (tools/bootstrap.sh installs it): missing, the test fails.
set -eu
B=${SHJ_BUILD_DIR:-build}
S=${SHJ_SOURCE_DIR:-.}
CHROMIUM=${CHROMIUM:-chromium}
command -v "$CHROMIUM" >/dev/null 2>&1 || { echo "test_report_chromium: $CHROMIUM not found (apt-get install chromium)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/shijim-report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$B/shijim" run "$S/tests/report/make_report.lua" "$tmp"
"$B/shijim" run "$S/tests/report/check_dom.lua" "$tmp" "$CHROMIUM"
