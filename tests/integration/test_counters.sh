#!/usr/bin/env bash
# vmmb-lab-seconds: 8 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# vmmb-test: parallel (it checks what runs and what is refused, not figures: tests/run-all.sh runs it beside another such test)
# Host PMU counters (libpfm4) on the vCPU threads through vmmbench and vmm-min: counted
# where the host has a PMU, and where it has none (PVM hosts) the run goes on and says
# why; events libpfm4 cannot encode are refused before anything runs.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
VM=$BUILD/bin/vmm-min
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

printf '[vm]\nname = x\ncounters = NO_SUCH_EVENT:BOGUS\n' >"$TMP/bad.ini"
expect_exit "an event libpfm4 cannot encode is refused" 2 "$VB" run null --config "$TMP/bad.ini" --db "$TMP/bad.db"
expect_out "the refusal names the event" "counter event 'NO_SUCH_EVENT:BOGUS': libpfm4 cannot encode it"
[ ! -e "$TMP/bad.db" ] && pass "nothing stored for the refused plan" || fail "nothing stored for the refused plan"

need_kvm
pmu=$("$VB" host | sed -n 's/^pmu_available: *//p')
printf '[vm]\nname = counted\ncounters = instructions,dtlb,llc\n' >"$TMP/c.ini"
expect_exit "a run with counters" 0 "$VB" run null:batches=3,iters=1000 cpuid:batches=3,iters=20 --config "$TMP/c.ini" --reps 1 --db "$TMP/c.db"
if [ "$pmu" = yes ]; then
  # The guest retires at least one instruction per iteration of every kept batch, so a
  # count below iterations x batches is not the vCPU thread's count.
  n=$(sqlite3 "$TMP/c.db" "SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE s.metric = 'counter.instructions'
      AND s.value >= CASE r.workload WHEN 'null' THEN 3 * 1000 WHEN 'cpuid' THEN 3 * 20 END")
  [ "$n" = 2 ] && pass "instructions counted on the vCPU thread of both runs, >= iterations x batches" \
    || fail "instructions counted, >= iterations x batches" "$n runs: $(sqlite3 "$TMP/c.db" "SELECT r.workload, s.value FROM samples s JOIN runs r ON r.id = s.run_id WHERE s.metric = 'counter.instructions'")"
else
  n=$(sqlite3 "$TMP/c.db" "SELECT count(*) FROM samples WHERE metric LIKE 'counter.%'")
  [ "$n" = 0 ] && pass "no counts stored where the host has no PMU" || fail "no counts stored where the host has no PMU" "$n"
  why=$(sqlite3 "$TMP/c.db" "SELECT count(*) FROM runs WHERE status = 'ok' AND CAST(console AS TEXT) LIKE '%host counters unavailable, run goes on without them: perf_event_open(%'")
  [ "$why" = 2 ] && pass "each run's log says why counters are missing" || fail "each run's log says why counters are missing" "$why"
  r=$(sqlite3 "$TMP/c.db" "SELECT pmu_reason FROM hosts")
  [ -n "$r" ] && pass "the host row records why the PMU is unavailable ($r)" || fail "the host row records why the PMU is unavailable"
fi
expect_exit "vmm-min --counters" 0 "$VM" --workload null --param batches=3 --param iters=10000 --counters instructions
if [ "$pmu" = yes ]; then
  c=$(sed -n 's/^ *counter.instructions .*median=\([^ ]*\).*/\1/p' <<<"$OUT" | head -1)
  awk -v c="$c" 'BEGIN{exit !(c != "" && c >= 30000)}' && pass "vmm-min prints a count >= iterations x batches ($c)" \
    || fail "vmm-min prints a count >= iterations x batches (30000)" "'$c': $OUT"
else
  expect_out "vmm-min prints why there are no counts" "vmm: host counters unavailable"
fi
t_summary
