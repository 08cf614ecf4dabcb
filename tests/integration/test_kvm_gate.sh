#!/usr/bin/env bash
# vmmb-lab-seconds: 21 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# The KVM gates of the tests themselves: without a usable /dev/kvm each check behind a
# gate is reported by name, one skip line per check (shell tests, tests/lib.sh need_kvm)
# or one cmocka skip per case (C integration tests, kvm_gate.h), and VMMB_REQUIRE_KVM=1
# turns each of those skips into a failure. KVM goes missing here by pointing
# VMMB_KVM_DEV, which the tests and the binaries both honour, at a path with no device.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
NOKVM=$TMP/no-kvm-here
# tap_count FILE: checks reported in a TAP log (ok, not ok, skipped).
tap_count() { grep -Ec '^(not )?ok - ' "$1"; }

# ---- a shell test: one named skip per check, or one failure each when KVM is required ----
T=tests/integration/test_counters.sh
env -u VMMB_REQUIRE_KVM VMMB_KVM_DEV=$NOKVM BUILD=$BUILD bash "$T" >"$TMP/skip.log" 2>&1
rc=$?
nskip=$(grep -c '# SKIP capability .*no-kvm-here (read-write) is not available' "$TMP/skip.log")
[ $rc -eq 0 ] && [ "$nskip" -ge 5 ] && pass "without KVM, test_counters.sh skips its KVM checks one by one ($nskip) and passes" \
  || fail "without KVM, test_counters.sh skips its KVM checks one by one" "exit $rc, $nskip skips: $(cat "$TMP/skip.log")"
[ ! -e "$NOKVM" ] && pass "probing a missing KVM device creates nothing" || fail "probing a missing KVM device creates nothing"
dups=$(sed -n 's/^ok - \(.*\) # SKIP .*/\1/p' "$TMP/skip.log" | sort | uniq -d)
[ -z "$dups" ] && pass "each skip names its own check" || fail "each skip names its own check" "repeated: $dups"
after=$(sed -n '/^# no usable KVM/,$p' "$TMP/skip.log" | grep '^ok - ' | grep -vc '# SKIP')
[ "$after" -eq 0 ] && pass "nothing after the gate counts as passed" || fail "nothing after the gate counts as passed" "$after passes"
if kvm_usable; then
  BUILD=$BUILD bash "$T" >"$TMP/kvm.log" 2>&1
  [ "$(tap_count "$TMP/kvm.log")" -eq "$(tap_count "$TMP/skip.log")" ] \
    && pass "the gated run reports as many checks as the run with KVM ($(tap_count "$TMP/kvm.log"))" \
    || fail "the gated run reports as many checks as the run with KVM" "$(tap_count "$TMP/kvm.log") with KVM, $(tap_count "$TMP/skip.log") without"
else
  skip "the gated run reports as many checks as the run with KVM" "no usable /dev/kvm to compare with"
fi
VMMB_REQUIRE_KVM=1 VMMB_KVM_DEV=$NOKVM BUILD=$BUILD bash "$T" >"$TMP/req.log" 2>&1
rc=$?
nfail=$(grep -c '^not ok - ' "$TMP/req.log")
[ $rc -ne 0 ] && [ "$nfail" -eq "$nskip" ] && ! grep -q '# SKIP' "$TMP/req.log" \
  && pass "VMMB_REQUIRE_KVM=1 turns each of the $nskip skips into a failure" \
  || fail "VMMB_REQUIRE_KVM=1 turns each skip into a failure" "exit $rc, $nfail failures for $nskip skips: $(cat "$TMP/req.log")"
grep -q '^    KVM is required (VMMB_REQUIRE_KVM=1) but capability .*no-kvm-here' "$TMP/req.log" \
  && pass "each failure says KVM was required and what is missing" || fail "each failure says KVM was required" "$(cat "$TMP/req.log")"

# ---- a C integration test: one cmocka skip per case, or a failure each ----
C=$BUILD/tests/integration/test_guests
env -u VMMB_REQUIRE_KVM VMMB_KVM_DEV=$NOKVM "$C" >"$TMP/c-skip.log" 2>&1
rc=$?
ran=$(sed -n 's/^\[==========\] \([0-9]*\) test(s) run.*/\1/p' "$TMP/c-skip.log" | tail -1)
sk=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$TMP/c-skip.log" | tail -1)
[ $rc -eq 0 ] && [ -n "$ran" ] && [ "$ran" -gt 5 ] && [ "$sk" = "$ran" ] \
  && pass "without KVM, every case of test_guests is skipped on its own ($sk of $ran)" \
  || fail "without KVM, every case of test_guests is skipped on its own" "exit $rc, $sk skipped of $ran"
VMMB_REQUIRE_KVM=1 VMMB_KVM_DEV=$NOKVM "$C" >"$TMP/c-req.log" 2>&1
rc=$?
fl=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$TMP/c-req.log" | tail -1)
[ $rc -ne 0 ] && [ "$fl" = "$ran" ] && grep -q 'KVM is required here (VMMB_REQUIRE_KVM=1)' "$TMP/c-req.log" \
  && pass "VMMB_REQUIRE_KVM=1 fails every case of test_guests ($fl), saying why" \
  || fail "VMMB_REQUIRE_KVM=1 fails every case of test_guests" "exit $rc, $fl failed of $ran"

# ---- .ci/run requires KVM exactly where /dev/kvm opens read-write ----
grep -q 'VMMB_REQUIRE_KVM=1' .ci/run && grep -q 'kvm_usable' .ci/run \
  && pass ".ci/run sets VMMB_REQUIRE_KVM=1 behind the read-write open of /dev/kvm" \
  || fail ".ci/run sets VMMB_REQUIRE_KVM=1 behind the read-write open of /dev/kvm" "$(cat .ci/run)"
t_summary
