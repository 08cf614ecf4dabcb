#!/usr/bin/env bash
# vmmb-lab-seconds: 150 (the last lab run: 130 s with one timing round, plus 17 s of vNUMA checks; about 25 s here)
# The same guest under QEMU (hypervisor = qemu-microvm) and under vmm-min (issue 15), on
# this host's /dev/kvm through the vmm-min CLI, each check against the other VMM as the
# independent reference:
#  - the quick exits workloads run ok under both with the same sample counts;
#  - cpuid (handled inside KVM) agrees within 10%, and pio-user through QEMU's userspace
#    is not faster than through vmm-min's (10% noise band): each as the median over 5
#    rounds of one run under each VMM back to back (alternating order) of the ratio of
#    their medians (cpuid) or floors (pio-user: the 10th percentile of the batches, where
#    the noise of this shared host adds least);
#  - the vCPU thread ran only on the CPU it was pinned to (the run's placement record);
#  - a 2-vCPU workload runs (the reset stub's INIT-SIPI-SIPI brings up vCPU 1);
#  - guest RAM across microvm's 3 GiB split is the same RAM for both;
#  - vNUMA: the guest's layout as under vmm-min, each guest node's pages on its host
#    node (node 1 for guest node 1 in the lab) and vCPU 1 only on its CPU;
#  - hostile guests: a planted result address is refused with vmm-min's own words, an
#    exception names its vector, a guest that never reports ends `timeout` in time;
#  - the reset stub runs 30 instructions before the guest's entry (QEMU's TCG, one
#    instruction per block, its execution trace counted);
#  - virtio workloads: unsupported with the reason (default device), refused (asked for);
#  - QEMU missing: the clear error and the usage exit code, before any run.
# QEMU missing on a host with KVM fails this test: it never silently skips.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/lib_hv.sh
BUILD=${BUILD:-build}
VM=$BUILD/bin/vmm-min
HOSTILE=$BUILD/tests/guest/hostile-guest.elf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
Q=qemu-microvm

need_kvm
if [ -z "$T_GATED" ] && ! "${VMMB_QEMU:-qemu-system-x86_64}" --version >/dev/null 2>&1; then
  fail "qemu-present" "${VMMB_QEMU:-qemu-system-x86_64} does not run: install qemu-system-x86 (this test needs it wherever KVM is)"
  t_summary; exit
fi

run() { # run HV OUT ARGS...: one vmm-min run as JSON, its exit code kept in $RC
  local hv=$1 out=$2; shift 2
  [ -n "$T_GATED" ] && { RC=0; return; }
  "$VM" --hypervisor "$hv" --json "$@" >"$out" 2>"$out.err"; RC=$?
}

# ---- the quick exits workloads under both, interleaved ----
# cpuid and pio-user in 5 rounds, the two VMMs back to back in alternating order (the
# ratio of each pair shares the host's state); null and mmio-user once.
# In the lab every cycle is emulated and these figures are reported, not judged: one round
# shows them, and the lab's time goes to the checks that can fail there.
ROUNDS=5
[ "${VMMB_LAB:-}" = 1 ] && ROUNDS=1
for rep in $(seq $ROUNDS); do
  order="vmm-min $Q"; [ $((rep % 2)) = 0 ] && order="$Q vmm-min"
  for w in cpuid pio-user; do
    for hv in $order; do run "$hv" "$TMP/$w.$hv.$rep.json" --workload "$w" --pin 0 --param batches=60; done
  done
done
for w in null mmio-user; do
  for hv in vmm-min $Q; do run "$hv" "$TMP/$w.$hv.1.json" --workload "$w" --pin 0; done
done
if [ -z "$T_GATED" ]; then
  for w in null cpuid pio-user mmio-user; do
    a=$TMP/$w.vmm-min.1.json b=$TMP/$w.$Q.1.json
    if [ "$(status "$a")" = ok ] && [ "$(status "$b")" = ok ]; then
      na=$(samples latency "$a"); nb=$(samples latency "$b")
      [ "$na" -gt 0 ] && [ "$na" = "$nb" ] &&
        pass "$w-both-ok: ok under both, $na latency samples each" ||
        fail "$w-both-ok: sample counts differ" "vmm-min $na, qemu $nb"
    else
      fail "$w-both-ok" "vmm-min: $(status "$a") $(jq -r .reason "$a"); qemu: $(status "$b") $(jq -r .reason "$b") $(cat "$b.err")"
    fi
  done
else
  for w in null cpuid pio-user mmio-user; do gated "$w-both-ok"; done
fi

