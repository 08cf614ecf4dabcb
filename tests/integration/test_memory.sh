#!/usr/bin/env bash
# vmmb-lab-seconds: 141 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# Memory workloads on this host's real /dev/kvm, at small sizes, checked for their physics
# rather than for fixed numbers: the chase gets slower as the working set leaves the
# caches, 2M guest pages are not slower than 4K ones past the 4K TLB reach, a second vCPU
# moves data of its own, guest bandwidth is within a band of the same code run natively,
# the NUMA matrix has the layout's shape and (all of it on one host node) no cell stands
# out, loaded latency is not below unloaded, and every bad input is refused with its
# message and exit code, storing nothing.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
VM=$BUILD/bin/vmm-min
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

need_kvm

# within A B F: A and B are numbers within a factor F of each other.
within() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN{exit !(a > 0 && b > 0 && a <= b * f && b <= a * f)}'; }
# holds NAME AWK-EXPR A B: pass when the expression over a and b is true.
holds() {
  if [ -n "$3" ] && [ -n "$4" ] && awk -v a="$3" -v b="$4" "BEGIN{exit !($2)}"; then
    pass "$1 (a=$3, b=$4)"
  else fail "$1" "a=$3 b=$4, wanted $2; output: $OUT"; fi
}

# ---- tlb: latency grows with the working set ----
T="--workload tlb --mem 256M --param iters=$(scaled 200000 20000) --param batches=7"
# The window comparison needs many accesses per page of its 16 MiB (4096 pages): with a
# tenth of them, the lab's first touch of each page outweighed the walk (2230 against
# 555 ns), so it keeps the full count everywhere.
TW="--workload tlb --mem 256M --param iters=200000 --param batches=7"
expect_exit "tlb sweep 4K..64M runs" 0 "$VM" $T --param max=64M
expect_out "tlb reports a point per size" "\[size=67108864\]  latency "
holds "tlb: 64 MiB (past the L2, TLB reach) is over 3x slower per access than 16 KiB (L1)" \
  "a > 3 * b" "$(med size=67108864 latency)" "$(med size=16384 latency)"
holds "tlb: latency does not fall from 1 MiB to 64 MiB" "a >= b * 0.9" \
  "$(med size=67108864 latency)" "$(med size=1048576 latency)"
expect_exit "tlb with a 4 KiB TLB-locality window" 0 "$VM" $TW --param min=16M --param max=16M --param window=4096
w=$(p5 size=16777216 latency)
expect_exit "tlb without a window, same size" 0 "$VM" $TW --param min=16M --param max=16M
holds "tlb: a 4 KiB window (one page at a time) is faster than a page-random chase" "a < b" "$w" "$(p5 size=16777216 latency)"

# ---- guest page size: 2M not slower than 4K past the 4K TLB reach (64 MiB set) ----
# Three alternating pairs on THP-backed memory (so 2M guest pages can be 2M all the way
# down); each side's median of run medians, with a 15% noise band: single batches swing
# by a third on this shared PVM host, run medians by a few percent.
b4=""; b2=""
for r in 1 2 3; do
  for gp in 4k 2m; do
    OUT=$("$VM" $T --param min=64M --param max=64M --param batches=5 --mem 96M --guest-pages $gp --backing anonymous_thp --prefault yes 2>&1)
    v=$(med size=67108864 latency)
    if [ $gp = 4k ]; then b4="$b4 $v"; else b2="$b2 $v"; fi
  done
done
b4=$(printf '%s\n' $b4 | sort -g | sed -n 2p); b2=$(printf '%s\n' $b2 | sort -g | sed -n 2p)
holds "tlb: 2M guest pages are not slower than 4K at 64 MiB (median of 3 alternating runs, 15% band)" "a <= b * 1.15" "$b2" "$b4"

