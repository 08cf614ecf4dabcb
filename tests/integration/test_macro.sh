#!/usr/bin/env bash
# vmmb-lab-seconds: 225
# Macro workloads (compute, sort, gups, kvs, graph) on this host's real /dev/kvm at small
# sizes: each runs and verifies its own answer in the guest and natively (a wrong answer
# would end the run `error`, so exit 0 means verified), their physics hold (DGEMM at CPL3
# costs the guest about nothing, a second vCPU speeds it up, hot Zipf keys are served
# faster than uniform ones, p99 is not below p50, kvs-io's p99 includes its I/O and its
# reads of the device verify, in the guest and in its native twin on the same backend),
# `placement` puts the data where the
# vNUMA layout says (split over two guest nodes, or all on node 0), the macro suite with --native stores
# guest and native runs and show/report/plot give the overhead table, and bad input is
# refused before boot with its message and exit code.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
VM=$BUILD/bin/vmm-min
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

need_kvm

# ---- each workload runs and verifies, in the guest and natively ----
N=$(scaled 192 64)
declare -A SPEC=(
  [compute]="--param n=$N --param batches=3"
  [sort]="--param keys=$(scaled 262144 16384) --param batches=3"
  [gups]="--param size=$(( $(scaled 4 1) ))M --param batches=2"
  [kvs]="--param size=4M --param iters=$(scaled 50000 5000) --param batches=3"
  [graph]="--param scale=$(( ${VMMB_SCALE:-1} > 1 ? 11 : 14 )) --param roots=2 --param batches=2"
)
for w in compute sort gups kvs graph; do
  for mode in guest native; do
    nat=""; [ $mode = native ] && nat=--native
    expect_exit "$w on 2 vCPUs ($mode) runs and its answer verifies" 0 "$VM" $nat --workload $w --vcpus 2 --mem 128M ${SPEC[$w]}
    expect_out "$w ($mode) reports throughput at vcpus=2" "\[vcpus=2\]  throughput .*ops/s"
  done
done
expect_exit "kvs with uniform keys" 0 "$VM" --workload kvs --mem 64M --param zipf=0 --param size=4M --param iters=$(scaled 50000 5000) --param batches=3
expect_out "kvs reports p50 and p99 latency" "\[vcpus=1 pct=99\]  latency .* ns"
p50=$(med 'vcpus=1 pct=50' latency); p99=$(med 'vcpus=1 pct=99' latency)
awk -v a="$p50" -v b="$p99" 'BEGIN{exit !(a > 0 && b >= a)}' && pass "kvs: p99 ($p99 ns) not below p50 ($p50 ns), both positive" ||
  fail "kvs: p99 not below p50" "p50=$p50 p99=$p99: $OUT"
expect_exit "gups on one vCPU: HPCC's verification finds no error at all" 0 "$VM" --workload gups --param size=1M --param batches=1

