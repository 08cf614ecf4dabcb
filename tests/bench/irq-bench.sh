#!/usr/bin/env bash
# `make bench`, interrupts section (run from tests/bench/run-bench.sh): the ipi workload's
# own overhead. Each ipi event is preceded, in the same guest and on the same vCPU, by a
# bare loop body with the same fenced TSC stamps and the same shared-memory read of the
# receiver's count, and no IPI (the calibration record, stored as timing_floor). That
# floor is what the workload itself adds to each one-way figure (the VMM subtracts it).
#  I1. median over BENCH_IRQ_ROUNDS runs (default 5; vCPUs pinned to CPUs 0 and 1) of
#      the run's median floor, in ns, next to the median one-way latency and the share
#      of the raw measurement (latency + floor) that is the workload's own. Reported;
#      the verdict only asks that the figures exist and that the workload's own part is
#      under half of what it measures (a floor above that would drown the IPI).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
B=$BUILD/tests/bench
GUEST=$BUILD/share/vmmbench/guest/vmmbench-guest.elf
VM=$BUILD/bin/vmm-min
ROUNDS=${BENCH_IRQ_ROUNDS:-5}
EVENTS=${BENCH_IRQ_EVENTS:-200}
status=0
. tests/bench/bench-lib.sh
if [ "$(nproc)" -lt 2 ]; then echo "SKIP I1: needs 2 CPUs (host has $(nproc))"; exit 0; fi
mkdir -p "$B"

# Filters for figure: the run's median timing floor (cycles) and one-way latency (ns).
floor_cycles() { awk '$1=="timing_floor"{sub("median=","",$3); print $3}'; }
oneway_ns() { awk '$1=="[path=oneway]" && $2=="latency"{sub("median=","",$4); print $4}'; }
khz() { awk '$1=="tsc"{print $2}'; }

echo "== I1. ipi: the workload's own overhead (same guest, same TSC stamping, no IPI), $ROUNDS runs"
: >"$B/irq-floor.txt"; : >"$B/irq-oneway.txt"
for r in $(seq "$ROUNDS"); do
  out=$("$VM" --kernel "$GUEST" --workload ipi --vcpus 2 --pin 0,1 --param events="$EVENTS" 2>&1)
  k=$(khz <<<"$out")
  f=$(floor_cycles <<<"$out")
  if is_number "$f" && is_number "$k"; then
    awk -v f="$f" -v k="$k" 'BEGIN{printf "%.1f\n", f * 1e6 / k}' >>"$B/irq-floor.txt"
  else
    echo FAILED >>"$B/irq-floor.txt"; echo "   FAILED: ipi run $r: $(tail -1 <<<"$out")" >&2
  fi
  o=$(oneway_ns <<<"$out")
  is_number "$o" && echo "$o" >>"$B/irq-oneway.txt" || echo FAILED >>"$B/irq-oneway.txt"
done
floor_ns=$(median <"$B/irq-floor.txt"); oneway=$(median <"$B/irq-oneway.txt")
share=""
is_number "$floor_ns" && is_number "$oneway" &&
  share=$(awk -v f="$floor_ns" -v o="$oneway" 'BEGIN{printf "%.3f", f / (o + f)}')
echo "   floor (bare loop, no IPI): ${floor_ns:--} ns; one-way IPI latency (floor subtracted): ${oneway:--} ns"
echo "   per-run floors (ns): $(tr '\n' ' ' <"$B/irq-floor.txt")"
verdict "ipi: the workload's own share of each raw one-way measurement" "$share" "<" 0.5
exit $status
