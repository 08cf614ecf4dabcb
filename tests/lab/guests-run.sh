#!/usr/bin/env bash
# Runs inside the lab, chrooted into the host's root (tests/lab/guests-boot.sh): every
# integration test the way tests/run-all.sh runs them on a host with /dev/kvm, each
# under a timeout, with its checks printed on the serial console as
# "LAB: ok - FILE: CHECK" / "LAB: not ok - FILE: CHECK" (a skip keeps its "# SKIP
# reason"), the evidence of a failure as "LAB:    | ..." lines, and the whole output in
# $OUT/FILE.log on the host.
set -u
cd "$REPO" || { echo "LAB: not ok - the repository $REPO is visible in the lab"; exit 0; }
export BUILD VMMB_SCALE_DIV
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# lab_lines FILE < output: the test's checks as LAB lines (cmocka's and TAP's).
lab_lines() {
  sed -n -e "s/^\[       OK \] \(.*\)/LAB: ok - $1: \1/p" \
    -e "s/^\[  FAILED  \] \([^0-9].*\)/LAB: not ok - $1: \1/p" \
    -e "s/^\[  SKIPPED \] \([^0-9].*\)/LAB: ok - $1: \1 # SKIP (see the log)/p" \
    -e "s/^ok - \(.*\)/LAB: ok - $1: \1/p" \
    -e "s/^not ok - \(.*\)/LAB: not ok - $1: \1/p" \
    -e "s/^    \(.*\)/LAB:    | \1/p" \
    -e "s/^# \(.*\)/LAB:    | # \1/p"
}

run_test() { # NAME CMD...
  local name=$1 start rc
  shift
  case " ${GUEST_TESTS:-$name} " in *" $name "*) ;; *) return ;; esac
  start=$(date +%s)
  echo "LAB:    | # $name: started"
  timeout -k 10 "$GUEST_TIMEOUT" "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  lab_lines "$name" <"$OUT/$name.log"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "LAB: not ok - $name: ran to its end within $GUEST_TIMEOUT s"
  elif [ $rc -ne 0 ] && ! grep -Eq '^\[  FAILED  \]|^not ok' "$OUT/$name.log"; then
    echo "LAB: not ok - $name: exited $rc without a failed check"; tail -5 "$OUT/$name.log" | sed 's/^/LAB:    | /'
  fi
  echo "LAB:    | # $name: $(( $(date +%s) - start )) s"
}

if [ -n "${GUEST_DEBUG:-}" ]; then bash -c "$GUEST_DEBUG" 2>&1 | sed "s/^/LAB:    | /"; fi
shopt -s nullglob
for t in "$BUILD"/tests/integration/test_*; do
  [[ $t != *.d && -x $t ]] && run_test "$(basename "$t")" "$t"
done
for t in tests/integration/test_*.sh; do
  run_test "$(basename "$t")" bash "$t"
done
