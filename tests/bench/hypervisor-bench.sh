#!/usr/bin/env bash
# `make bench`, hypervisor section (run from tests/bench/run-bench.sh): the same guest
# under QEMU (hypervisor = qemu-microvm, vmm-min's reset stub as -bios) against vmm-min,
# side by side in this job, the two alternating run by run (A B B A ...).
#  Q1. the quick exits suite (null, cpuid, pio-user, mmio-user at their defaults), whole
#      vmm-min processes: wall time under QEMU / under vmm-min <= 1.5 (BENCH_HV_WALL_LIMIT),
#      the median over BENCH_HV_ROUNDS rounds.
#  Q2. cpuid (ring 3, handled inside KVM): median of run medians, QEMU / vmm-min within 5%.
#  Q3. pio-user and mmio-user in ring 3 and ring 0: QEMU / vmm-min, reported (the
#      userspace exit path of each VMM; kvm-unit-tests' inl_from_qemu against
#      inl_from_kernel is the published relation to hold them against).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
VM=$BUILD/bin/vmm-min
ROUNDS=${BENCH_HV_ROUNDS:-7}
LIMIT=${BENCH_HV_WALL_LIMIT:-1.5}
Q=qemu-microvm
status=0
. tests/bench/bench-lib.sh
B=$BUILD/tests/bench
mkdir -p "$B"
if ! "${VMMB_QEMU:-qemu-system-x86_64}" --version >/dev/null 2>&1; then
  echo "FAIL Q1-Q3: ${VMMB_QEMU:-qemu-system-x86_64} does not run (install qemu-system-x86)"; exit 1
fi

vmm_latency() { awk '$1=="latency"{sub("median=","",$3); print $3}'; }
quick_suite() { # hypervisor: the four quick exit workloads, one process each
  for w in null cpuid pio-user mmio-user; do "$VM" --hypervisor "$1" --workload "$w" >/dev/null || return 1; done
}
# both FILE_A FILE_B ROUND CMD_A... -- CMD_B...: runs the pair in alternating order
alternate() {
  local r=$1 a=$2 b=$3; shift 3
  local -a ca=() cb=(); while [ "$1" != -- ]; do ca+=("$1"); shift; done; shift; cb=("$@")
  if [ $((r % 2)) -eq 1 ]; then "${ca[@]}" >>"$a"; "${cb[@]}" >>"$b"; else "${cb[@]}" >>"$b"; "${ca[@]}" >>"$a"; fi
}

echo "== Q1. quick exits suite wall time, qemu-microvm vs vmm-min ($ROUNDS alternating rounds)"
: >"$B/hv-wall-vmm.txt"; : >"$B/hv-wall-qemu.txt"; : >"$B/hv-wall-ratio.txt"
for r in $(seq "$ROUNDS"); do
  alternate "$r" "$B/hv-wall-vmm.txt" "$B/hv-wall-qemu.txt" timeit quick_suite vmm-min -- timeit quick_suite $Q
  { ratio "$(tail -1 "$B/hv-wall-qemu.txt")" "$(tail -1 "$B/hv-wall-vmm.txt")" || printf FAILED; echo; } >>"$B/hv-wall-ratio.txt"
done
wv=$(median <"$B/hv-wall-vmm.txt"); wq=$(median <"$B/hv-wall-qemu.txt"); wr=$(median <"$B/hv-wall-ratio.txt")
printf '   vmm-min %s s, qemu-microvm %s s per suite (medians); median of round ratios %s\n' "${wv:--}" "${wq:--}" "${wr:--}"

echo "== Q2/Q3. exit latency medians (ns), median of $ROUNDS run medians each"
printf '   %-10s %-5s %12s %12s %7s\n' workload ring "vmm-min" "qemu" "q/v"
declare -A R
for w in cpuid pio-user mmio-user; do
  for ring in 3 0; do
    [ "$w" = cpuid ] && [ "$ring" = 0 ] && continue
    fa=$B/hv-$w-$ring-vmm.txt fb=$B/hv-$w-$ring-qemu.txt
    : >"$fa"; : >"$fb"
    for r in $(seq "$ROUNDS"); do
      alternate "$r" "$fa" "$fb" figure vmm_latency "$VM" --workload "$w" --param ring="$ring" -- \
        figure vmm_latency "$VM" --hypervisor $Q --workload "$w" --param ring="$ring"
    done
    a=$(median <"$fa"); b=$(median <"$fb"); R[$w.$ring]=$(ratio "$b" "$a")
    printf '   %-10s %-5s %12s %12s %7s\n' "$w" "$ring" "${a:--}" "${b:--}" "${R[$w.$ring]:--}"
  done
done

verdict "Q1 quick exits suite wall time qemu-microvm/vmm-min" "$wr" "<=" "$LIMIT"
verdict "Q2 cpuid median qemu-microvm/vmm-min (at most +5%)" "${R[cpuid.3]}" "<=" 1.05
verdict "Q2 cpuid median qemu-microvm/vmm-min (at least -5%)" "${R[cpuid.3]}" ">=" 0.95
exit $status
