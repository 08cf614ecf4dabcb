#!/usr/bin/env bash
# Runs every test: unit tests (plain and under ASan+UBSan), integration tests that boot
# real guests, and the CLI tests. Prints one closing line "N passed, N failed, N skipped"
# counting test cases, and exits non-zero if any failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
passed=0 failed=0 skipped=0 broken=""

# cmocka prints "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)..." / "[  SKIPPED ] N".
count_cmocka() {
  local log=$1 p f s
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  passed=$((passed + ${p:-0} - ${s:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
}

count_tap() {
  local log=$1
  passed=$((passed + $(grep -c '^ok - ' "$log" | head -1) - $(grep -c '# SKIP' "$log" | head -1)))
  failed=$((failed + $(grep -c '^not ok - ' "$log" | head -1)))
  skipped=$((skipped + $(grep -c '# SKIP' "$log" | head -1)))
}

run_one() {
  local kind=$1 name=$2
  shift 2
  local log
  log=$(mktemp)
  echo "=== $name"
  "$@" >"$log" 2>&1
  local rc=$?
  cat "$log"
  if [ "$kind" = cmocka ]; then count_cmocka "$log"; else count_tap "$log"; fi
  # A crash or a failure the counters did not see still fails the run.
  if [ $rc -ne 0 ]; then
    broken="$broken $name"
    grep -Eq '^\[  FAILED  \]|^not ok' "$log" || failed=$((failed + 1))
  fi
  rm -f "$log"
}

shopt -s nullglob
# Test programs: the executables, not the dependency files the compiler leaves beside them.
programs() { for f in "$@"; do [[ $f != *.d && -x $f ]] && echo "$f"; done; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in $(programs "$BUILD"/tests/unit/test_*); do
  run_one cmocka "unit/$(basename "$t")" "$t"
done
for t in $(programs "$BUILD"/asan/tests/unit/test_*); do
  run_one cmocka "asan/$(basename "$t")" "$t"
done
# Without a usable /dev/kvm (a device that opens read-write), or with VMMB_FORCE_LAB=1,
# the integration tests run inside the lab instead, all of them (tests/lab/guest-tests.sh):
# none is skipped for want of /dev/kvm. VMMB_LAB_GUESTS=0 keeps them here.
in_lab=""
[ -z "${VMMB_SKIP_LAB:-}" ] && [ "${VMMB_LAB_GUESTS:-1}" != 0 ] &&
  { [ -n "${VMMB_FORCE_LAB:-}" ] || ! { [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; }; } && in_lab=1
if [ -z "$in_lab" ]; then
for t in $(programs "$BUILD"/tests/integration/test_*); do
  run_one cmocka "integration/$(basename "$t")" "$t"
done
for t in tests/integration/test_*.sh; do
  run_one tap "integration/$(basename "$t")" env BUILD="$BUILD" bash "$t"
done
fi

# The two-node lab last: it boots a QEMU machine (a few minutes of the CI budget).
if [ -z "${VMMB_SKIP_LAB:-}" ]; then
  run_one tap "lab/run-lab.sh" env BUILD="$BUILD" bash tests/lab/run-lab.sh
  [ -n "$in_lab" ] && run_one tap "lab/guest-tests.sh" env BUILD="$BUILD" bash tests/lab/guest-tests.sh
fi

[ -n "$broken" ] && echo "failing test programs:$broken"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ -z "$broken" ]
