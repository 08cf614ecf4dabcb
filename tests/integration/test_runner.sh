#!/usr/bin/env bash
# vmmb-test: no guest (its test programs are planted loops and sleeps)
# The test runner itself (tests/run-all.sh, sourced for its run_one in a child shell): a unit test with a
# planted infinite loop fails within its kind's time limit and is named, instead of
# hanging `make test`; what a hung shell test started dies with it; a passing program
# still passes.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# in_runner VAR=VALUE... -- FUNCTION ARGS...: calls run-all.sh's FUNCTION in a fresh
# shell that sourced it, under an outer 60 s guard (so a runner that lost its timeout
# fails these checks instead of hanging them), then sets passed, failed, skipped and
# broken from its counters; the function's output goes to $TMP/run.log.
in_runner() {
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" timeout 60 bash -c '. tests/run-all.sh; "$@" >"$RUNLOG" 2>&1
    printf "%s\n" "$passed" "$failed" "$skipped" "$broken"' _ "$@" >"$TMP/counts"
  { read -r passed; read -r failed; read -r skipped; read -r broken; } <"$TMP/counts"
  passed=${passed:-?} failed=${failed:-?} skipped=${skipped:-?}
}
export RUNLOG=$TMP/run.log

# A cmocka unit test whose second case never returns (the mutation of issue 18 that hung
# make test for 16 minutes), and one that passes.
cat >"$TMP/loop.c" <<'C'
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
static void fine(void **s) { (void)s; assert_int_equal(1 + 1, 2); }
static void forever(void **s) { (void)s; for (volatile int i = 0; i >= 0; i = i % 7) {} }
int main(int argc, char **argv)
{
    (void)argv;
    const struct CMUnitTest t[] = { cmocka_unit_test(fine), cmocka_unit_test(forever) };
    return argc > 1 ? cmocka_run_group_tests(t, NULL, NULL)        /* the looping one */
                    : _cmocka_run_group_tests("ok", t, 1, NULL, NULL);
}
C
if ! cc -std=c11 -O1 -o "$TMP/loop" "$TMP/loop.c" -lcmocka 2>"$TMP/cc.log"; then
  fail "a planted looping unit test builds" "$(cat "$TMP/cc.log")"; t_summary; exit
fi

# ---- a looping unit test: failed, named, within its limit ----
t0=$(date +%s)
in_runner VMMB_TIMEOUT_UNIT=3 -- run_one cmocka unit "unit/planted_loop" "$TMP/loop" loop
took=$(( $(date +%s) - t0 ))
[ "$took" -lt 15 ] && pass "the looping test ended within its 3 s limit plus the kill grace (${took} s)" \
  || fail "the looping test ended within its limit" "took ${took} s: $(cat "$TMP/run.log")"
[ "$failed" -eq 1 ] && pass "it counts as one failure" || fail "it counts as one failure" "failed=$failed"
grep -q 'unit/planted_loop(TIMEOUT after 3 s)' <<<"$broken" && pass "it is named in the failing programs, as timed out" \
  || fail "it is named in the failing programs, as timed out" "broken=$broken"
grep -q '^TIMEOUT: unit/planted_loop did not finish within 3 s' "$TMP/run.log" \
  && pass "the log says which program overstayed and its limit" || fail "the log says which program overstayed" "$(cat "$TMP/run.log")"
grep -q '^\[       OK \] fine' "$TMP/run.log" && pass "the output before the hang is kept" \
  || fail "the output before the hang is kept" "$(cat "$TMP/run.log")"

# ---- the same program without the looping case passes and is counted ----
in_runner VMMB_TIMEOUT_UNIT=3 -- run_one cmocka unit "unit/fine" "$TMP/loop"
[ "$passed" -eq 1 ] && [ "$failed" -eq 0 ] && [ -z "$broken" ] && pass "a passing program counts one pass, no failure" \
  || fail "a passing program counts one pass, no failure" "passed=$passed failed=$failed broken=$broken"

# ---- a hung shell test: its children die with it ----
cat >"$TMP/hang.sh" <<SH
echo "ok - before the hang"
sleep 1000 &
echo \$! >"$TMP/child.pid"
wait
SH
in_runner VMMB_TIMEOUT_INTEGRATION=2 -- run_one tap integration "integration/hang.sh" bash "$TMP/hang.sh"
child=$(cat "$TMP/child.pid" 2>/dev/null)
[ "$failed" -eq 1 ] && [ "$passed" -eq 1 ] && pass "a hung shell test: its checks so far count, and it fails once" \
  || fail "a hung shell test fails once" "passed=$passed failed=$failed: $(cat "$TMP/run.log")"
sleep 0.5
# Dead: gone, or a zombie waiting for a reaper (state Z).
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }
[ -n "$child" ] && ! alive "$child" && pass "the process it started was killed with it" \
  || { fail "the process it started was killed with it" "pid $child still runs"; kill "$child" 2>/dev/null; }
