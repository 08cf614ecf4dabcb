#!/usr/bin/env bash
# `make bench`: speed targets as ratios against a reference measured in the same job.
#  E1. pio-user, mmio-user and cpuid exits, ring 3 and 0, in three placements, through
#     vmm-min vs the bare KVM_RUN loop (bare_kvm), same guest, alternating; target: ratio
#     of medians <= 1.03 (tests/bench/exit-bench.sh).
#  2. whole vmm-min process for a 64 MiB guest running null vs the bare-loop program's
#     whole process; target: <= 3x, and under 20 ms.
#  3. storing 1e6 samples vs a plain prepared-insert loop; target: <= 1.2x, under 2 s.
#  4. analysis over 1,000 runs / 1,000,000 samples: `vmmbench show` under 2 s, `vmmbench
#     report` (with a comparison, plots through gnuplot) under 20 s; the figures are the
#     median of 3 whole-process runs, printed with their ratio to the target.
#  M1-M3. memory workloads vs their host-native runs: tests/bench/memory-bench.sh.
#  A1-A4. macro workloads vs their host-native runs: tests/bench/macro-bench.sh.
#  H1. `vmmbench history` over 10,000 run sets under 5 s: tests/bench/history-bench.sh.
#  I1. the ipi workload's own overhead (a bare loop with its stamps, no IPI), reported:
#     tests/bench/irq-bench.sh.
#  Q1-Q3. the quick exits under qemu-microvm vs vmm-min: wall time <= 1.5x, cpuid within
#     5%, pio/mmio-user ring 0/3 ratios reported: tests/bench/hypervisor-bench.sh.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
B=$BUILD/tests/bench
GUEST=$BUILD/share/vmmbench/guest/vmmbench-guest.elf
VM=$BUILD/bin/vmm-min
ROUNDS=${BENCH_ROUNDS:-7}
status=0
. tests/lib.sh
# median, ratio, figure, timeit, verdict: a missing figure or a failed command fails.
. tests/bench/bench-lib.sh

kvm_usable || no_kvm_bench
# Figures out of each program's output (filters for figure).
vmm_latency() { awk '$1=="latency"{sub("median=","",$3); print $3}'; }
col2() { awk '{print $2}'; }

# E1. exit latency in three placements against the bare loop (its own script, same job)
BUILD=$BUILD bash tests/bench/exit-bench.sh || status=1
# E2. the same ratios in the lab: SVM with nested paging under QEMU TCG, a KVM unlike
# this host's. Emulated time, so reported, not judged; a missing figure still fails.
echo "== E2. exit latency in the lab (tests/lab/lab-bench.sh), vmm-min vs bare loop"
VMMB_LAB_TIMEOUT=${VMMB_LAB_TIMEOUT:-900} VMMB_LAB_SCRIPT=tests/lab/lab-bench.sh VMMB_LAB_EXTRA_BINS="$B/bare_kvm" BUILD=$BUILD \
  bash tests/lab/run-lab.sh >"$B/lab-bench.txt" 2>&1
sed -n 's/^ok - lab: /   /p; s/^not ok - lab: /   FAIL /p' "$B/lab-bench.txt"
grep -q '^ok - lab: exit' "$B/lab-bench.txt" && ! grep -q '^not ok' "$B/lab-bench.txt" || status=1
echo "== 2. whole process, 64 MiB guest running null"
NP="--param batches=5 --param iters=1000 --param warmup=1"
# shellcheck disable=SC2086
vmm_ms=$(figure col2 "$B/proc_time" 31 "$VM" --kernel "$GUEST" --mem 64M --workload null $NP)
bare_ms=$(figure col2 "$B/proc_time" 31 "$B/bare_kvm" "$GUEST" null batches=5 iters=1000 warmup=1)
pratio=$(ratio "$vmm_ms" "$bare_ms")
echo "   vmm-min: $vmm_ms ms; bare-loop program: $bare_ms ms"
verdict "vmm-min/bare whole-process ratio" "$pratio" "<=" 3
verdict "vmm-min whole-process time (ms)" "$vmm_ms" "<" 20