# ---- bw: STREAM on 1 and 2 vCPUs ----
# (64 MiB arrays, past every cache; under emulation, VMMB_SCALE, smaller ones still past the L2)
expect_exit "bw on 2 vCPUs ($(scaled 64 8) MiB arrays)" 0 "$VM" --workload bw --vcpus 2 --mem 320M --param array="$(scaled 64 8)M" --param ntimes=6
expect_out "bw reports every kernel per vCPU count" "\[kernel=triad vcpus=2\]  bandwidth .*MB/s"
# A second vCPU that did nothing would leave the 2-vCPU figure at the 1-vCPU one; here
# (2 cores shared with other jobs) two vCPUs gave 2.7-3.8x one vCPU in run medians, but a
# single undisturbed 1-vCPU batch once reached 0.85x of the 2-vCPU best. Medians, 1.25x,
# in one of three attempts (the first is the run above).
BW2="--workload bw --vcpus 2 --mem 320M --param array=$(scaled 64 8)M --param ntimes=6"
second_vcpu_moves() {
  if [ -n "${BW_AGAIN:-}" ]; then OUT=$("$VM" $BW2 2>&1) || { WHY="run failed"; return 1; }; fi
  BW_AGAIN=1
  local two one
  two=$(med 'kernel=triad vcpus=2' bandwidth); one=$(med 'kernel=triad vcpus=1' bandwidth)
  WHY="triad medians ${two:-?} MB/s on 2 vCPUs, ${one:-?} on 1"
  [ -n "$two" ] && [ -n "$one" ] && awk -v a="$two" -v b="$one" 'BEGIN{exit !(b > 0 && a >= 1.25 * b)}'
}
# The lab's CPUs are one host thread (single-threaded TCG, tests/lab/run-lab.sh), so
# there two vCPUs cannot outpace one: the check needs CPUs that run in parallel. That
# vCPU 1 did its slice is still checked everywhere: bw ends `error` when any slice of the
# arrays holds wrong values (STREAM's check), which the run above would have failed.
if [ -n "${VMMB_LAB_SERIAL_CPUS:-}" ]; then
  skip "bw: triad on 2 vCPUs moves over 1.25x what 1 vCPU does" \
    "capability: host CPUs that run in parallel (the lab's single-threaded TCG runs its CPUs one at a time)"
else
  physics "bw: triad on 2 vCPUs moves over 1.25x what 1 vCPU does" 3 second_vcpu_moves
fi
gcopy=$(p95 'kernel=copy vcpus=1' bandwidth)

# ---- numa-matrix: the layout's shape ----
N="--workload numa-matrix --param size=16M --param iters=50000 --param batches=2"
expect_exit "numa-matrix on a two-node vNUMA layout" 0 "$VM" $N --vcpus 2 --mem 128M --vnuma 0:64M@host0,1:64M@host0
for c in 0 1; do for m in 0 1; do
  expect_out "matrix cell cpu_node=$c mem_node=$m has a latency" "\[cpu_node=$c mem_node=$m\]  latency "
  expect_out "matrix cell cpu_node=$c mem_node=$m has a bandwidth" "\[cpu_node=$c mem_node=$m\]  bandwidth .*MB/s"
done; done
n=$(grep -c '\[cpu_node=.*\]  latency ' <<<"$OUT")
[ "$n" -eq 4 ] && pass "two nodes give a 2x2 matrix" || fail "two nodes give a 2x2 matrix" "$n cells: $OUT"
# Both guest nodes sit on host node 0 here, so a "remote" cell is local memory: for each
# vCPU, its remote cell must match its local one. Per vCPU, because the two vCPUs run on
# host CPUs that other jobs load differently (one run measured vCPU 1's cells at half of
# vCPU 0's). Best batches (p5 latency, p95 bandwidth), prefaulted so the first cell does
# not pay the page faults; remote/local was 0.6-1.7x when undisturbed, hence 2.5x (3x for
# bandwidth). Remote >= local on a real two-node host: tests/lab.
matrix_alike() {
  OUT=$("$VM" ${N/batches=2/batches=4} --vcpus 2 --mem 128M --prefault yes --vnuma 0:64M@host0,1:64M@host0 2>&1) || { WHY="run failed"; return 1; }
  local c ok=0 r l rb lb
  WHY=""
  for c in 0 1; do
    r=$(p5 "cpu_node=$c mem_node=$((1 - c))" latency); l=$(p5 "cpu_node=$c mem_node=$c" latency)
    rb=$(p95 "cpu_node=$c mem_node=$((1 - c))" bandwidth); lb=$(p95 "cpu_node=$c mem_node=$c" bandwidth)
    WHY="$WHY vCPU $c remote/local ${r:-?}/${l:-?} ns, ${rb:-?}/${lb:-?} MB/s;"
    within "$r" "$l" 2.5 && within "$rb" "$lb" 3 || ok=1
  done
  return $ok
}
physics "matrix on one host node: each vCPU's remote cell within 2.5x (latency) and 3x (bandwidth) of its local one" 3 matrix_alike
expect_exit "numa-matrix on one node" 0 "$VM" $N --mem 64M --console
expect_out "one node says it is a 1x1 matrix" "a 1x1 matrix"
n=$(grep -c '\[cpu_node=.*\]  latency ' <<<"$OUT")
[ "$n" -eq 1 ] && pass "one node gives one cell" || fail "one node gives one cell" "$OUT"
expect_exit "a 2x2 matrix asked of a one-node layout is refused" 2 "$VM" $N --mem 64M --param nodes=2
expect_out "the refusal names the layout and the fix" "nodes=2 asks for a 2x2 matrix but the VM's layout has 1 node; give a vnuma layout"

