# Runs inside the lab (busybox sh): placement on a real two-node host with SVM KVM.
# Each check prints "LAB: ok - NAME" or "LAB: not ok - NAME" with the evidence.
VM=/opt/vmmb/bin/vmm-min
VB=/opt/vmmb/bin/vmmbench
SMALL="--workload cpuid --param iters=5 --param batches=2 --param warmup=0 --timeout 120"

check() { # NAME PATTERN (extended regex over $OUT)
  if echo "$OUT" | grep -Eq -- "$2"; then echo "LAB: ok - $1"
  else echo "LAB: not ok - $1"; echo "$OUT" | sed 's/^/LAB:    | /'; fi
}

OUT=$($VB host --topology 2>&1)
check "host is svm KVM with 2 NUMA nodes" "kvm_flavour: +svm"
check "hwloc sees two nodes" "numa_nodes: +2"
check "node 1 has CPU 1" "node 1 cpus: +1"

OUT=$($VM $SMALL --vcpus 2 --mem 64M --vnuma 0:32M@host0,1:32M@host1 --prefault yes 2>&1)
check "vnuma run completes" "workload cpuid .*: ok"
check "vCPU 0 (guest node 0) pinned to and ran on CPU 0" "vcpu 0: pinned cpu 0, affinity 0, ran on 0$"
check "vCPU 1 (guest node 1) pinned to and ran on CPU 1" "vcpu 1: pinned cpu 1, affinity 1, ran on 1$"
check "guest node 0 memory on host node 0" "memory at end: guest node 0 asked host node 0: 16 sampled, 16 there, 0 elsewhere"
check "guest node 1 memory on host node 1" "memory at end: guest node 1 asked host node 1: 16 sampled, 16 there, 0 elsewhere"
check "vnuma placement as requested" "placement as requested"

OUT=$($VM --workload layout --vcpus 2 --vnuma 0:32M@host0,1:32M@host1 --console --timeout 120 2>&1)
check "the guest sees two nodes" "layout: vcpus 2 vnodes 2"
check "guest node 1 is the second 32 MiB with vCPU 1" "layout: vnode 1 mem 0x0000000002000000\+0x0000000002000000 vcpus 1$"

OUT=$($VM $SMALL --mem 64M --numa bind:1 --prefault yes 2>&1)
check "bind:1 run completes" "workload cpuid .*: ok"
check "bind:1 memory wholly on node 1" "memory at end: guest node 0 asked host node 1: 16 sampled, 16 there, 0 elsewhere, 0 not present"

echo 32 > /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages
OUT=$($VM $SMALL --mem 64M --numa bind:1 --backing anonymous_hugetlb_2mb --prefault yes 2>&1)
check "hugetlb 2M on node 1 completes" "workload cpuid .*: ok"
check "hugetlb backs all of guest memory" "memory at end: resident 65536 KiB, huge 65536 KiB"
check "hugetlb pages on node 1" "memory at end: guest node 0 asked host node 1: 16 sampled, 16 there, 0 elsewhere"
echo 0 > /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages
OUT=$($VM $SMALL --mem 64M --numa bind:1 --backing anonymous_hugetlb_2mb 2>&1)
check "an empty node-1 pool is refused with the command to fix it" "need 32 pages of 2048 kB on this node, 0 free; add 32 with: echo 32 > /sys/devices/system/node/node1/hugepages"

OUT=$($VM $SMALL --mem 64M --pin node:1 2>&1)
check "pin node:1 puts the vCPU on CPU 1" "vcpu 0: pinned cpu 1, affinity 1, ran on 1$"
OUT=$($VM $SMALL --mem 64M --vnuma 0:32M@host0,1:32M@host2 2>&1)
check "a host node that does not exist is refused" "host NUMA node 2 does not exist; this host has 2 node"

OUT=$($VM --workload hypercall --param iters=5 --param batches=2 --param warmup=0 --timeout 120 2>&1)
check "vmmcall returns under SVM KVM (unsupported only on PVM)" "workload hypercall .*: ok"

