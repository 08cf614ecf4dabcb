#!/usr/bin/env bash
# `make run`: something useful on any Linux host. With a usable /dev/kvm, the quick suite
# in guests; without one, the host-native half of the suite (the memory workloads on host
# threads: TLB curve, bandwidth, NUMA matrix, loaded latency), then how to get guest
# figures. Prints the summary either way and exits 0 unless a run failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
# VMMB_RUN_REPS and VMMB_DB let the tests run this quickly into a database of their own.
ARGS=(--reps "${VMMB_RUN_REPS:-3}")
SHOW=()
[ -n "${VMMB_DB:-}" ] && ARGS+=(--db "$VMMB_DB") && SHOW+=(--db "$VMMB_DB")
# Usable means vmm-min would accept it: present, and KVM's API answers (VMMB_KVM_DEV, as
# everywhere, names another device node).
dev=${VMMB_KVM_DEV:-/dev/kvm}
api=$("$VB" host 2>/dev/null | sed -n 's/^kvm_api: *//p')
if [ -c "$dev" ] && [ -r "$dev" ] && [ -w "$dev" ] && [ "${api:--1}" -gt 0 ] 2>/dev/null; then
  "$VB" run --suite quick "${ARGS[@]}" || exit $?
  exec "$VB" show "${SHOW[@]}"
fi
echo "vmmbench: no usable /dev/kvm here; running the host-native memory workloads instead"
"$VB" run --suite native --config native "${ARGS[@]}" || exit $?
"$VB" show "${SHOW[@]}"
cat <<'MSG'

Guest figures need KVM: load kvm_intel or kvm_amd (modprobe kvm_intel / kvm_amd, with VT-x
or AMD-V enabled in the firmware), enable nested virtualization on the VM this runs in, or
try the emulated two-node lab (functional checks, not a measurement):
  build/bin/vmmbench lab --db results/vmmbench.db -- vmmbench run --suite quick
MSG
exit 0
