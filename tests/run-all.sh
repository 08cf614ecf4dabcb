#!/usr/bin/env bash
# Runs every test: unit tests (plain and under ASan+UBSan), integration tests that boot
# real guests (plain and sanitized), the CLI tests, the fuzz targets and the lab. Prints
# one closing line "N passed, N failed, N skipped" counting test cases, and exits non-zero
# if any failed. Order: what measures nothing (the placement lab, fuzzing, the scripts
# that boot no guest, the unit tests) two at a time, then the guest tests that check only
# function two at a time, then the tests that measure, alone (run_jobs, below).
#
# Each test program runs under `timeout`, with a limit per kind that is several times what
# it takes on the 2-core development machines, so only a hang reaches it:
#   unit 120 s, asan 300 s (unit and sanitized integration tests), integration 600 s
#   (C programs and shell tests that boot guests), lab VMMB_LAB_TIMEOUT + 120 s.
# VMMB_TIMEOUT_<KIND> (UNIT, ASAN, INTEGRATION, LAB) overrides one limit, in seconds. A
# program that overstays is killed with its whole process group, counted as one failure
# and named ("TIMEOUT after N s") in the list of failing programs.
#
# VMMB_REQUIRE_KVM=1 (set by .ci/run where /dev/kvm opens read-write) turns every check
# skipped for want of KVM into a failure.
#
# Sourcing this file (tests/integration/test_runner.sh does) defines run_one and the
# counters without running anything.
set -u
BUILD=${BUILD:-build}
passed=0 failed=0 skipped=0 broken=""

# The limit (seconds) for a kind of test program.
limit_for() {
  case $1 in
    unit) echo "${VMMB_TIMEOUT_UNIT:-120}" ;;
    asan) echo "${VMMB_TIMEOUT_ASAN:-300}" ;;
    lab) echo "${VMMB_TIMEOUT_LAB:-$(( ${VMMB_LAB_TIMEOUT:-280} + 120 ))}" ;;
    # every integration test inside the lab: its own QEMU limit (1800 s) and then some
    lab-guests) echo "${VMMB_TIMEOUT_LAB_GUESTS:-1980}" ;;
    *) echo "${VMMB_TIMEOUT_INTEGRATION:-600}" ;;
  esac
}

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

# run_one FORMAT KIND NAME CMD...: FORMAT is cmocka or tap, KIND picks the time limit.
run_one() {
  local format=$1 kind=$2 name=$3
  shift 3
  local log limit rc t0=$SECONDS
  log=$(mktemp)
  limit=$(limit_for "$kind")
  echo "=== $name"
  # --kill-after: a program that ignores SIGTERM still ends. timeout signals the whole
  # process group, so guests and QEMU started by a shell test end with it.
  timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
  rc=$?
  cat "$log"
  echo "# $name: $((SECONDS - t0)) s"
  if [ "$format" = cmocka ]; then count_cmocka "$log"; else count_tap "$log"; fi
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "TIMEOUT: $name did not finish within $limit s (limit for kind '$kind'); killed"
    broken="$broken $name(TIMEOUT after ${limit} s)"
    failed=$((failed + 1))
  elif [ $rc -ne 0 ]; then
    # A crash or a failure the counters did not see still fails the run.
    broken="$broken $name"
    grep -Eq '^\[  FAILED  \]|^not ok' "$log" || failed=$((failed + 1))
  fi
  rm -f "$log"
}

shopt -s nullglob
# Test programs: the executables, not the dependency files the compiler leaves beside them.
programs() { for f in "$@"; do [[ $f != *.d && -x $f ]] && echo "$f"; done; }

