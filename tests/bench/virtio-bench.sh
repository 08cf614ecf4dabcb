#!/usr/bin/env bash
# `make bench`, virtio section (run from tests/bench/run-bench.sh): ratios measured in
# this same job.
#  V1. virtio-blk null backend, 64 KiB sequential reads, queue depth 32, on each
#      notification path: the best path's bytes/s against a single-threaded memcpy of the
#      same bytes (bench_memcpy); target >= 0.5. The table shows every path.
#  V2. the same workload on the poll path with event-idx suppression vs a driver that
#      ignores suppression: KVM exits per request for both; target: suppression lower.
# vCPU on CPU 0, I/O thread on CPU 1: a polling thread sharing the vCPU's CPU measures
# the scheduler, not the transport.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
B=$BUILD/tests/bench
GUEST=$BUILD/share/vmmbench/guest/vmmbench-guest.elf
VM=$BUILD/bin/vmm-min
ROUNDS=${BENCH_ROUNDS:-5}
status=0
# median, ratio, figure, verdict: a missing figure or a failed command fails.
. tests/bench/bench-lib.sh
# metric NAME < vmm-min text output: the median of that metric
metric() {
  local v
  v=$(awk -v m="$1" '$1==m {for (i=2;i<=NF;i++) if ($i ~ /^median=/) {sub("median=","",$i); print $i}}' | head -1)
  echo "${v:-FAILED}"
}
col2() { awk '{print $2}'; }
kvm_exits() { metric kvm_exits_per_req; }
PIN="--pin 0 --io-cpu 1"
[ "$(nproc)" -lt 2 ] && PIN=""
run() { # notify suppress
  # shellcheck disable=SC2086
  $VM --kernel "$GUEST" --workload virtio-blk --blk null --notify "$1" $PIN \
      --param size=65536 --param qd=32 --param op=0 --param suppress="$2" \
      --param iters=2000 --param batches=5 --param warmup=1
}

echo "== V1. virtio-blk null, 64 KiB sequential reads, qd 32, per notification path ($ROUNDS rounds)"
for p in exit ioeventfd poll; do : >"$B/vblk-$p.txt"; done
: >"$B/memcpy.txt"
for r in $(seq "$ROUNDS"); do
  figure col2 "$B/bench_memcpy" >>"$B/memcpy.txt"
  for p in exit ioeventfd poll; do
    # A failed run leaves a row of FAILED: no median for that path, and a FAIL below.
    out=$(run "$p" 2) || { echo "   FAILED: virtio-blk --notify $p" >&2; out=""; }
    printf '%s %s %s %s %s %s\n' "$(metric bytes_per_s <<<"$out")" "$(metric kicks_per_req <<<"$out")" \
      "$(metric kvm_exits_per_req <<<"$out")" "$(metric exits_per_req <<<"$out")" \
      "$(metric vmm_cpu <<<"$out")" "$(metric io_thread_cpu <<<"$out")" >>"$B/vblk-$p.txt"
  done
done
mc=$(median <"$B/memcpy.txt")
printf '   %-10s %12s %10s %12s %14s %10s %10s\n' path "GB/s" "kicks/req" "KVMexits/req" "VMMexits/req" "VMM cores" "IO cores"
best=0; bestp=""
for p in exit ioeventfd poll; do
  col() { awk -v c="$1" '{print $c}' "$B/vblk-$p.txt" | median; }
  bps=$(col 1)
  is_number "$bps" || { echo "FAIL virtio-blk --notify $p: no figure (a run failed or printed no bytes_per_s)"; status=1; }
  printf '   %-10s %12.2f %10.4f %12.4f %14.4f %10.2f %10s\n' "$p" "$(awk -v b="$bps" 'BEGIN{print b/1e9}')" \
    "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)" "$( [ "$p" = exit ] && echo - || col 6)"
  if is_number "$bps" && awk -v a="$bps" -v b="$best" 'BEGIN{exit !(a > b)}'; then best=$bps; bestp=$p; fi
done
echo "   memcpy of the same bytes: $(awk -v b="$mc" 'BEGIN{printf "%.2f", b/1e9}') GB/s; best path: $bestp"
verdict "virtio-blk null ($bestp) / memcpy throughput ratio" "$(ratio "$best" "$mc")" ">=" 0.5

echo "== V2. event-idx suppression vs none, poll path ($ROUNDS rounds)"
: >"$B/vsup0.txt"; : >"$B/vsup2.txt"
for r in $(seq "$ROUNDS"); do
  figure kvm_exits run poll 0 >>"$B/vsup0.txt"
  figure kvm_exits run poll 2 >>"$B/vsup2.txt"
done
e0=$(median <"$B/vsup0.txt"); e2=$(median <"$B/vsup2.txt")
echo "   KVM exits per request: $e0 ignoring suppression, $e2 with event-idx"
# No exits at all without suppression (e0 = 0) gives no ratio: nothing was shown.
verdict "event-idx / no-suppression exits per request" "$(ratio "$e2" "$e0")" "<" 1
exit $status