echo "== 3. storing 1,000,000 samples: db_store_run vs a plain prepared-insert loop"
line=$("$B/bench_db_insert") || { echo "   FAILED: bench_db_insert" >&2; line=""; }
read -r _ store_s _ plain_s _ dratio <<<"$line"
echo "   db_store_run: $store_s s; plain loop: $plain_s s"
verdict "db_store_run/plain ratio" "$dratio" "<=" 1.2
verdict "db_store_run of 1e6 samples (s)" "$store_s" "<" 2
echo "== placement: create and pre-fault an 8 GiB guest vs one thread doing mmap+touch (issue 3)"
H2=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
SIZE=${BENCH_PREFAULT_SIZE:-8G}
for backing in anonymous anonymous_thp anonymous_hugetlb_2mb; do
  saved=""
  if [ "$backing" = anonymous_hugetlb_2mb ]; then
    if [ "$(id -u)" -ne 0 ] || [ ! -w "$H2" ]; then echo "SKIP $backing: needs root to size the pool"; continue; fi
    saved=$(cat "$H2"); echo $(( saved + ${SIZE%G} * 512 )) >"$H2"
  fi
  line=$("$B/bench_prefault" "$backing" "$SIZE" 3) || { echo "   FAILED: bench_prefault $backing" >&2; line=""; }
  read -r _ vmm_s _ ref_s _ pratio <<<"$line"
  [ -n "$saved" ] && echo "$saved" >"$H2"
  echo "   $backing: vmm-min $vmm_s s, reference $ref_s s"
  verdict "prefault $backing vmm/reference ratio" "$pratio" "<=" 1.1
done

# V1-V2. virtio throughput and notification paths (its own script, same job)
BUILD=$BUILD bash tests/bench/virtio-bench.sh || status=1
echo "== 4. analysis of 1,000 runs / 1,000,000 samples"
ADB=$(mktemp -d)/bench.db
"$B/make_bench_db" "$ADB" || { echo "FAIL make_bench_db: could not build the analysis database"; status=1; }
echo "   $(sqlite3 "$ADB" 'SELECT count(*) FROM runs') runs, $(sqlite3 "$ADB" 'SELECT count(*) FROM samples') samples"
show_s=$(for i in 1 2 3; do timeit "$BUILD/bin/vmmbench" show --db "$ADB"; done | median)
report_s=$(for i in 1 2 3; do timeit "$BUILD/bin/vmmbench" report --db "$ADB" --out "$(dirname "$ADB")/report" --compare base,cand; done | median)
echo "   show: $show_s s ($(ratio "$show_s" 2 %.2f) of the 2 s target); report: $report_s s ($(ratio "$report_s" 20 %.2f) of the 20 s target)"
verdict "vmmbench show, 1e6 samples (s)" "$show_s" "<" 2
verdict "vmmbench report, 1e6 samples (s)" "$report_s" "<" 20
rm -rf "$(dirname "$ADB")"
# M1-M3. memory workloads against their host-native runs (issue 4; its own script, same job)
BUILD=$BUILD bash tests/bench/memory-bench.sh || status=1
BUILD=$BUILD bash tests/bench/macro-bench.sh || status=1
# H1. history over 10,000 run sets (issue 14; its own script, same job)
BUILD=$BUILD bash tests/bench/history-bench.sh || status=1
# I1. the ipi workload's own overhead (issue 13; its own script, same job)
BUILD=$BUILD bash tests/bench/irq-bench.sh || status=1
# Q1-Q3. the same guest under qemu-microvm vs vmm-min (issue 15; its own script, same job)
BUILD=$BUILD bash tests/bench/hypervisor-bench.sh || status=1
exit $status
