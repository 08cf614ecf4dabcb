#!/usr/bin/env bash
# vmmb-lab-seconds: 113 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# Placement on this host's real /dev/kvm: pinning, every backing (with hugetlb pools this
# test sets up and restores), 4k/2m/1g guest pages, NUMA policy, the vNUMA layout as the
# guest sees it, and a planted mismatch that must be flagged. Two-node checks run in the
# lab (tests/lab).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
VM=$BUILD/bin/vmm-min
TMP=$(mktemp -d)
H2=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
H1=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
THP=/sys/kernel/mm/transparent_hugepage/enabled
saved_h2=$(cat $H2 2>/dev/null); saved_h1=$(cat $H1 2>/dev/null)
saved_thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' $THP 2>/dev/null)
restore() {
  [ -n "$saved_h2" ] && echo "$saved_h2" >$H2 2>/dev/null
  [ -n "$saved_h1" ] && echo "$saved_h1" >$H1 2>/dev/null
  [ -n "$saved_thp" ] && echo "$saved_thp" >$THP 2>/dev/null
  rm -rf "$TMP"
}
trap restore EXIT
SMALL="--workload cpuid --param iters=20 --param batches=3 --param warmup=1"

need_kvm
ncpu=$(nproc)

# ---- pinning ----
if [ "$ncpu" -ge 2 ]; then
  expect_exit "pin vCPU 0 to CPU 1" 0 "$VM" $SMALL --pin 1
  expect_out "vCPU 0 affinity and CPUs seen are CPU 1" "vcpu 0: pinned cpu 1, affinity 1, ran on 1$"
  expect_out "pinned run is as requested" "placement as requested"
  expect_exit "scatter two vCPUs" 0 "$VM" $SMALL --vcpus 2 --pin scatter
  a=$(sed -n 's/.*vcpu 0: pinned cpu \([0-9]*\).*/\1/p' <<<"$OUT"); b=$(sed -n 's/.*vcpu 1: pinned cpu \([0-9]*\).*/\1/p' <<<"$OUT")
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] && pass "scatter puts vCPUs on different CPUs ($a, $b)" || fail "scatter puts vCPUs on different CPUs" "$OUT"
else
  skip "pinning" "needs 2 host CPUs"
fi
expect_exit "vmm_pin the VMM thread" 0 "$VM" $SMALL --vmm-pin 0
expect_out "the VMM pin is part of the recorded request" "placement requested: .* vmm_pin=0$"
expect_out "the VMM-pinned run is as requested" "placement as requested"

# ---- backings ----
expect_exit "anonymous backing, prefaulted" 0 "$VM" $SMALL --backing anonymous --prefault yes
expect_out "anonymous: all 64 MiB resident, no huge pages" "memory at end: resident 65536 KiB, huge 0 KiB"
expect_exit "shmem backing" 0 "$VM" $SMALL --backing shmem --prefault yes
expect_out "shmem: all 64 MiB resident" "memory at end: resident 65536 KiB"
case "$saved_thp" in
  always|madvise)
    expect_exit "anonymous_thp backing" 0 "$VM" $SMALL --backing anonymous_thp --prefault yes
    expect_out "THP backs the guest with huge pages" "memory at end: resident 65536 KiB, huge 65536 KiB"
    expect_out "THP run is as requested" "placement as requested" ;;
  *) skip "anonymous_thp backing" "transparent hugepages are '$saved_thp' on this host" ;;
esac

if [ "$(id -u)" -eq 0 ] && [ -w "$H2" ]; then
  echo 0 >$H2
  expect_exit "hugetlb 2M with an empty pool is refused" 7 "$VM" $SMALL --backing anonymous_hugetlb_2mb
  expect_out "the refusal names the missing pages and the command" "need 32 pages of 2048 kB, 0 free; add 32 with: echo 32 > $H2"
  echo 32 >$H2
  expect_exit "hugetlb 2M backing" 0 "$VM" $SMALL --backing anonymous_hugetlb_2mb --prefault yes
  expect_out "hugetlb 2M backs all guest memory" "memory at end: resident 65536 KiB, huge 65536 KiB"
  echo "${saved_h2:-0}" >$H2
  if [ -w "$H1" ]; then
    echo $(( ${saved_h1:-0} + 1 )) >$H1
    if [ "$(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages)" -ge 1 ]; then
      expect_exit "hugetlb 1G backing" 0 "$VM" $SMALL --backing anonymous_hugetlb_1gb --mem 1G --prefault yes
      expect_out "hugetlb 1G backs all guest memory" "memory at end: resident 1048576 KiB, huge 1048576 KiB"
    else
      skip "hugetlb 1G backing" "the kernel could not allocate a 1 GiB page now (memory fragmented)"
    fi
    echo "${saved_h1:-0}" >$H1
  else
    skip "hugetlb 1G backing" "no 1 GiB hugetlb pool on this host"
  fi
else
  skip "hugetlb backings" "needs root to size the hugetlb pools"
fi

# ---- guest page sizes, seen from inside the guest ----
expect_exit "4k guest pages" 0 "$VM" --workload layout --guest-pages 4k --console
expect_out "the guest runs on 4 KiB tables" "guest_page 4096"
expect_exit "2m guest pages" 0 "$VM" --workload layout --guest-pages 2m --console
expect_out "the guest runs on 2 MiB tables" "guest_page 2097152"
expect_exit "4k guest pages over 2 GiB, prefaulted" 0 "$VM" $SMALL --guest-pages 4k --mem 2G --prefault yes
expect_out "all 2 GiB resident after prefault" "memory at end: resident 2097152 KiB"
OUT=$("$VM" --workload layout --guest-pages 1g --console 2>&1); rc=$?
if [ $rc -eq 0 ]; then
  expect_out "the guest runs on 1 GiB tables" "guest_page 1073741824" <<<""