OUT=$($VM --workload layout --guest-pages 1g --console --timeout 120 2>&1)
check "1 GiB guest pages work under SVM KVM (refused on PVM)" "guest_page 1073741824"
check "the 1g guest completes" "workload layout .*: ok"
OUT=$($VM $SMALL --mem 64M --guest-pages 4k --vnuma 0:32M@host0,1:32M@host1 --vcpus 2 2>&1)
check "4k guest pages with vNUMA complete" "workload cpuid .*: ok"

# Memory workloads on a real two-node layout (issue 4): the matrix is 2x2 and each guest
# node's vCPU and memory sit on the host node asked for.
MEMP="--param size=4M --param iters=5000 --param batches=2 --param warmup=0 --timeout 300"
OUT=$($VM --workload numa-matrix $MEMP --param nodes=2 --vcpus 2 --mem 64M --vnuma 0:32M@host0,1:32M@host1 --prefault yes 2>&1)
check "numa-matrix on two nodes completes" "workload numa-matrix .*: ok"
check "matrix cell 0->0" "\[cpu_node=0 mem_node=0\]  latency "
check "matrix cell 0->1" "\[cpu_node=0 mem_node=1\]  latency "
check "matrix cell 1->0" "\[cpu_node=1 mem_node=0\]  bandwidth "
check "matrix cell 1->1" "\[cpu_node=1 mem_node=1\]  bandwidth "
n=$(echo "$OUT" | grep -c '\[cpu_node=.*\]  latency ')
if [ "$n" = 4 ]; then echo "LAB: ok - matrix is 2x2 (4 latency cells)"
else echo "LAB: not ok - matrix is 2x2 (4 latency cells)"; echo "LAB:    | $n cells"; fi
# Remote >= local is not asserted here: QEMU's TCG models no NUMA latency (both nodes are
# the same host RAM behind the same emulated loads), and one run measured the four cells
# at 120, 77, 2222 and 487 ns (0->0, 0->1, 1->0, 1->1): emulation noise, no topology.
# The cells are printed for the record.
for c in "0 0" "0 1" "1 0" "1 1"; do set -- $c
  echo "LAB: info - matrix cell $1->$2 latency p5 $(echo "$OUT" | grep -F "[cpu_node=$1 mem_node=$2]  latency " | sed -n 's/.* p5=\([^ ]*\).*/\1/p' | head -1) ns"
done
check "matrix: vCPU of guest node 0 ran on CPU 0 (host node 0)" "vcpu 0: pinned cpu 0, affinity 0, ran on 0$"
check "matrix: vCPU of guest node 1 ran on CPU 1 (host node 1)" "vcpu 1: pinned cpu 1, affinity 1, ran on 1$"
check "matrix: guest node 1 memory on host node 1" "memory at end: guest node 1 asked host node 1: 16 sampled, 16 there, 0 elsewhere"
OUT=$($VM --workload contention $MEMP --param iters=50000 --vcpus 2 --mem 64M --vnuma 0:32M@host0,1:32M@host1 --param size=2M 2>&1)
check "contention on a split layout completes" "workload contention .*: ok"
# (whether the streamer's bytes land inside the chase window depends on how QEMU's TCG
# schedules the two vCPUs: the loaded point itself is the check here)
check "contention: a loaded point on the split layout (layout numa)" "\[load=1 layout=numa\]  latency "
OUT=$($VM --workload numa-matrix $MEMP --param nodes=2 --mem 64M 2>&1)
check "a 2x2 matrix on one node is refused" "asks for a 2x2 matrix but the VM's layout has 1 node"

