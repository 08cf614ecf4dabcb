#!/usr/bin/env bash
# Runs the libFuzzer targets ($BUILD/fuzz/fuzz_*, built by `make fuzz-build`).
#   run-fuzz.sh test [TARGET...]   every input of tests/fuzz/corpus/TARGET once, then
#                                  FUZZ_TEST_SECONDS (20) of new inputs; TAP lines for
#                                  tests/run-all.sh
#   run-fuzz.sh long [TARGET...]   FUZZ_SECONDS (600) of fuzzing per target, growing the
#                                  working corpus $BUILD/fuzz/corpus/TARGET
# Both print, per target, executions, executions per second and coverage (libFuzzer's
# "cov:", edges). A crash or a violated property leaves the input in
# $BUILD/fuzz/crashes/; fix the bug, then keep the input as a named file in
# tests/fuzz/corpus/TARGET/ so it stays a regression test.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
mode=${1:-test}
shift || true
# The config target plans runs against the built guest image.
export VMMB_SHARE_DIR=${VMMB_SHARE_DIR:-$PWD/$BUILD/share/vmmbench}
# Leaks fail the run too; UBSan reports abort, so libFuzzer keeps the input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
COMMON=(-rss_limit_mb=2048 -timeout=20 -print_final_stats=1)

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$BUILD"/fuzz/fuzz_*; do
    [[ -x $f && $f != *.d ]] && targets+=("${f##*/fuzz_}")
  done
fi
[ ${#targets[@]} -eq 0 ] && { echo "not ok - fuzz targets built (run make fuzz-build)"; exit 1; }

failed=0
# stats LOG: "N execs, N exec/s, cov N" from libFuzzer's final stats and last status line.
stats() {
  local execs rate cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$1" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$1" | tail -1 | cut -d' ' -f2)
  echo "${execs:-0} execs, ${rate:-0} exec/s, cov ${cov:-0} edges"
}

# why LOG: what a failed run said: libFuzzer's and the sanitizers' reports, else the end
# of the log (a run killed without a report still shows how it ended).
why() {
  if grep -qE 'ERROR|property|runtime error|Test unit written' "$1"; then
    grep -E 'ERROR|property|runtime error|Test unit written' "$1" | head -5
  else
    tail -8 "$1"
  fi | sed 's/^/#    /'
}

# fuzz_one TARGET: its TAP lines on stdout; fails when any of them is "not ok".
fuzz_one() {
  local t=$1 failed=0 bin seeds crash_prefix log work rc n
  bin=$BUILD/fuzz/fuzz_$t seeds=tests/fuzz/corpus/$t
  crash_prefix=$BUILD/fuzz/crashes/$t-
  if [ ! -x "$bin" ]; then
    echo "not ok - fuzz/$t: $bin is not built (make fuzz-build)"; return 1
  fi
  log=$(mktemp)
  if [ "$mode" = long ]; then
    work=$BUILD/fuzz/corpus/$t
    mkdir -p "$work"
    "$bin" "${COMMON[@]}" -max_total_time="${FUZZ_SECONDS:-600}" -artifact_prefix="$crash_prefix" \
      "$work" "$seeds" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then echo "ok - fuzz/$t: $(stats "$log")"
    else echo "not ok - fuzz/$t: $(stats "$log"), exit $rc"; why "$log"; failed=1; fi
  else
    # Replay: every kept input, crashes found earlier included, must pass.
    n=$(find "$seeds" -type f | wc -l)
    "$bin" "${COMMON[@]}" -runs=0 "$seeds" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && [ "$n" -gt 0 ]; then echo "ok - fuzz/$t: replays its corpus ($n inputs)"
    else echo "not ok - fuzz/$t: replays its corpus ($n inputs)"; why "$log"; failed=1; fi
    # New inputs, into a scratch corpus so the repository is not touched.
    work=$(mktemp -d)
    "$bin" "${COMMON[@]}" -max_total_time="${FUZZ_TEST_SECONDS:-20}" -artifact_prefix="$crash_prefix" \
      "$work" "$seeds" >"$log" 2>&1
    rc=$?
    rm -rf "$work"
    if [ $rc -eq 0 ]; then echo "ok - fuzz/$t: ${FUZZ_TEST_SECONDS:-20} s of new inputs ($(stats "$log"))"
    else echo "not ok - fuzz/$t: ${FUZZ_TEST_SECONDS:-20} s of new inputs ($(stats "$log"), exit $rc)"
         why "$log"; failed=1; fi
  fi
  rm -f "$log"
  return $failed
}

mkdir -p "$BUILD/fuzz/crashes"
# The targets run FUZZ_JOBS at a time (default: one per CPU), each into its own output,
# printed in order: a fuzzer is one busy thread.
parallel=${FUZZ_JOBS:-$(nproc)}
outs=$(mktemp -d)
i=0
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  ( fuzz_one "$t" >"$outs/$i.tap" 2>&1; echo $? >"$outs/$i.rc" ) &
  i=$((i + 1))
done
wait
for ((j = 0; j < i; j++)); do
  cat "$outs/$j.tap"
  [ "$(cat "$outs/$j.rc" 2>/dev/null)" = 0 ] || failed=1
done
rm -rf "$outs"
exit $failed