# ---- contention: loaded latency ----
expect_exit "contention with 0 and 1 streaming vCPUs" 0 "$VM" --workload contention --vcpus 2 --mem 128M --param size=16M --param iters=50000 --param batches=5
expect_out "contention: unloaded point" "\[load=0 layout=uma\]  latency "
expect_out "contention: loaded point with the streamer's bandwidth" "\[load=1 layout=uma\]  bandwidth .*MB/s"
# A streamer cannot make the chase faster. Its effect here is small next to the noise of
# this shared 2-core host (loaded/unloaded medians 0.93-1.33 over seven runs: the chase is
# TLB-bound under shadow paging, and the LLC is 105 MiB), hence the 20% band. And the
# streamer really streams: at least a tenth of what one vCPU copies (about half here).
loaded_not_faster() {
  OUT=$("$VM" --workload contention --vcpus 2 --mem 128M --param size=16M --param iters=50000 --param batches=5 2>&1) || { WHY="run failed"; return 1; }
  local u l b
  u=$(med 'load=0 layout=uma' latency); l=$(med 'load=1 layout=uma' latency); b=$(med 'load=1 layout=uma' bandwidth)
  WHY="loaded ${l:-?} vs unloaded ${u:-?} ns, streamer ${b:-?} MB/s vs one vCPU's copy $gcopy"
  [ -n "$u" ] && [ -n "$l" ] && [ -n "$b" ] && awk -v u="$u" -v l="$l" -v b="$b" -v g="$gcopy" -v f="$stream_share" 'BEGIN{exit !(l >= 0.8 * u && b >= f * g)}'
}
# In the lab the streamer and the chase take turns on one host thread, and the emulator
# runs the streamer's loop at another speed than bw's copy (there: 0.05x of it), so there
# the streamer must move a hundredth of the copy: still nothing passes that does not stream.
stream_share=0.1
[ -n "${VMMB_LAB_SERIAL_CPUS:-}" ] && stream_share=0.01
physics "contention: loaded latency not below unloaded (20% band), the streamer moving over ${stream_share}x one vCPU's copy" 3 loaded_not_faster

# ---- native: the same code on the host, same sizes ----
expect_exit "tlb natively on the host" 0 "$VM" --native $T --param min=32M --param max=32M
expect_out "the native run says so" "native=yes"
nat=$(p5 size=33554432 latency); gst=""
for r in 1 2; do  # alternating, best batch of each side: others share this machine
  OUT=$("$VM" $T --param min=32M --param max=32M 2>&1)
  gst=$(printf '%s\n' $gst "$(p5 size=33554432 latency)" | sort -g | head -1)
  OUT=$("$VM" --native $T --param min=32M --param max=32M 2>&1)
  nat=$(printf '%s\n' $nat "$(p5 size=33554432 latency)" | sort -g | head -1)
done
# The ratio is a speed figure: `make bench` holds its target; here both sides must measure.
# Here the guest chased at 1.0-5.0x the host's latency. The guest's loads are the host's
# loads plus its page walks: not faster than the host beyond noise (0.7x), and within 10x.
holds "guest chase at 32 MiB is 0.7x..10x the host's (best of alternating runs)" "a >= b * 0.7 && a <= b * 10" "$gst" "$nat"
echo "# guest/host chase at 32 MiB: $gst / $nat ns (target and figure: make bench)"
expect_exit "bw natively on 2 threads" 0 "$VM" --native --workload bw --vcpus 2 --mem 320M --param array="$(scaled 64 8)M" --param ntimes=3
expect_out "native bw reports triad on 2 threads" "\[kernel=triad vcpus=2\]  bandwidth"
# Guest code at CPL3 runs on the same memory as the host: the guest's copy bandwidth is a
# fraction of the native run's, never a multiple. Measured here: 0.16-0.65x (the host's
# best batch ranges 3.8-9.7 GB/s on this shared 2-core machine, the guest's 1.5-3.9), so
# the band is 0.1x..2x: it catches a byte count or a clock off by a factor, not drift.
# The native reference is the best of two 1-thread runs with the guest run's sizes: one
# run of three batches was once disturbed down to 0.4x of the guest.
ncopy=""
for r in 1 2; do
  OUT=$("$VM" --native --workload bw --mem 320M --param array="$(scaled 64 8)M" --param ntimes=6 --param threads=1 2>&1)
  ncopy=$(printf '%s\n' $ncopy "$(p95 'kernel=copy vcpus=1' bandwidth)" | sort -g | tail -1)
