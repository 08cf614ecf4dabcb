#!/usr/bin/env bash
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
expect_exit "a run with counters" 0 "$VB" run null:batches=3 cpuid:batches=3,iters=20 --config "$TMP/c.ini" --reps 1 --db "$TMP/c.db"
n=$(sqlite3 "$TMP/c.db" "SELECT count(*) FROM samples WHERE metric = 'counter.instructions' AND value > 0")
if [ "$pmu" = yes ]; then
  [ "$n" = 2 ] && pass "instructions counted on the vCPU thread of both runs" || fail "instructions counted" "$n"
else
  [ "$n" = 0 ] && pass "no counts stored where the host has no PMU" || fail "no counts stored where the host has no PMU" "$n"
  why=$(sqlite3 "$TMP/c.db" "SELECT count(*) FROM runs WHERE status = 'ok' AND CAST(console AS TEXT) LIKE '%host counters unavailable, run goes on without them: perf_event_open(%'")
  [ "$why" = 2 ] && pass "each run's log says why counters are missing" || fail "each run's log says why counters are missing" "$why"
  r=$(sqlite3 "$TMP/c.db" "SELECT pmu_reason FROM hosts")
  [ -n "$r" ] && pass "the host row records why the PMU is unavailable ($r)" || fail "the host row records why the PMU is unavailable"
fi
expect_exit "vmm-min --counters" 0 "$VM" --workload null --param batches=3 --counters instructions
if [ "$pmu" = yes ]; then
  expect_out "vmm-min prints the count" "counter.instructions"
else
  expect_out "vmm-min prints why there are no counts" "vmm: host counters unavailable"
fi
t_summary