if [ -z "$T_GATED" ]; then
  echo "# side by side, median latency ns (cpuid, pio-user: round 1 of $ROUNDS; q/v: median of the rounds' ratios)"
  for w in null cpuid pio-user mmio-user; do
    a=$(median latency "$TMP/$w.vmm-min.1.json"); b=$(median latency "$TMP/$w.$Q.1.json")
    case $w in cpuid|pio-user) qv=$(paired "$w" median $Q) ;; null) qv=- ;;
      *) qv=$(awk -v a="$a" -v b="$b" 'BEGIN{if (a > 0) printf "%.3f", b/a; else print "-"}') ;; esac
    printf '#   %-10s vmm-min %12.1f  qemu-microvm %12.1f  q/v %s\n' "$w" "$a" "$b" "$qv"
  done
  r=$(paired cpuid median $Q)
  ok=$(awk -v r="$r" 'BEGIN{print (r >= 0.9 && r <= 1.1) ? 1 : 0}')
  judged cpuid-agrees "$ok" "qemu/vmm-min cpuid median = $r (median of $ROUNDS paired runs; within 10% wanted)"
  # QEMU's userspace exit cannot beat vmm-min's bare one: 10% for this shared host's noise.
  r=$(paired pio-user floor $Q)
  ok=$(awk -v r="$r" 'BEGIN{print (r >= 0.9) ? 1 : 0}')
  judged pio-user-not-faster "$ok" "qemu/vmm-min pio-user floor = $r (median of $ROUNDS paired runs; >= 0.9 wanted)"
  # Placement: pinned to CPU 0, the QEMU vCPU thread ran on CPU 0 alone.
  ran=$("$VM" --hypervisor $Q --workload cpuid --pin 0 2>&1 | sed -n 's/^  vcpu 0: pinned cpu 0, affinity \([^,]*\), ran on \(.*\)$/\1 \2/p')
  [ "$ran" = "0 0" ] && pass "pinned-vcpu-thread: QEMU's vCPU thread had affinity 0 and ran on 0" ||
    fail "pinned-vcpu-thread: affinity/ran-on '$ran', wanted '0 0'"
else
  for c in cpuid-agrees pio-user-not-faster pinned-vcpu-thread; do gated "$c"; done
fi

# ---- SMP: vCPU 1 comes up through INIT-SIPI-SIPI and serves its jobs ----
run $Q "$TMP/bw.json" --workload bw --vcpus 2 --param threads=2 --param array=1048576 --param ntimes=3 --pin 0,1 --timeout "$(stretched 60)"
if [ -z "$T_GATED" ]; then
  [ "$(status "$TMP/bw.json")" = ok ] && [ "$(jq '[.samples[] | select(.point | tostring | test("vcpus=2"))] | length' "$TMP/bw.json")" -gt 0 ] &&
    pass "smp-2-vcpus: bw with threads=2 measured on both vCPUs under QEMU" ||
    fail "smp-2-vcpus" "$(jq -r '.status + ": " + .reason' "$TMP/bw.json") $(cat "$TMP/bw.json.err")"
else gated "smp-2-vcpus"; fi