elif [ $rc -eq 2 ] && grep -q "does not offer guests 1 GiB pages" <<<"$OUT"; then
  pass "1g guest pages refused before boot where KVM lacks them (this host's KVM)"
else
  fail "1g guest pages" "exit $rc: $OUT"
fi

# ---- NUMA policy and the vNUMA layout ----
expect_exit "numa bind:0" 0 "$VM" $SMALL --numa bind:0 --prefault yes
expect_out "sampled pages are on node 0" "guest node 0 asked host node 0: 16 sampled, 16 there, 0 elsewhere"
expect_exit "vNUMA layout of two guest nodes" 0 "$VM" --workload layout --vcpus 3 --vnuma 0:32M@host0,1:32M@host0 --console
expect_out "the guest sees two nodes" "layout: vcpus 3 vnodes 2"
expect_out "guest node 0: first 32 MiB, vCPUs 0 1" "layout: vnode 0 mem 0x0000000000000000\+0x0000000002000000 vcpus 0 1$"
expect_out "guest node 1: next 32 MiB, vCPU 2" "layout: vnode 1 mem 0x0000000002000000\+0x0000000002000000 vcpus 2$"
expect_exit "vNUMA larger than memory is refused" 2 "$VM" $SMALL --vnuma 0:64M@host0,1:64M@host0
expect_out "the refusal gives both sizes and the fix" "vnuma layout of 128 MiB is larger than the guest memory of 64 MiB; shrink the nodes or raise memory"
expect_exit "pin to a CPU that does not exist" 2 "$VM" $SMALL --pin 4096
expect_out "the refusal names the CPU" "host CPU 4096 does not exist"
expect_exit "numa bind to a node that does not exist" 2 "$VM" $SMALL --numa bind:63
expect_out "the refusal names the node and how many the host has" "host NUMA node 63 does not exist; this host has $(ls -d /sys/devices/system/node/node[0-9]* | wc -l) node"

# ---- through vmmbench: stored, shown, and a mismatch flagged ----
printf '[vm]\nname = placed\nvcpus = 1\nmemory = 64M\npin = 0\nprefault = yes\nbacking = anonymous\n' >"$TMP/placed.ini"
expect_exit "vmmbench run with placement keys" 0 "$VB" run cpuid:iters=20,batches=3 --config "$TMP/placed.ini" --reps 1 --db "$TMP/p.db"
expect_exit "show --run prints placement" 0 "$VB" show --run 1 --db "$TMP/p.db"
expect_out "vCPU placement row" "vcpu +0 +run +cpu 0 +affinity 0, ran on 0 +ok"
expect_out "memory placement rows" "memory +0 +at_end"
expect_exit "show --run --json" 0 "$VB" show --run 1 --json --db "$TMP/p.db"
expect_out "json carries the placement facts" '"placement":\[\{"run":1,"kind":"vcpu","subject":0,"moment":"run","requested":"cpu 0","observed":"affinity 0, ran on 0","ok":true\}'
# One vCPU fact, and memory and backing each after touching and at the end: all ok.
n=$(sqlite3 "$TMP/p.db" "SELECT group_concat(kind || ':' || moment || ':' || ok, ' ') FROM (SELECT * FROM placement WHERE run_id = 1 ORDER BY kind, moment)")
[ "$n" = "backing:after_touch:1 backing:at_end:1 memory:after_touch:1 memory:at_end:1 vcpu:run:1" ] \
  && pass "placement facts stored, each ok ($n)" || fail "placement facts stored, each ok" "$n"
printf '[vm]\nname = x\npin = 0\nfrobs = 1\n' >"$TMP/badkey.ini" # frobs on line 4
expect_exit "unknown key next to placement keys" 3 "$VB" run null --config "$TMP/badkey.ini" --db "$TMP/p.db"
expect_out "the error lists the placement keys" "badkey.ini:4: unknown key 'frobs'.*vnuma"
printf '[vm]\nname = x\nbacking = anon\n' >"$TMP/badback.ini"
expect_exit "bad backing value" 3 "$VB" run null --config "$TMP/badback.ini" --db "$TMP/p.db"
expect_out "the error names file, line and choices" "badback.ini:3: backing 'anon' is unknown"

if [ "$(id -u)" -eq 0 ] && [ -w "$THP" ]; then
  echo never >$THP
  printf '[vm]\nname = thp\nmemory = 64M\nbacking = anonymous_thp\nprefault = yes\n' >"$TMP/thp.ini"
  expect_exit "THP asked while the host refuses it: the run completes" 0 "$VB" run cpuid:iters=20,batches=3 --config "$TMP/thp.ini" --reps 1 --db "$TMP/m.db"
  m=$(sqlite3 "$TMP/m.db" "SELECT placement_mismatch FROM runs")
  grep -q "anonymous_thp: only 0 of 65536 KiB resident are huge pages" <<<"$m" \
    && pass "THP not granted is stored as a mismatch" || fail "THP not granted is stored as a mismatch" "$m"
  expect_exit "show lists the mismatching run" 0 "$VB" show --db "$TMP/m.db"
  expect_out "show has a mismatch section" "runs whose placement did not match the request"
  expect_out "show names the run and the mismatch" "^  1 thp cpuid: anonymous_thp: only 0 of 65536 KiB"
  expect_exit "show --json" 0 "$VB" show --json --db "$TMP/m.db"
  expect_out "json lists the mismatching run" '"placement":\[\{"run":1,"config":"thp","workload":"cpuid","mismatch":"anonymous_thp: only 0 of 65536 KiB'
  echo "$saved_thp" >$THP
else
  skip "THP refusal flagged" "needs root to switch transparent hugepages off"
fi

t_summary
