#!/usr/bin/env bash
# vmmb-test: no guest (runs no guest: its bench programs are planted failures)
# The verdict helpers of `make bench` (tests/bench/bench-lib.sh): a failed command, an
# empty or non-numeric figure must fail the target instead of becoming 0 and passing it;
# real figures still pass and fail on their merits. No KVM needed.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/bench/bench-lib.sh

# v VALUE OP LIMIT: runs verdict, sets V (its line) and VS (the status it left).
v() { status=0; V=$(verdict "figure" "$@"; echo "status=$status"); VS=${V##*status=}; V=${V%$'\n'status=*}; }
want_fail() { # NAME VALUE OP LIMIT
  local n=$1; shift
  v "$@"
  [ "$VS" = 1 ] && [[ $V == FAIL* ]] && pass "$n fails the target ($V)" || fail "$n fails the target" "status $VS: $V"
}
want_fail "an empty figure" "" "<=" 1.05
want_fail "a non-numeric figure" "abc" "<=" 1.05
want_fail "FAILED as a figure" FAILED "<" 2
want_fail "nan" nan "<=" 1.05
want_fail "inf" inf ">=" 0.5
want_fail "two numbers in one" "1.0 2.0" "<=" 3
want_fail "a real figure over its target" 1.2 "<=" 1.05
v "" "<=" 1.05
[[ $V == *"no figure"* ]] && pass "an empty figure is named as missing, not compared" || fail "an empty figure is named as missing" "$V"
v 0.97 "<=" 1.05
[ "$VS" = 0 ] && [[ $V == "PASS figure: 0.97"* ]] && pass "a real figure within its target passes" || fail "a real figure within its target passes" "$V"
v 1.5e-3 "<" 2
[ "$VS" = 0 ] && pass "an exponent figure is a number" || fail "an exponent figure is a number" "$V"

# median: no figure from nothing or from a failed round
m=$(printf '' | median); [ -z "$m" ] && pass "the median of nothing is no figure, not 0" || fail "the median of nothing is no figure" "'$m'"
m=$(printf '3\nFAILED\n1\n' | median); [ -z "$m" ] && pass "a failed round leaves no median" || fail "a failed round leaves no median" "'$m'"
m=$(printf '3\n\n1\n' | median); [ -z "$m" ] && pass "an empty round leaves no median" || fail "an empty round leaves no median" "'$m'"
m=$(printf '3\n1\n2\n' | median); [ "$m" = 2 ] && pass "median of 3 1 2 is 2" || fail "median of 3 1 2 is 2" "'$m'"
m=$(printf '4\n1\n3\n2\n' | median); [ "$m" = 2.5 ] && pass "median of four is the mean of the middle two" || fail "median of four" "'$m'"

# ratio: nothing unless both sides are numbers and the divisor is not 0
r=$(ratio "" 2); [ -z "$r" ] && pass "a ratio with an empty side is no figure" || fail "a ratio with an empty side" "'$r'"
r=$(ratio 1 0); [ -z "$r" ] && pass "a ratio over 0 is no figure" || fail "a ratio over 0" "'$r'"
r=$(ratio 3 2); [ "$r" = 1.500 ] && pass "3/2 = 1.500" || fail "3/2" "'$r'"

# timeit and figure: a failed command gives FAILED, which no verdict passes
t=$(timeit false 2>/dev/null); v "$t" "<" 2
[ "$VS" = 1 ] && pass "timeit of a failing command fails the time target ($t)" || fail "timeit of a failing command fails" "'$t': $V"
t=$(timeit true 2>/dev/null); v "$t" "<" 2
[ "$VS" = 0 ] && pass "timeit of a succeeding command passes ($t s)" || fail "timeit of a succeeding command passes" "'$t': $V"
first() { awk '{print $1}'; }
f=$(figure first sh -c 'echo 0.5; exit 3' 2>/dev/null); v "$f" "<=" 1.05
[ "$VS" = 1 ] && pass "figure of a command that printed a number but failed fails the target" || fail "figure of a failed command" "'$f': $V"
f=$(figure first sh -c 'echo; exit 0' 2>/dev/null); v "$f" "<=" 1.05
[ "$VS" = 1 ] && pass "figure of a command that printed no number fails the target" || fail "figure of an empty output" "'$f': $V"
f=$(figure first sh -c 'echo 0.5 rest' 2>/dev/null); v "$f" "<=" 1.05
[ "$VS" = 0 ] && [ "$f" = 0.5 ] && pass "figure of a succeeding command is its number" || fail "figure of a succeeding command" "'$f': $V"
# The round loops of the bench scripts: one failed round among good ones, no median.
m=$( { figure first echo 1; figure first false; figure first echo 3; } 2>/dev/null | median)
[ -z "$m" ] && pass "one failed round among good ones leaves no median" || fail "one failed round leaves no median" "'$m'"

# every bench script takes its verdicts from here
for s in run-bench.sh memory-bench.sh virtio-bench.sh exit-bench.sh; do
  if grep -q '^\. tests/bench/bench-lib.sh' "tests/bench/$s" && ! grep -q '^verdict() \|^median() ' "tests/bench/$s"; then
    pass "$s uses the shared verdict helpers"
  else fail "$s uses the shared verdict helpers" "it defines its own or does not source bench-lib.sh"; fi
done

# ---- make bench end to end, with every measuring program failing ----
# A copy of the bench scripts over a build whose programs all exit 1, run as nobody (so
# the hugetlb sections, which need root, skip instead of resizing this host's pools), with
# /dev/null standing in for a usable KVM device: every verdict must fail, none pass.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  F=$(mktemp -d /tmp/vmmb-bench-fail.XXXXXX)
  mkdir -p "$F/c/tests/bench" "$F/c/build/bin" "$F/c/build/tests/bench" "$F/c/build/share/vmmbench/guest"
  cp tests/lib.sh "$F/c/tests/" && cp tests/bench/*.sh "$F/c/tests/bench/"
  for p in bin/vmm-min bin/vmmbench tests/bench/bare_kvm tests/bench/proc_time tests/bench/bench_db_insert \
           tests/bench/bench_prefault tests/bench/make_bench_db tests/bench/bench_memcpy; do
    printf '#!/bin/sh\necho "planted failure" >&2\nexit 1\n' >"$F/c/build/$p"; chmod 755 "$F/c/build/$p"
  done
  chmod -R a+rX "$F"; chmod 1777 "$F/c/build/tests/bench"
  (cd "$F/c" && VMMB_KVM_DEV=/dev/null BENCH_ROUNDS=2 BENCH_MEM_ROUNDS=1 timeout "$(stretched 120)" \
    setpriv --reuid=65534 --regid=65534 --clear-groups bash tests/bench/run-bench.sh) >"$F/out.log" 2>&1
  rc=$?
  nfail=$(grep -c '^FAIL ' "$F/out.log"); npass=$(grep -c '^PASS ' "$F/out.log")
  [ $rc -eq 1 ] && [ "$npass" -eq 0 ] && [ "$nfail" -ge 10 ] \
    && pass "make bench with every program failing: exit 1, $nfail verdicts FAIL, none PASS" \
    || fail "make bench with every program failing fails every verdict" "exit $rc, $npass PASS, $nfail FAIL: $(cat "$F/out.log")"
  rm -rf "$F"
else
  skip "make bench with every program failing" "needs root and setpriv (the bench runs as nobody)"
fi
t_summary