# ---- RAM above microvm's 3 GiB split: a 3 GiB working set only the high range holds ----
# (7 GiB of guest RAM, of which the guest touches 3072 pages: the host needs the room on
# paper, vmm_plan_make refuses more memory than the host has; the lab has 4 GiB)
mem_mib=$(awk '/^MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
if [ -z "$T_GATED" ] && [ "$mem_mib" -lt 8192 ]; then
  skip "ram-above-4g" "needs 8 GiB of RAM for a 7 GiB guest; this host has $mem_mib MiB"
else
  for hv in vmm-min $Q; do
    run "$hv" "$TMP/high.$hv.json" --workload tlb --mem 7G --param min=3221225472 --param max=3221225472 --param stride=1048576 --param iters=1000 --param batches=1 --timeout "$(stretched 60)"
  done
  if [ -z "$T_GATED" ]; then
    sa=$(status "$TMP/high.vmm-min.json"); sb=$(status "$TMP/high.$Q.json")
    [ "$sa" = ok ] && [ "$sb" = ok ] && pass "ram-above-4g: a 3 GiB working set in the RAM above 4 GiB runs under both" ||
      fail "ram-above-4g" "vmm-min $sa, qemu $sb: $(jq -r .reason "$TMP/high.$Q.json") $(cat "$TMP/high.$Q.json.err")"
  else gated "ram-above-4g"; fi
fi

# ---- vNUMA: guest node 1 on host node K (1 where the host has two nodes, as in the lab) ----
# The guest learns its layout from vmm-min's boot info under both VMMs, so the console
# layout lines must be the same. The binding is vmm-min's mbind of the memfd, a shmem
# shared policy QEMU's faults obey: numa-matrix without prefault, whose vCPU 0 (on host
# node 0) first touches guest node 1's buffer, must find those pages on host node K.
node_cpus() { awk -F, '{for (i = 1; i <= NF; i++) { n = split($i, r, "-"); for (c = r[1]; c <= r[n]; c++) print c } }' "/sys/devices/system/node/node$1/cpulist"; }
K=0; [ -d /sys/devices/system/node/node1 ] && K=1
c0=$(node_cpus 0 | head -1); cK=$(node_cpus $K | grep -vx "$c0" | head -1); cK=${cK:-$c0}
VN="--vcpus 2 --vnuma 0:32M@host0,1:32M@host$K --pin $c0,$cK"
if [ -z "$T_GATED" ]; then
  for hv in vmm-min $Q; do
    "$VM" --hypervisor $hv --workload layout $VN --console >"$TMP/vn.$hv.out" 2>&1; echo $? >"$TMP/vn.$hv.rc"
  done
  la=$(grep '^layout:' "$TMP/vn.vmm-min.out"); lb=$(grep '^layout:' "$TMP/vn.$Q.out")
  [ "$(cat "$TMP/vn.$Q.rc")" = 0 ] && [ -n "$la" ] && [ "$la" = "$lb" ] &&
    grep -q '^layout: vnode 0 mem .* vcpus 0$' <<<"$lb" && grep -q '^layout: vnode 1 mem .* vcpus 1$' <<<"$lb" &&
    pass "vnuma-layout: QEMU's guest sees the two nodes with their vCPUs as vmm-min's" ||
    fail "vnuma-layout: under QEMU (exit $(cat "$TMP/vn.$Q.rc"))" "vmm-min: $la; qemu: $(tail -5 "$TMP/vn.$Q.out")"
  "$VM" --hypervisor $Q --workload numa-matrix $VN --param size=4194304 --param iters=1000 --param batches=1 --param warmup=0 --timeout "$(stretched 120)" >"$TMP/vnm.out" 2>&1; rc=$?
  bad=""
  for n in 0 1; do
    h=0; [ $n = 1 ] && h=$K
    l=$(grep "memory at end: guest node $n asked host node $h: " "$TMP/vnm.out")
    there=$(sed -n 's/.* sampled, \([0-9]*\) there, \([0-9]*\) elsewhere.*/\1 \2/p' <<<"$l")
    [ -n "$there" ] && [ "${there% *}" -gt 0 ] && [ "${there#* }" = 0 ] || bad="$bad [node $n: '${l:-no line}']"
  done
  grep -E '^  (vcpu [01]|memory at end: guest node)' "$TMP/vnm.out" | sed 's/^ */#   qemu vnuma: /'
  grep -q "^  vcpu 1: pinned cpu $cK, affinity $cK, ran on $cK$" "$TMP/vnm.out" || bad="$bad [vcpu 1 not only on cpu $cK]"
  [ $rc = 0 ] && [ -z "$bad" ] &&
    pass "vnuma-binding: under QEMU each guest node's touched pages are on its host node (0 and $K), vCPU 1 on cpu $cK" ||
    fail "vnuma-binding: exit $rc$bad" "$(grep -E 'numa-matrix|memory at end|vcpu' "$TMP/vnm.out")"
else
  for c in vnuma-layout vnuma-binding; do gated "$c"; done
fi

# ---- hostile guests ----
for w in bad-result-ptr corrupt-result huge-count done-high; do
  for hv in vmm-min $Q; do run "$hv" "$TMP/h-$w.$hv.json" --kernel "$HOSTILE" --workload "$w" --timeout "$(stretched 10)"; done
  if [ -z "$T_GATED" ]; then
    ra=$(jq -r '.status + ": " + .reason' "$TMP/h-$w.vmm-min.json"); rb=$(jq -r '.status + ": " + .reason' "$TMP/h-$w.$Q.json")
    [ "${ra%%:*}" = guest-error ] && [ "$ra" = "$rb" ] && pass "hostile-$w: refused the same way ($rb)" ||
      fail "hostile-$w: refused differently" "vmm-min '$ra', qemu '$rb'"
  else gated "hostile-$w"; fi
done
run $Q "$TMP/ud.json" --kernel "$HOSTILE" --workload ud --timeout "$(stretched 10)"
[ -n "$T_GATED" ] && gated "hostile-ud" || {
  [ "$(status "$TMP/ud.json")" = guest-crash ] && jq -r .reason "$TMP/ud.json" | grep -q "vector 6" &&
    pass "hostile-ud: guest-crash naming vector 6" || fail "hostile-ud" "$(jq -r '.status + ": " + .reason' "$TMP/ud.json")"; }
t0=${EPOCHREALTIME/./}
run $Q "$TMP/hang.json" --kernel "$HOSTILE" --workload hang --timeout 2
t1=${EPOCHREALTIME/./}
[ -n "$T_GATED" ] && gated "hostile-hang-timeout" || {
  took=$(( (t1 - t0) / 1000 )); lim=$(( 2000 + $(stretched 3) * 1000 ))
  [ "$(status "$TMP/hang.json")" = timeout ] && [ "$took" -lt "$lim" ] &&
    pass "hostile-hang-timeout: a guest that never reports ends timeout after ${took} ms (timeout 2 s)" ||
    fail "hostile-hang-timeout" "$(status "$TMP/hang.json") after ${took} ms (limit $lim)"; }
run $Q "$TMP/probe.json" --kernel "$HOSTILE" --workload probe-hang --probe-timeout 1 --timeout 20
[ -n "$T_GATED" ] && gated "hostile-probe-unsupported" || {
  [ "$(status "$TMP/probe.json")" = unsupported ] && pass "hostile-probe-unsupported: a probe that never returns is unsupported" ||
    fail "hostile-probe-unsupported" "$(jq -r '.status + ": " + .reason' "$TMP/probe.json")"; }

# ---- the reset stub's cost: instructions executed before the guest's ELF entry ----
# The same run under QEMU's TCG (a wrapper as VMMB_QEMU swaps the accelerator and logs
# every executed instruction as its own block); every instruction of the stub is CPL0,
# about 500 ns on PVM hosts, so its count is its cost.
cat >"$TMP/qemu-tcg" <<EOF
#!/usr/bin/env bash
args=()
for a in "\$@"; do
  case \$a in kvm,kernel-irqchip=on) args+=(tcg) ;; host) args+=(max) ;; *) args+=("\$a") ;; esac