# ---- placement: the vNUMA layout decides where the data lives ----
# On two guest nodes (both on host node 0 here: what is checked is where the guest put its
# data, as it reports it, not a speed). split: each node holds 35-65% of the bytes;
# node0: node 0 holds all of them, node 1 none; the native twin places alike.
L2="--vcpus 2 --mem 128M --vnuma 0:64M@host0,1:64M@host0"
bytes_on() { grep -F "[node=$1]  data_bytes " <<<"$OUT" | sed -n 's/.* median=\([^ ]*\).*/\1/p'; }
# NAME: both nodes hold 35-65% of the data; 20-80% at the lab's tenth sizes (VMMB_SCALE),
# where a few whole buffers decide it (there sort put 26% on node 0, graph 67%).
split_even() {
  local a b lo=0.35; a=$(bytes_on 0); b=$(bytes_on 1)
  [ "${VMMB_SCALE:-1}" -gt 1 ] && lo=0.2
  [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" -v lo="$lo" 'BEGIN{exit !(a/(a+b) >= lo && a/(a+b) <= 1 - lo)}' &&
    pass "$1: node 0 holds $a bytes, node 1 $b" || fail "$1: data split over both nodes" "node0=$a node1=$b: $OUT"
}
for w in compute sort gups kvs graph; do
  expect_exit "$w placement=split on two guest nodes runs and verifies" 0 "$VM" --workload $w $L2 ${SPEC[$w]} --param batches=1 --param placement=1
  split_even "$w placement=split"
done
expect_exit "kvs placement=split natively" 0 "$VM" --native --workload kvs $L2 ${SPEC[kvs]} --param batches=1 --param placement=1
split_even "kvs placement=split natively"
for mode in guest native; do
  nat=""; [ $mode = native ] && nat=--native
  expect_exit "gups placement=node0 ($mode)" 0 "$VM" $nat --workload gups $L2 --param size=4M --param batches=1 --param placement=2
  a=$(bytes_on 0); b=$(bytes_on 1)
  [ -z "$b" ] && awk -v a="$a" 'BEGIN{exit !(a >= 4.19e6)}' && pass "gups placement=node0 ($mode): all $a bytes on node 0" ||
    fail "gups placement=node0 ($mode): all on node 0" "node0=$a node1=$b: $OUT"
done
expect_exit "placement=split on a one-node VM ends error" 1 "$VM" --workload gups --param size=1M --param placement=1
expect_out "...naming the layout it needs and the fix" "placement=1 \(split\) needs a vNUMA layout of two or more guest nodes: give --vnuma"

# ---- kvs-io: the store with its log, checkpoints and cold records on a block device ----
# In the guest through virtio-blk, natively (the twin) through the same backend called
# directly; the default device is a tmp file ($TMPDIR, unlinked) on both sides.
# (the lab's tenth sizes write a tenth of the cold records at load: 26 blocks, not 256)
KIO="--workload kvs-io --mem 64M --param iters=$(scaled 20000 2000) --param cold=$(scaled 65536 4096) --param batches=2"
declare -A KT K99 K50
for mode in guest native; do
  nat=""; [ $mode = native ] && nat=--native
  expect_exit "kvs-io ($mode) on its default device runs, and its reads and recovery verify" 0 "$VM" $nat $KIO
  expect_out "...($mode) its default device is a file in \$TMPDIR" "blk = tmp:64M: the workload's default device"
  expect_out "...($mode) it reports requests/s" "\[vcpus=1\]  throughput .*ops/s"
  KT[$mode]=$(med vcpus=1 throughput); K99[$mode]=$(med 'vcpus=1 pct=99' latency); K50[$mode]=$(med 'vcpus=1 pct=50' latency)
  awk -v t="${KT[$mode]}" -v a="${K50[$mode]}" -v b="${K99[$mode]}" 'BEGIN{exit !(t > 0 && a > 0 && b >= a)}' &&
    pass "kvs-io ($mode): ${KT[$mode]} req/s, p50 ${K50[$mode]} ns, p99 ${K99[$mode]} ns (p99 not below p50)" ||
    fail "kvs-io ($mode): sane figures" "throughput ${KT[$mode]}, p50 ${K50[$mode]}, p99 ${K99[$mode]}"
done
# The guest does the native twin's work plus an exit per request to the device: never
# faster than 1.5x native (a twin doing less work, or a clock off, would be), nor slower
# than 1/50 (measured here: 0.58-0.76). In the lab both sides run emulated (the other
# workloads' ratios came out 0.56-2.1 there): 0.02..10.
khi=1.5
[ -n "${VMMB_LAB:-}" ] && khi=10
awk -v g="${KT[guest]}" -v n="${KT[native]}" -v hi="$khi" 'BEGIN{exit !(n > 0 && g <= hi * n && g >= n / 50)}' &&
  pass "kvs-io: guest/native throughput $(awk -v g="${KT[guest]}" -v n="${KT[native]}" 'BEGIN{printf "%.2f", g/n}') (0.02..$khi)" ||
  fail "kvs-io: guest/native throughput within 0.02..$khi" "guest ${KT[guest]}, native ${KT[native]}"
io99=${K99[guest]}; io50=${K50[guest]}
expect_exit "kvs-io with no cold reads" 0 "$VM" $KIO --param coldpct=0
mem99=$(med 'vcpus=1 pct=99' latency)
# 2% of requests read the device (an exit and a VMM round trip: tens of us here), so p99
# is an I/O; with none, p99 is a hash-table probe (under 2 us). 5x at least.
awk -v a="$io99" -v b="$mem99" -v c="$io50" 'BEGIN{exit !(b > 0 && a >= 5 * b && a >= c)}' &&
  pass "kvs-io: p99 includes I/O ($io99 ns with 2% cold reads, $mem99 ns with none; p50 $io50)" ||
  fail "kvs-io: p99 includes I/O" "p99 $io99 with cold reads, $mem99 without, p50 $io50"
for mode in guest native; do
  nat=""; [ $mode = native ] && nat=--native
  expect_exit "kvs-io ($mode) on a device that drops what is written (blk null) ends error" 1 "$VM" $nat $KIO --blk null
  expect_out "...($mode) its own check names it" "kvs-io: (a request found no record or a wrong value \(in memory or read from the device\)|the log names a key the checkpoint does not hold|the store recovered from the device)"
done
expect_exit "kvs-io on a device too small for its data" 1 "$VM" $KIO --blk ram:1M
expect_out "...names the fix" "give a larger --blk tmp:SIZE"
expect_exit "kvs-io natively on a device too small, the same" 1 "$VM" --native $KIO --blk tmp:1M
expect_out "...names the fix" "give a larger --blk tmp:SIZE"
for mode in guest native; do
  nat=""; [ $mode = native ] && nat=--native
  expect_exit "kvs-io ($mode) with a \$TMPDIR that cannot take its default device: refused before anything runs" 2 env TMPDIR="$TMP/none" "$VM" $nat $KIO
  expect_out "...names the directory and the fix" "cannot create the virtio-blk tmp file in $TMP/none: .*set TMPDIR to a writable directory"
done

# ---- physics ----
# compute: DGEMM in ring 3 runs on the CPU natively; best batches (p95) of alternating
# runs. Measured here: 0.83-1.05 (with both builds' loops 64-byte aligned, see the
# Makefile's MACRO_ALIGN: without it the two builds differed by 1.6x on their own, the
# guest looking faster than the host). The band (0.7..1.3) catches a clock off by a
# factor, a guest that traps, or builds that drift apart again; the 0.98 target is make
# bench's.
C="--workload compute --param n=$(scaled 256 64) --param batches=5"
compute_alike() {
  local g n
  OUT=$("$VM" $C 2>&1) || { WHY="guest run failed"; return 1; }; g=$(p95 vcpus=1 throughput)
  OUT=$("$VM" --native $C 2>&1) || { WHY="native run failed"; return 1; }; n=$(p95 vcpus=1 throughput)
  WHY="guest ${g:-?} flop/s, native ${n:-?}"
  [ -n "$g" ] && [ -n "$n" ] && awk -v a="$g" -v b="$n" 'BEGIN{exit !(b > 0 && a >= 0.7 * b && a <= 1.3 * b)}'
}
physics "compute: guest DGEMM within 0.7x..1.3x of the same code run natively (best batches)" 3 compute_alike
# A second vCPU takes half the rows: two do more than one (1.2x; about 1.9x undisturbed),
# on a larger product (batches of ~40 ms) so a barrier's wait is small beside the work.
C2="--workload compute --param n=$(scaled 384 64) --param batches=5"
second_vcpu_computes() {
  local one two
  OUT=$("$VM" $C2 --vcpus 2 --pin 0,1 --param threads=1 2>&1) || { WHY="run failed"; return 1; }; one=$(p95 vcpus=1 throughput)
  OUT=$("$VM" $C2 --vcpus 2 --pin 0,1 --param threads=2 2>&1) || { WHY="run failed"; return 1; }; two=$(p95 vcpus=2 throughput)
  WHY="${two:-?} flop/s on 2 vCPUs, ${one:-?} on 1"
  [ -n "$one" ] && [ -n "$two" ] && awk -v a="$two" -v b="$one" 'BEGIN{exit !(b > 0 && a >= 1.2 * b)}'
}
if [ -n "${VMMB_LAB_SERIAL_CPUS:-}" ]; then
  skip "compute: 2 vCPUs over 1.2x one vCPU's flop/s" \
    "capability: host CPUs that run in parallel (the lab's single-threaded TCG runs its CPUs one at a time)"
else
  physics "compute: 2 vCPUs over 1.2x one vCPU's flop/s" 4 second_vcpu_computes
fi
# kvs: with Zipf keys (0.99) the hot records stay in the caches and TLB; uniform keys over
# a 32 MiB table miss them. Measured here: Zipf 1.5-3x uniform. Zipf not slower (1.0x).
K="--workload kvs --mem 128M --param size=32M --param iters=$(scaled 100000 10000) --param batches=3"
zipf_faster() {
  local z u
  OUT=$("$VM" $K --param zipf=99 2>&1) || { WHY="run failed"; return 1; }; z=$(med vcpus=1 throughput)
  OUT=$("$VM" $K --param zipf=0 2>&1) || { WHY="run failed"; return 1; }; u=$(med vcpus=1 throughput)
  WHY="Zipf ${z:-?} req/s, uniform ${u:-?}"
  [ -n "$z" ] && [ -n "$u" ] && awk -v a="$z" -v b="$u" 'BEGIN{exit !(b > 0 && a >= b)}'
}
physics "kvs: Zipf keys served at least as fast as uniform ones (32 MiB table)" 3 zipf_faster

# ---- the overhead table: run --native, show, report, plot ----
DB=$TMP/m.db
SPECS="compute:n=$(scaled 128 64),batches=3 sort:keys=$(scaled 131072 8192),batches=3 gups:size=1M,batches=2 kvs:size=1M,iters=$(scaled 20000 2000),batches=3 graph:scale=$(( ${VMMB_SCALE:-1} > 1 ? 10 : 12 )),roots=2,batches=2 kvs-io:iters=$(scaled 10000 1000),cold=$(scaled 65536 4096),batches=2"
expect_exit "vmmbench run --native stores each macro workload in the guest and natively, 3 reps" 0 \
  "$VB" run --native --reps 3 --db "$DB" $SPECS
# (a run stores one row per point: kvs has three, and a guest run one more for the VMM's
# own CPU time; counted here per workload and repetition)
n=$(sqlite3 "$DB" "SELECT count(DISTINCT r.workload||'/'||r.rep) FROM runs r JOIN configs c ON c.id=r.config_id WHERE r.status='ok' AND c.name='default-native'")
[ "$n" = 18 ] && pass "18 native runs stored next to the guest's" || fail "18 native runs stored" "$n"
order=$(sqlite3 "$DB" "SELECT c.name FROM runs r JOIN configs c ON c.id=r.config_id WHERE r.workload='compute' ORDER BY r.id" | uniq | tr '\n' ' ')
[ "$order" = "default default-native default default-native default default-native " ] &&
  pass "guest and native runs interleave, repetition by repetition" || fail "guest and native interleave" "$order"
expect_exit "show" 0 "$VB" show --db "$DB"
expect_out "show prints the macro overhead table" "^Macro overhead: guest/native throughput per config"
for w in compute sort gups kvs graph kvs-io; do
  expect_out "the table has $w with its ratio and CI" "^  $w +default +- +[0-9.]+ +\[[0-9.]+, [0-9.]+\] +3/3 "
done
ratios=$("$VB" show --db "$DB" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d["overhead"]:
    print(r["workload"], r["ratio"], r["ci_lo"], r["ci_hi"], r["guest"] / r["native"])')
OUT=$ratios
# Each ratio is the medians of the two sides divided (within 5%: medians of run medians
# against pooled batches), with its CI around it; guest/native 0.2..2 (a clock or count
# off by a factor fails).
# In the lab (VMMB_LAB) both sides run emulated, the guest through nested paging: its
# ratios came out 0.56-2.1 there, so the band is 0.1..10 (still a factor-of-ten error).
# kvs-io's guest pays an exit per device request its twin makes with a plain pread, and
# at these sizes a batch holds only a few log flushes: its band starts at 0.02 (measured
# 0.35-0.76 here, 0.08 in a loaded lab).
rlo=0.2 rhi=2
[ -n "${VMMB_LAB:-}" ] && rlo=0.1 rhi=10
bad=$(awk -v lo="$rlo" -v hi="$rhi" '{ l = $1 == "kvs-io" ? 0.02 : lo
  if (!($3 <= $2 && $2 <= $4 && $2 > l && $2 < hi && $5/$2 > 0.95 && $5/$2 < 1.05)) print }' <<<"$ratios")
[ "$(wc -l <<<"$ratios")" = 6 ] && [ -z "$bad" ] && pass "show --json: six ratios, each inside its CI, 0.2..2 (kvs-io 0.02..2), equal to guest/native medians" ||
  fail "overhead ratios in show --json" "bad rows: $bad; all: $ratios"
expect_exit "report" 0 "$VB" report all --db "$DB" --out "$TMP/rep"
h=$(grep -o '<h2 id=[a-z]*' "$TMP/rep/index.html" | head -1)
[ "$h" = "<h2 id=macro" ] && pass "the report's first section is the macro overhead" || fail "report headline is macro" "$h"
grep -q 'plots/macro-overhead.png' "$TMP/rep/index.html" && [ -s "$TMP/rep/plots/macro-overhead.png" ] &&
  pass "the report shows the overhead chart" || fail "the report shows the overhead chart" "$(ls "$TMP/rep/plots")"
rows=$(wc -l <"$TMP/rep/plots/macro-overhead.dat")
[ "$rows" = 6 ] && pass "the chart has one bar group per workload" || fail "chart rows" "$rows"
grep -q "first 1 nohead" "$TMP/rep/plots/macro-overhead.gp" && pass "the chart marks 1.0" || fail "the chart marks 1.0" ""
DB1=$TMP/g.db
expect_exit "a guest-only run" 0 "$VB" run --reps 1 --db "$DB1" "compute:n=64,batches=2"
expect_exit "show of it" 0 "$VB" show --db "$DB1"
grep -q "Macro overhead" <<<"$OUT" && fail "no overhead table without native twins" "$OUT" ||
  pass "no overhead table without native twins"

# ---- bad input: refused before boot, its exit code, nothing stored ----
expect_exit "threads beyond the vCPUs" 2 "$VM" --workload sort --param threads=2
expect_out "...names the fix" "threads=2 but the VM has 1 vCPU; give threads <= 1 or more vcpus"
expect_exit "a gups table that is not a power of two" 2 "$VM" --workload gups --param size=3M
expect_out "...says so and gives one" "size=3145728 is not a power of two .*give e.g. size=16M"
expect_exit "a graph larger than guest memory" 7 "$VM" --workload graph --param scale=22
expect_out "...names the sizes and the fix" "graph: its working set needs 1184M but guest memory is 64M.*give memory >= 1200M"
expect_exit "vmmbench run refuses the plan the same way, before anything runs" 7 "$VB" run --db "$TMP/bad.db" compute:n=4096
n=$(sqlite3 "$TMP/bad.db" "SELECT count(*) FROM runs" 2>/dev/null || echo 0)
[ "${n:-0}" = 0 ] && pass "...storing nothing" || fail "bad plan stored nothing" "$n runs"

t_summary
