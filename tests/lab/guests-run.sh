#!/usr/bin/env bash
# Runs inside the lab, chrooted into the host's root (tests/lab/guests-boot.sh): the
# integration tests the way tests/run-all.sh runs them on a host with /dev/kvm, taking
# the next one from the queue tests/lab/guest-tests.sh made ($QUEUE) until it is empty,
# each under a timeout, with its checks printed on the serial console as
# "LAB: ok - FILE: CHECK" / "LAB: not ok - FILE: CHECK" (a skip keeps its "# SKIP
# reason"), the evidence of a failure as "LAB:    | ..." lines, and the whole output in
# $OUT/FILE.log on the host.
set -u
cd "$REPO" || { echo "LAB: not ok - the repository $REPO is visible in the lab"; exit 0; }
export BUILD VMMB_SCALE
# The lab's CPUs take turns on one host thread (QEMU -accel tcg,thread=single): a check
# that needs CPUs running in parallel skips, naming that capability.
export VMMB_LAB_SERIAL_CPUS=1
# VMMB_LAB: the tests run in the emulated lab, for the few physics that emulation changes
# (each says how, where it reads it).
export VMMB_LAB=1
# Time limits (tests/lib.sh, stretched) get twice the iteration factor: the lab runs plain
# user code, SQLite and the statistics 15-30x slower than the KVM host (test_bounds: 3 s
# there, 94 s here; its worst run's store took 41-50 s of CPU against 5 s times 10).
export VMMB_TIME_SCALE=${VMMB_TIME_SCALE:-$((VMMB_SCALE * 2))}
# Headless Chromium is left to the host (tests/lab/deferred-browser.sh): tests keep their
# reports here instead.
export VMMB_BROWSER_DEFER=$OUT/deferred
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# lab_lines FILE < output: the test's checks as LAB lines, from cmocka's result lines
# (up to its closing summary, which lists the failed ones again) and from TAP's.
lab_lines() {
  awk -v f="$1" '
    /^\[==========\] [0-9]+ test\(s\) run/ { done = 1 }
    !done && sub(/^\[       OK \] /, "") { print "LAB: ok - " f ": " $0; next }
    !done && sub(/^\[  FAILED  \] /, "") { print "LAB: not ok - " f ": " $0; next }
    /^SKIP: / { why = substr($0, 7) }
    !done && sub(/^\[  SKIPPED \] /, "") { print "LAB: ok - " f ": " $0 " # SKIP " why; next }
    !done && /^\[  ERROR   \]|^\[   LINE   \]/ { print "LAB:    | " $0; next }
    sub(/^ok - /, "") { print "LAB: ok - " f ": " $0; next }
    sub(/^not ok - /, "") { print "LAB: not ok - " f ": " $0; next }
    sub(/^    /, "") { print "LAB:    | " $0; next }
    /^# / { print "LAB:    | " $0 }'
}

# wait_for PID SECONDS: true once PID has ended, false if it still runs after SECONDS.
wait_for() {
  local i
  for ((i = 0; i < $2; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 1; done
  ! kill -0 "$1" 2>/dev/null
}

run_test() { # NAME CMD...
  local name=$1 start rc
  shift
  start=$(date +%s)
  echo "LAB:    | # $name: started"
  # A C test program runs line-buffered, so one that overstays still shows how far it
  # got (bash's own output is unbuffered). Not the scripts: stdbuf works by LD_PRELOAD,
  # which every program they start would inherit, and ASan refuses to start behind a
  # preloaded library ("ASan runtime does not come first").
  local buf=(stdbuf -oL -eL)
  [ "$1" = bash ] || [[ $name == asan-* ]] && buf=()  # (asan-PROGRAM, asan-unit-PROGRAM)
  timeout -k 10 "$GUEST_TIMEOUT" "${buf[@]}" "$@" >"$OUT/$name.log" 2>&1 &
  local pid=$! n=0
  # Every minute, what the test is running (emulation is slow: this tells slow from stuck).
  while ! wait_for "$pid" 60; do
    n=$((n + 1))
    echo "LAB:    | # $name: still running after $n min: $(tail -n 1 "$OUT/$name.log" | cut -c1-80);" \
      "$(ps -eo etimes=,args= | awk '$2 ~ /vmm-min|vmmbench|test_/ {print $1 "s " $2 " " $3 " " $4}' | tr '\n' ';' | cut -c1-200)"
  done
  wait "$pid"
  rc=$?
  lab_lines "$name" <"$OUT/$name.log"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "LAB: not ok - $name: ran to its end within $GUEST_TIMEOUT s"
  elif [ $rc -ne 0 ] && ! grep -Eq '^\[  FAILED  \]|^not ok' "$OUT/$name.log"; then
    echo "LAB: not ok - $name: exited $rc without a failed check"; tail -5 "$OUT/$name.log" | sed 's/^/LAB:    | /'
  fi
  echo "LAB:    | # $name: $(( $(date +%s) - start )) s"
}

# command_for NAME: sets cmd to the command a queued name stands for (the names
# tests/lab/guest-tests.sh gives).
command_for() {
  case $1 in
    test_*.sh) cmd=(bash "tests/integration/$1") ;;
    asan-unit-*) cmd=("$BUILD/asan/tests/unit/${1#asan-unit-}") ;;   # ("vmmb-test: kvm" unit tests)
    unit-*) cmd=("$BUILD/tests/unit/${1#unit-}") ;;
    asan-*) cmd=("$BUILD/asan/tests/integration/${1#asan-}") ;;     # the C programs under ASan+UBSan
    *) cmd=("$BUILD/tests/integration/$1") ;;
  esac
}

# next_test: claims the first test still queued (the other lab may take one at the same
# moment: the rename succeeds for one of them only) and prints its name.
next_test() {
  local f
  for f in $(ls "$QUEUE" 2>/dev/null); do
    if mv "$QUEUE/$f" "$QUEUE/../claimed/$f" 2>/dev/null; then
      echo "$LAB_NAME" >"$QUEUE/../claimed/$f"
      echo "${f#[0-9][0-9][0-9]-}"
      return 0
    fi
  done
  return 1
}

if [ -n "${GUEST_DEBUG:-}" ]; then bash -c "$GUEST_DEBUG" 2>&1 | sed "s/^/LAB:    | /"; fi
while name=$(next_test); do
  command_for "$name"
  run_test "$name" "${cmd[@]}"
done