# start_lane FUNC: runs FUNC (calls of run_one) in the background with counters of its
# own, its output kept for join_lane; VMMB_LANES=1 runs it here and now instead. Several
# lanes may run at once; join_lane waits for them all.
lanes=() lane_logs=() lane_counts=()
start_lane() {
  if [ "${VMMB_LANES:-2}" = 1 ]; then "$1"; return; fi
  local log counts
  log=$(mktemp) counts=$(mktemp)
  (passed=0 failed=0 skipped=0 broken=""; "$1"
   printf '%s\n' "$passed" "$failed" "$skipped" "$broken" >"$counts") >"$log" 2>&1 &
  lanes+=($!) lane_logs+=("$log") lane_counts+=("$counts")
}
# join_lane: waits for the lanes, prints each one's output and adds its counts (a lane that
# left no counts, killed say, counts as one failure).
join_lane() {
  local i p f s b
  for i in "${!lanes[@]}"; do
    wait "${lanes[i]}"
    echo "=== the background lane (run alongside the unit tests)"
    cat "${lane_logs[i]}"
    p="" f="" s="" b=""
    { read -r p; read -r f; read -r s; IFS= read -r b; } <"${lane_counts[i]}"
    passed=$((passed + ${p:-0})) failed=$((failed + ${f:-1})) skipped=$((skipped + ${s:-0}))
    broken="$broken$b"
    [ -z "$p" ] && broken="$broken background-lane(no counts)"
    rm -f "${lane_logs[i]}" "${lane_counts[i]}"
  done
  lanes=() lane_logs=() lane_counts=()
}

# jobs: what run_jobs runs next, each a run_one call (add_job FORMAT KIND NAME CMD...).
jobs=()
add_job() { jobs+=("$(printf '%q ' "$@")"); }
# run_jobs [N]: N workers (default 2), this shell and N-1 background lanes (start_lane),
# take the jobs in the order they were added, each the next one whenever it is free (a
# claim is a mkdir, which only one of them can make), so none sits idle while another has
# a list of its own left. VMMB_LANES=1: one worker, in order.
run_jobs() {
  local w
  claims=$(mktemp -d)
  for ((w = 1; w < ${1:-2}; w++)); do start_lane take_jobs; done
  take_jobs
  join_lane
  rm -rf "$claims"
  jobs=()
}
take_jobs() {
  local i
  for i in "${!jobs[@]}"; do mkdir "$claims/$i" 2>/dev/null && eval "run_one ${jobs[i]}"; done
}
# run_alone: the jobs one after the other, in this shell.
run_alone() {
  local j
  for j in "${jobs[@]}"; do eval "run_one $j"; done
  jobs=()
}
script_job() { add_job tap integration "integration/$(basename "$1")" env BUILD="$BUILD" bash "$1"; }

# Sourced: only the definitions above.
[ "${BASH_SOURCE[0]}" != "$0" ] && return 0