done
exec ${VMMB_QEMU:-qemu-system-x86_64} "\${args[@]}" -singlestep -d exec,nochain -D "$TMP/tcg.log"
EOF
chmod +x "$TMP/qemu-tcg"
entry=$(readelf -h "$BUILD/share/vmmbench/guest/vmmbench-guest.elf" | awk '/Entry point/ {print $4}')
entry=$(printf '%016x' "$((entry))")
expect_exit "stub-runs-under-tcg" 0 env VMMB_QEMU="$TMP/qemu-tcg" "$VM" --hypervisor $Q --workload null --param batches=1 --param iters=1 --param warmup=0 --timeout "$(stretched 60)"
if [ -z "$T_GATED" ]; then
  n=$(grep '^Trace' "$TMP/tcg.log" 2>/dev/null | awk -v e="/$entry/" 'index($0, e) {print NR - 1; found=1; exit} END {if (!found) print "none"}')
  [ "$n" = 30 ] && pass "stub-30-instructions: the BSP ran 30 stub instructions before the guest entry" ||
    fail "stub-30-instructions: $n instructions before the entry 0x$entry (wanted 30)"
else gated "stub-30-instructions"; fi

# ---- virtio: a device workload's default device is vmm-min's; under QEMU it ends
# unsupported, saying so (a suite goes on), and a device asked for is refused ----
expect_exit "virtio-default-unsupported" 1 "$VM" --hypervisor $Q --workload virtio-blk
expect_out "virtio-default-unsupported-says-why" "unsupported: .*virtio device"
expect_exit "virtio-asked-refused" 2 "$VM" --hypervisor $Q --workload virtio-blk --blk null
expect_out "virtio-asked-refused-names-key" "blk/net devices"

# ---- QEMU missing: refused at plan time, usage exit code, naming the binary and the fix ----
expect_exit "qemu-missing-exit-code" 2 env VMMB_QEMU=/nonexistent/qemu "$VM" --hypervisor $Q --workload cpuid
expect_out "qemu-missing-message" "/nonexistent/qemu.*install qemu-system-x86 or set VMMB_QEMU"
# ... and nothing QEMU cannot do gets as far as a run
expect_exit "qemu-refuses-thp" 2 "$VM" --hypervisor $Q --workload cpuid --backing anonymous_thp
expect_out "qemu-refuses-thp-names-key" "backing"

t_summary