# ---- the background lane: its failures and counts reach the closing line ----
# A lane with a failing and a passing TAP script beside a foreground pass: all three
# counted, the failing one named, the lane's output printed after the foreground's.
printf 'echo "ok - lane pass"\necho "not ok - lane fail"\nexit 1\n' >"$TMP/lane.sh"
cat >"$TMP/lanes.sh" <<SH
lane_work() { run_one tap integration "integration/lane.sh" bash "$TMP/lane.sh"; }
start_lane lane_work
run_one cmocka unit "unit/fine" "$TMP/loop"
join_lane
SH
in_runner -- source "$TMP/lanes.sh"
[ "$passed" -eq 2 ] && [ "$failed" -eq 1 ] && pass "a background lane's counts are added (2 passed, 1 failed)" \
  || fail "a background lane's counts are added" "passed=$passed failed=$failed: $(cat "$TMP/run.log")"
grep -q 'integration/lane.sh' <<<"$broken" && pass "a program that failed in the lane is named" \
  || fail "a program that failed in the lane is named" "broken=$broken"
awk '/^=== unit\/fine/ {u = NR} /^=== the background lane/ {l = NR} /^not ok - lane fail/ {f = NR}
     END {exit !(u && l && f && u < l && l < f)}' "$TMP/run.log" \
  && pass "the lane's output follows the foreground's, under its heading" \
  || fail "the lane's output follows the foreground's" "$(cat "$TMP/run.log")"
# A lane killed before it wrote its counts is a failure, not silence.
cat >"$TMP/lanes2.sh" <<'SH'
lane_work() { kill -9 $BASHPID; }
start_lane lane_work
join_lane
SH
in_runner -- source "$TMP/lanes2.sh"
[ "$failed" -eq 1 ] && grep -q 'background-lane' <<<"$broken" && pass "a lane that died without counts fails the run" \
  || fail "a lane that died without counts fails the run" "failed=$failed broken=$broken"

# ---- run_jobs: two workers take one list, each job exactly once ----
# Six jobs that each note when they start and end (a 1 s sleep between): with two
# workers every job runs once, the counts add up, and two of them overlap in time (both
# workers took some); with one worker they run in order, none overlapping.
for i in 1 2 3 4 5 6; do
  printf 'echo "ok - job %s"\necho "%s $(date +%%s%%N)" >>"%s/ran"\nsleep 1\necho "%s $(date +%%s%%N)" >>"%s/ran"\n' \
    $i $i "$TMP" $i "$TMP" >"$TMP/job$i.sh"
done
cat >"$TMP/jobs.sh" <<SH
for i in 1 2 3 4 5 6; do add_job tap integration "integration/job\$i.sh" bash "$TMP/job\$i.sh"; done
run_jobs
SH
# ran_once: every job started and ended once. overlaps: how many pairs of jobs overlapped.
ran_once() { [ "$(cut -d' ' -f1 "$TMP/ran" | sort -n | uniq -c | awk '$1 == 2' | wc -l)" = 6 ]; }
overlaps() {
  awk '{ if ($1 in s) e[$1] = $2; else s[$1] = $2 }
       END { n = 0; for (i in s) for (j in s) if (i < j && s[i] < e[j] && s[j] < e[i]) n++; print n }' "$TMP/ran"
}
in_runner -- source "$TMP/jobs.sh"
[ "$passed" -eq 6 ] && ran_once && pass "run_jobs runs every job exactly once (6 passed)" \
  || fail "run_jobs runs every job exactly once" "passed=$passed ran=$(cat "$TMP/ran")"
n=$(overlaps)
[ "$n" -ge 1 ] && grep -q '^=== the background lane' "$TMP/run.log" \
  && pass "run_jobs shares the list between two workers ($n pairs of jobs overlapped)" \
  || fail "run_jobs shares the list between two workers" "no two jobs overlapped: $(cat "$TMP/ran")"
# most_at_once: the most jobs that ran at the same moment.
most_at_once() {
  awk '{ if ($1 in s) print $2, -1; else { s[$1] = 1; print $2, 1 } }' "$TMP/ran" | sort -n -k1,1 -k2,2 |
    awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
}
rm -f "$TMP/ran"
sed -i 's/^run_jobs$/run_jobs 3/' "$TMP/jobs.sh"
in_runner -- source "$TMP/jobs.sh"
n=$(most_at_once)
[ "$passed" -eq 6 ] && ran_once && [ "$n" = 3 ] && pass "run_jobs 3: three workers, three jobs at once" \
  || fail "run_jobs 3: three workers, three jobs at once" "passed=$passed at once=$n: $(cat "$TMP/ran")"
sed -i 's/^run_jobs 3$/run_jobs/' "$TMP/jobs.sh"
rm -f "$TMP/ran"
in_runner VMMB_LANES=1 -- source "$TMP/jobs.sh"
[ "$passed" -eq 6 ] && ran_once && [ "$(overlaps)" = 0 ] && [ "$(cut -d' ' -f1 "$TMP/ran" | uniq | tr '\n' ' ')" = "1 2 3 4 5 6 " ] \
  && pass "VMMB_LANES=1: one worker runs the jobs in order, none overlapping" \
  || fail "VMMB_LANES=1: one worker runs the jobs in order" "passed=$passed ran=$(cat "$TMP/ran")"

t_summary