cd "$(dirname "$0")/.."
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Without a usable /dev/kvm (a device that opens read-write), or with VMMB_FORCE_LAB=1,
# the integration tests run inside the lab instead, all that can boot a guest
# (tests/lab/guest-tests.sh): none is skipped for want of /dev/kvm. VMMB_LAB_GUESTS=0
# keeps them here.
in_lab=""
[ -z "${VMMB_SKIP_LAB:-}" ] && [ "${VMMB_LAB_GUESTS:-1}" != 0 ] &&
  { [ -n "${VMMB_FORCE_LAB:-}" ] || ! { [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; }; } && in_lab=1
# Scripts marked "# vmmb-test: no guest" boot none without /dev/kvm (campaigns of native
# runs, history, the CI recipe, the runner, the bench verdicts) and measure nothing.
no_guest() { grep -q '^# vmmb-test: no guest' "$1"; }
# ... and of those, the ones whose checks judge real measurements ("# vmmb-test: measures")
# run alone after the first phase, not beside other work (a gate over native runs flagged
# the noise of the unit tests beside it).
measures() { grep -q '^# vmmb-test: measures' "$1"; }

# First, what measures nothing on this host, on several workers so the 2-core machines of
# CI are kept busy: the placement lab (where /dev/kvm is usable; QEMU keeps one CPU busy),
# the fuzz targets (one per CPU), the scripts that boot no guest, the unit tests (a
# slow one says "vmmb-test: slow" in its source and goes first) plain and under
# ASan+UBSan. The longest go first. A unit test whose reference needs KVM ("vmmb-test:
# kvm" in its source) runs in the lab when the integration tests do
# (tests/lab/guest-tests.sh), not here to skip.
if [ -z "${VMMB_SKIP_LAB:-}" ] && [ -z "$in_lab" ]; then
  add_job tap lab "lab/run-lab.sh" env BUILD="$BUILD" bash tests/lab/run-lab.sh
fi
# (each fuzz target replays its corpus, so crashes found before stay fixed, then fuzzes
# briefly)
add_job tap integration "fuzz/run-fuzz.sh" env BUILD="$BUILD" bash tests/fuzz/run-fuzz.sh test
for t in tests/integration/test_*.sh; do
  no_guest "$t" && ! measures "$t" && script_job "$t"
done
in_the_lab() { [ -n "$in_lab" ] && grep -q 'vmmb-test: kvm' "tests/unit/${1##*/}.c" 2>/dev/null; }
speed() { grep -q 'vmmb-test: slow' "tests/unit/${1##*/}.c" 2>/dev/null && echo slow || echo rest; }
unit_jobs() { # slow or rest
  local t
  for t in $(programs "$BUILD"/tests/unit/test_*); do
    in_the_lab "$t" || [ "$(speed "$t")" != "$1" ] || add_job cmocka unit "unit/${t##*/}" "$t"
  done
  for t in $(programs "$BUILD"/asan/tests/unit/test_*); do
    in_the_lab "$t" || [ "$(speed "$t")" != "$1" ] || add_job cmocka asan "asan/${t##*/}" "$t"
  done
}
unit_jobs slow
unit_jobs rest
# (three workers on two CPUs: some of these jobs mostly wait, on Slurm's daemons or a
# lab's boot, and with two workers vmstat showed a fifth of both CPUs idle for 50 s)
run_jobs 3
# Then the tests that judge real measurements, on a machine otherwise quiet: the no-guest
# scripts marked "# vmmb-test: measures" (a gate over native runs flagged the noise of
# the unit tests beside it), and, below, the guest tests.
for t in tests/integration/test_*.sh; do
  no_guest "$t" && measures "$t" && script_job "$t"
done
run_alone

# The tests that boot guests. Those that check only function, not figures ("vmmb-test:
# parallel" on a script's own line, or in a C program's source), run two at a time; the
# rest, which judge latencies, bandwidths, ratios and ceilings, run alone afterwards.
parallel() { grep -q '^# vmmb-test: parallel' "$1" 2>/dev/null || grep -q 'vmmb-test: parallel' "$1.c" 2>/dev/null; }
how() { parallel "$1" && echo parallel || echo alone; }
# A C program whose subject runs in another process (QEMU and its firmware) and whose own
# code a sanitized unit test already covers says "vmmb-test: plain only": it is not run a
# second time from the ASan tree, here or in the lab (tests/lab/guest-tests.sh).
plain_only() { grep -q 'vmmb-test: plain only' "$1.c" 2>/dev/null; }
guest_jobs() { # parallel or alone
  local t
  for t in $(programs "$BUILD"/tests/integration/test_*); do
    [ "$(how "tests/integration/${t##*/}")" = "$1" ] && add_job cmocka integration "integration/${t##*/}" "$t"
  done
  for t in $(programs "$BUILD"/asan/tests/integration/test_*); do
    plain_only "tests/integration/${t##*/}" && continue
    [ "$(how "tests/integration/${t##*/}")" = "$1" ] && add_job cmocka asan "asan/integration/${t##*/}" "$t"
  done
  for t in tests/integration/test_*.sh; do
    no_guest "$t" || { [ "$(how "$t")" = "$1" ] && script_job "$t"; }
  done
}
if [ -z "$in_lab" ]; then
  guest_jobs parallel
  run_jobs
  guest_jobs alone
  run_alone
elif [ -z "${VMMB_SKIP_LAB:-}" ]; then
  # Every integration test that boots a guest, in the lab, whose same boots run the
  # placement checks first.
  run_one tap lab-guests "lab/guest-tests.sh" env BUILD="$BUILD" VMMB_LAB_PLACEMENT=1 bash tests/lab/guest-tests.sh
fi

[ -n "$broken" ] && echo "failing test programs:$broken"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ -z "$broken" ]
