#!/usr/bin/env bash
# `make bench`, exit section (run from tests/bench/run-bench.sh): vmm-min's exit latency
# against a bare KVM_RUN loop (bare_kvm) running the same guest image, workload and
# parameters, side by side in this job. Whatever vmm-min's threads, locks and
# bookkeeping add to a timed exit shows up as a ratio above 1.
#  E1. pio-user, mmio-user, cpuid, each in ring 3 and ring 0, in three placements:
#      separate  vCPU on CPU 0, vmm-min's supervisor on CPU 1 (bare loop on CPU 0)
#      unpinned  nothing pinned (both left to the scheduler)
#      2vcpu     2 vCPUs, nothing pinned (vCPU 1 parks in both)
#      target: median of 20 run medians (BENCH_EXIT_ROUNDS), vmm-min / bare <= 1.03
#      (BENCH_EXIT_LIMIT); fewer rounds leave the bimodal exit times of PVM hosts in it.
# The two programs alternate run by run (A B B A ...), so drift on this shared host lands
# on both. A figure that is missing (a run that failed) fails its verdict.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
B=$BUILD/tests/bench
GUEST=$BUILD/share/vmmbench/guest/vmmbench-guest.elf
VM=$BUILD/bin/vmm-min
ROUNDS=${BENCH_EXIT_ROUNDS:-20}
LIMIT=${BENCH_EXIT_LIMIT:-1.03}
P=${BENCH_EXIT_PARAMS:-"batches=20 iters=200 warmup=3"}
status=0
. tests/bench/bench-lib.sh
if [ "$(nproc)" -lt 2 ]; then echo "SKIP E1: needs 2 CPUs (host has $(nproc))"; exit 0; fi

placement_vmm() { case $1 in separate) echo "--pin 0 --vmm-pin 1";; unpinned) echo "";; 2vcpu) echo "--vcpus 2";; esac; }
placement_bare() { case $1 in separate) echo "--pin 0";; unpinned) echo "";; 2vcpu) echo "--vcpus 2";; esac; }
params() { printf -- '--param %s ' $P ring="$1"; }

vmm_latency() { awk '$1=="latency"{sub("median=","",$3); print $3}'; }
col2() { awk '{print $2}'; }
run_vmm() { # placement workload ring: the run's median latency, or FAILED
  # shellcheck disable=SC2046
  figure vmm_latency "$VM" --kernel "$GUEST" --workload "$2" $(placement_vmm "$1") $(params "$3")
}
run_bare() { # placement workload ring
  # shellcheck disable=SC2046,SC2086
  figure col2 "$B/bare_kvm" $(placement_bare "$1") "$GUEST" "$2" $P ring="$3"
}

verdicts=()
echo "== E1. exit latency, vmm-min vs a bare KVM_RUN loop, same guest ($ROUNDS alternating rounds each)"
printf '   %-9s %-10s %-5s %12s %12s %7s\n' placement workload ring "vmm-min ns" "bare ns" ratio
for pl in separate unpinned 2vcpu; do
  for w in pio-user mmio-user cpuid; do
    for ring in 3 0; do
      : >"$B/exit-vmm.txt"; : >"$B/exit-bare.txt"
      for r in $(seq "$ROUNDS"); do
        if [ $((r % 2)) -eq 1 ]; then
          run_vmm "$pl" "$w" "$ring" >>"$B/exit-vmm.txt"; run_bare "$pl" "$w" "$ring" >>"$B/exit-bare.txt"
        else
          run_bare "$pl" "$w" "$ring" >>"$B/exit-bare.txt"; run_vmm "$pl" "$w" "$ring" >>"$B/exit-vmm.txt"
        fi
      done
      vm_ns=$(median <"$B/exit-vmm.txt"); bare_ns=$(median <"$B/exit-bare.txt")
      ratio=$(ratio "$vm_ns" "$bare_ns")
      printf '   %-9s %-10s %-5s %12s %12s %7s\n' "$pl" "$w" "$ring" "${vm_ns:--}" "${bare_ns:--}" "${ratio:--}"
      verdicts+=("exit $pl $w ring $ring vmm-min/bare|${ratio}")
    done
  done
done
for v in "${verdicts[@]}"; do verdict "${v%|*}" "${v##*|}" "<=" "$LIMIT"; done
exit $status