# ---- vmm-min's own threads on the lab's KVM (issue 9; tests/integration/test_vmm_overhead.sh) ----
# A guest busy with port exits for exactly 5 s (ended by the run timeout): the supervisor
# sleeps through it, by /proc's count and by the run's own.
$VM --workload pio-user --param iters=1000000 --param batches=20 --param warmup=1 --timeout 8 >/tmp/long.txt 2>&1 &
pid=$!
# Sampled once the guest runs (its vCPU thread exists): building the VM under TCG takes
# the main thread a second or more, which is setup, not supervision.
i=0; while [ "$(ls /proc/$pid/task 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
sleep 1
s0=$(awk '{print $1}' /proc/$pid/task/$pid/schedstat 2>/dev/null)
sleep 3
s1=$(awk '{print $1}' /proc/$pid/task/$pid/schedstat 2>/dev/null)
wait $pid
share=$(awk -v a="$s0" -v b="$s1" 'BEGIN{if (a != "" && b != "") printf "%.5f", (b-a)/3e9}')
if [ -n "$share" ] && awk -v s="$share" 'BEGIN{exit !(s < 0.01)}'; then
  echo "LAB: ok - supervisor used $share of a CPU over 3 s of a busy guest (< 0.01)"
else echo "LAB: not ok - supervisor used '$share' of a CPU over 3 s of a busy guest (< 0.01)"; sed 's/^/LAB:    | /' /tmp/long.txt; fi
# The stored figure: only a run that completes keeps it (a timed-out run keeps no
# samples), so a guest spinning in ring 3 with no exits, for a few seconds here.
OUT=$($VM --workload null --param spin=5000 --param iters=500 --param batches=10 --param warmup=1 --timeout 120 2>&1)
sup=$(echo "$OUT" | awk '$1=="vmm_cpu_supervisor"{sub("median=","",$3); print $3}')
w=$(echo "$OUT" | sed -n 's/^  tsc .*, \([0-9.]*\) s$/\1/p')
if [ -n "$sup" ] && [ -n "$w" ] && awk -v s="$sup" -v w="$w" 'BEGIN{exit !(w >= 1 && s < 0.01 * w)}'; then
  echo "LAB: ok - stored vmm_cpu_supervisor $sup s of a $w s run (< 1%)"
else echo "LAB: not ok - stored vmm_cpu_supervisor '$sup' s of a '$w' s run (want a run >= 1 s, < 1%)"; echo "$OUT" | sed 's/^/LAB:    | /'; fi
$VM --vcpus 2 --vmm-pin 1 --workload pio-user --param iters=1000000 --param batches=8 --timeout 3 >/dev/null 2>&1 &
pid=$!
sleep 1.5
main=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$pid/task/$pid/status)
others=$(for t in /proc/$pid/task/*; do [ "${t##*/}" = "$pid" ] || sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' $t/status; done | sort -u | tr '\n' ' ')
wait $pid
if [ "$main" = 1 ] && [ "$others" = "0 " ]; then echo "LAB: ok - vmm_pin 1: supervisor on CPU 1, unpinned vCPU threads on CPU 0"
else echo "LAB: not ok - vmm_pin 1: supervisor on CPU 1, unpinned vCPU threads on CPU 0"; echo "LAB:    | main '$main' others '$others'"; fi
OUT=$($VM $SMALL --pin 0 --vmm-pin 0 2>&1)
check "vmm_pin on a vCPU's CPU is refused" "vmm_pin CPU 0 is also vCPU 0's CPU"
# Hostile guests on SVM (tests/guests/hostile.c): the whole 64-bit result address, one
# point past the limit, and escape sequences shown rather than sent.
H="--kernel /lab/hostile-guest.elf --timeout 120"
OUT=$($VM $H --workload done-high 2>&1)
check "hostile: the result address keeps its high half" "guest-error: result area at 0x1[0-9a-f]{8} is outside guest memory"
OUT=$($VM $H --workload max-output --param records=2050 --param points=1025 --param console=0 2>&1)
check "hostile: 1025 points end guest-error" "guest-error: result records carry 1025 distinct points, over the limit of 1024 points"
OUT=$($VM $H --workload escapes --console 2>&1)
check "hostile: the reason is shown escaped" 'guest: bad \\x1b\[2J'
if echo "$OUT" | grep -q "$(printf '\033')"; then
  echo "LAB: not ok - hostile: no raw ESC from the guest"; echo "$OUT" | od -c | head -20 | sed 's/^/LAB:    | /'
else echo "LAB: ok - hostile: no raw ESC from the guest"; fi

# ---- the lab knows it is emulated (QEMU's TCG signature in the hypervisor CPUID leaf) ----
OUT=$($VB host 2>&1)
check "host says it is emulated" "^emulated: +tcg \(QEMU software emulation: functional only"
OUT=$($VB run cpuid:iters=5,batches=6,warmup=0 --reps 1 --db /tmp/emu.db 2>&1; $VB show --db /tmp/emu.db 2>&1)
check "show labels the lab's figures emulated" "cpuid .*emulated"
check "and says what that means" "emulated = measured on a host QEMU emulates in software"
