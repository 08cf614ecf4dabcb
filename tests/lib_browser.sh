# The HTML report in headless Chromium: check_report_in_browser R TMP checks the report
# in directory R (index.html and its plots) with pass/fail lines (tests/lib.sh), using
# TMP for its files. Sourced by tests/integration/test_analysis.sh, and by
# tests/lab/deferred-browser.sh for a report the emulated lab wrote (Chromium under
# single-threaded TCG takes 8 minutes a page, so the lab leaves the browser to its host).
big() { [ -f "$1" ] && [ "$(stat -c %s "$1")" -gt "$2" ]; }

check_report_in_browser() {
  local R=$1 TMP=$2
  # Two browser runs, each given 60 s (times VMMB_SCALE under emulation, where one takes
  # about 2 minutes): the report as it is (its DOM and a screenshot in one run), then a copy
  # with two planted faults that the same checks must catch (a too-wide element and a
  # missing image).
  BROWSER=$(command -v chromium || command -v chromium-browser || true)
  if [ -z "$BROWSER" ]; then
    skip "report in headless Chromium" "chromium is not installed (mk/ensure-deps.sh installs it)"
  else
    prof=$(mktemp -d)
    flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync "--user-data-dir=$prof")
    timeout "$(stretched 60)" "$BROWSER" "${flags[@]}" --window-size=1400,900 --virtual-time-budget=5000 \
      --dump-dom --screenshot="$TMP/report.png" "file://$R/index.html" >"$TMP/dom.html" 2>/dev/null
    body=$(grep -o '<body[^>]*>' "$TMP/dom.html")
    imgs=$(sed -n 's/.*data-images="\([0-9]*\)".*/\1/p' <<<"$body")
    broken=$(sed -n 's/.*data-broken-images="\([0-9]*\)".*/\1/p' <<<"$body")
    tables=$(sed -n 's/.*data-tables="\([0-9]*\)".*/\1/p' <<<"$body")
    [ "${imgs:-0}" -ge 2 ] && [ "$broken" = 0 ] && pass "browser: every image loaded ($imgs)" || fail "browser: every image loaded" "body: $body"
    [ "${tables:-0}" -ge 5 ] && pass "browser: tables present ($tables)" || fail "browser: tables present" "body: $body"
    # The answer first: the verdict summary ends within the first 1400x900 screen, and
    # nothing sticks out to the right of the window.
    vbot=$(sed -n 's/.*data-verdict-bottom="\([0-9]*\)".*/\1/p' <<<"$body")
    over=$(sed -n 's/.*data-overflowing="\([0-9]*\)".*/\1/p' <<<"$body")
    [ -n "$vbot" ] && [ "$vbot" -le 900 ] && pass "browser: verdict summary within the first screen (ends at ${vbot}px)" || fail "browser: verdict summary within the first screen" "body: $body"
    [ "$over" = 0 ] && pass "browser: no element overflows 1400px horizontally" || fail "browser: no element overflows horizontally" "$(grep -o '<[a-z]*[^>]*data-overflow="1"' "$TMP/dom.html" | head -5)"
    grep -q '<li class=slower><b>slower</b>' "$R/index.html" && pass "verdict summary lists the regression first" || fail "verdict summary lists the regression first"
    # Runs under two hypervisors: their section is rendered with its rows (each QEMU/vmm-min
    # row a <tr data-workload=...> of table.hypervisors).
    if grep -q '<h2 id=hypervisors>' "$R/index.html"; then
      hvrows=$(sed -n '/<table class="hypervisors">/,/<\/table>/p' "$TMP/dom.html" | grep -c '<tr data-workload=')
      [ "$hvrows" -ge 1 ] && grep -q '<h2 id="hypervisors">' "$TMP/dom.html" && pass "browser: hypervisors section rendered ($hvrows rows)" || fail "browser: hypervisors section rendered" "$(grep -o '<table class="hypervisors[^>]*>' "$TMP/dom.html")"
    fi
    big "$TMP/report.png" 20000 && pass "browser: screenshot taken" || fail "browser: screenshot taken"
    [ -n "${VMMB_KEEP_SCREENSHOT:-}" ] && cp "$TMP/report.png" "$VMMB_KEEP_SCREENSHOT"
    # The same checks catch a wide element and a broken image: a copy of the report with
    # a 3000 px element, its first plot moved away.
    sed 's|<body>|<body><div style="width:3000px">wide</div>|' "$R/index.html" >"$R/faults.html"
    mv "$R/plots/exits.png" "$R/plots/exits.png.away"
    timeout "$(stretched 60)" "$BROWSER" "${flags[@]}" --window-size=1400,900 --virtual-time-budget=5000 \
      --dump-dom "file://$R/faults.html" >"$TMP/faults.html" 2>/dev/null
    mv "$R/plots/exits.png.away" "$R/plots/exits.png"
    rm -f "$R/faults.html"
    grep -q 'data-overflowing="[1-9]' "$TMP/faults.html" \
      && pass "browser: a too-wide element is detected" || fail "browser: a too-wide element is detected" "$(grep -o '<body[^>]*>' "$TMP/faults.html")"
    grep -q 'data-broken-images="1"' "$TMP/faults.html" \
      && pass "browser: a missing image is detected" || fail "browser: a missing image is detected" "$(grep -o '<body[^>]*>' "$TMP/faults.html")"
    rm -rf "$prof"
  fi
}