done
# In the lab (VMMB_LAB) the guest's every load and store goes through the emulator's
# nested page tables and the native run's do not: there the guest copied at 0.06x, so
# its floor is 0.02x; the ceiling, never faster than native, stays.
lo=0.1
[ -n "${VMMB_LAB:-}" ] && lo=0.02
holds "bw: guest copy bandwidth is ${lo}x..2x the same code run natively (best batches)" "a >= b * $lo && a <= b * 2" \
  "$gcopy" "$ncopy"

DB=$TMP/r.db
expect_exit "vmmbench run --native stores guest and host runs" 0 "$VB" run --native --reps 1 --db "$DB" \
  tlb:min=1M,max=2M,iters=100000,batches=2 cpuid:iters=10,batches=2
rows=$(sqlite3 "$DB" "SELECT c.name||' '||r.params FROM runs r JOIN configs c ON c.id=r.config_id WHERE r.workload='tlb' ORDER BY 1")
OUT=$rows
expect_out "one run row per size, guest" "^default batches=2 .*size=2097152"
expect_out "one run row per size, host twin" "^default-native batches=2 .*size=1048576"
n=$(sqlite3 "$DB" "SELECT count(*) FROM runs r JOIN configs c ON c.id=r.config_id WHERE c.name='default-native' AND r.workload='cpuid'")
[ "$n" = 0 ] && pass "workloads without a host build do not run under the native twin" || fail "cpuid not native" "$n rows"

# ---- bad input: a clear message, its exit code, nothing stored ----
expect_exit "a working set larger than guest memory" 7 "$VM" --workload tlb --mem 64M --param max=1G
expect_out "...names the sizes and the fix" "working set max=1G does not fit in guest memory of 64M.*give memory >="
expect_exit "a stride smaller than a pointer" 2 "$VM" --workload tlb --param stride=4
expect_out "...says what a stride may be" "stride=4 is out of range.*from 8"
expect_exit "a stride that is not whole pointers" 2 "$VM" --workload tlb --param stride=12
expect_out "...names the pointer size" "not a whole number of pointers \(8 bytes\)"
expect_exit "more bw threads than vCPUs" 2 "$VM" --workload bw --vcpus 2 --param threads=3 --param array=1M
expect_out "...names the vCPU count" "threads=3 but the VM has 2 vCPUs"
expect_exit "more streamers than vCPUs" 2 "$VM" --workload contention --vcpus 2 --param streamers=2
expect_out "...names the vCPU count" "streamers=2 streaming vCPUs need 3 vCPUs"
expect_exit "bw arrays larger than guest memory" 7 "$VM" --workload bw --mem 64M --param array=64M
expect_out "...names the arrays and the fix" "bw: three arrays of 64M .* need 192M but guest memory is 64M"
expect_exit "memory workloads refuse ring 0" 2 "$VM" --workload tlb --param ring=0
expect_exit "a workload without a host build cannot run natively" 2 "$VM" --native --workload cpuid
expect_out "...lists the ones that can" "cannot run natively.*bw, .*tlb"
DB2=$TMP/bad.db
expect_exit "vmmbench refuses the bad plan before running anything" 7 "$VB" run --db "$DB2" tlb:max=1G cpuid
[ ! -e "$DB2" ] || [ "$(sqlite3 "$DB2" 'SELECT count(*) FROM runs' 2>/dev/null || echo 0)" = 0 ] \
  && pass "no rows for a refused plan" || fail "no rows for a refused plan" "$(sqlite3 "$DB2" 'SELECT * FROM runs')"
t_summary
