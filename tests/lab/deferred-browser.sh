#!/usr/bin/env bash
# The browser checks the emulated lab leaves to its host: a test inside the lab that
# would run headless Chromium (8 minutes a page under single-threaded TCG) keeps its
# report in $OUT/deferred/FILE/report instead (VMMB_BROWSER_DEFER, set by
# tests/lab/guests-run.sh); tests/lab/guest-tests.sh runs this after the lab, on the
# host, and its checks come out as "ok - lab: FILE: browser: ...", counted with the
# lab's own. A test that kept no report gets no browser check here, and fails in the
# lab for it ("report kept for the host's browser checks").
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/lib_browser.sh
DEFERRED=${1:?usage: deferred-browser.sh DIR}
status=0
for d in "$DEFERRED"/*/report; do
  [ -d "$d" ] || continue
  file=$(basename "$(dirname "$d")")
  TMP=$(mktemp -d)
  check_report_in_browser "$d" "$TMP" >"$TMP/out" 2>&1
  grep -q '^not ok' "$TMP/out" && status=1
  sed -e "s/^ok - /ok - lab: $file: /" -e "s/^not ok - /not ok - lab: $file: /" "$TMP/out"
  rm -rf "$TMP"
done
exit $status
