#!/usr/bin/env bash
# vmmb-lab-seconds: 10 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# vmmbench does something useful on any Linux host (issue 11): suites by area with their
# estimated time, workloads that bring their devices, native runs with no KVM at all
# (VMMB_KVM_DEV pointed at a device that does not exist stands for a host without one),
# and `make run`'s script on such a host.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
VM=$BUILD/bin/vmm-min
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
NATIVE_CFG=$BUILD/share/vmmbench/configs/native.ini

# ---- suites ----
expect_exit "list" 0 "$VB" list
for s in quick full exits memory io numa native interrupts; do
  expect_out "list shows suite $s with its estimated time" "^  $s +~ *[0-9]+ s  "
done
expect_exit "an unknown suite is refused" 2 "$VB" run --suite nosuch --db "$TMP/x.db"
expect_out "and the refusal says where the suites are" "unknown suite 'nosuch'.*vmmbench list"

# ---- without KVM: guests refused, native runs go on ----
expect_exit "a guest run without KVM exits 4" 4 env VMMB_KVM_DEV=/nonexistent "$VB" run cpuid --reps 1 --db "$TMP/nk.db"
# Without KVM the TSC's rate comes from the clock, which only an invariant TSC makes a
# constant: a host whose CPU does not say so (QEMU's TCG, the lab, cannot offer invtsc)
# refuses native runs with the reason instead of converting cycles at a wrong rate.
if ! grep -qw constant_tsc /proc/cpuinfo || ! grep -qw nonstop_tsc /proc/cpuinfo; then
  expect_exit "a native run without KVM or an invariant TSC is refused" 1 env VMMB_KVM_DEV=/nonexistent "$VB" run \
    tlb:max=1M,iters=20000,batches=2 --config "$NATIVE_CFG" --reps 1 --db "$TMP/nk.db"
  expect_out "...naming the invariant TSC it lacks" "TSC frequency is unknown .*not invariant: no constant_tsc/nonstop_tsc"
  for c in "its points are stored with a TSC frequency" "make run's script without KVM exits 0" \
           "it prints native memory results" "and how to get guest figures"; do
    skip "$c" "capability: an invariant TSC (constant_tsc, nonstop_tsc in /proc/cpuinfo)"
  done
else
  expect_exit "a native run without KVM runs" 0 env VMMB_KVM_DEV=/nonexistent "$VB" run \
    tlb:max=1M,iters=20000,batches=2 --config "$NATIVE_CFG" --reps 1 --db "$TMP/nk.db"
  ok=$(sqlite3 "$TMP/nk.db" "SELECT count(*) FROM runs WHERE status = 'ok' AND tsc_khz > 0")
  [ "${ok:-0}" -ge 2 ] && pass "its points are stored with a TSC frequency ($ok ok rows)" || fail "its points are stored with a TSC frequency" "$ok"
  OUT=$(VMMB_KVM_DEV=/nonexistent VMMB_RUN_REPS=1 VMMB_DB="$TMP/run.db" BUILD=$BUILD timeout 600 mk/run.sh 2>&1); rc=$?
  [ "$rc" -eq 0 ] && pass "make run's script without KVM exits 0" || fail "make run's script without KVM exits 0" "exit $rc: $OUT"
  expect_out "it says why it runs natively" "no usable /dev/kvm here; running the host-native memory workloads"
  expect_out "it prints native memory results (TLB latency)" "native +tlb .*latency"
  expect_out "and bandwidth" "native +bw .*bandwidth"
  expect_out "and how to get guest figures" "Guest figures need KVM: load kvm_intel or kvm_amd"
  expect_out "including nested virtualization and the lab" "enable nested virtualization"
  expect_out "...and the lab's command" "vmmbench lab --db results/vmmbench.db -- vmmbench run --suite quick"
fi

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  for c in "virtio-blk brings blk null" "virtio-net echo brings net loop" "a named device is kept"; do
    skip "$c" "capability /dev/kvm (read-write) is not available"
  done
  t_summary; exit
fi
# ---- workloads bring their devices ----
OUT=$("$VM" --workload virtio-blk --param iters=200 --param batches=2 --json 2>&1)
expect_out "virtio-blk brings blk null" '"status":"ok".*vmm: blk = null: the workload.s default device'
OUT=$("$VM" --workload virtio-net --param mode=2 --param size=64 --param qd=1 --param iters=200 --param batches=2 --json 2>&1)
expect_out "virtio-net echo brings net loop" '"status":"ok".*vmm: net = loop: the workload.s default device'
OUT=$("$VM" --workload virtio-blk --blk ram:1M --param iters=200 --param batches=2 --param size=4096 --json 2>&1)
if grep -q '"status":"ok"' <<<"$OUT" && ! grep -q "default device" <<<"$OUT"; then pass "a named device is kept"; else fail "a named device is kept" "$OUT"; fi
t_summary
