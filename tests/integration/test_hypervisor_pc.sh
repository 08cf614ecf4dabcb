#!/usr/bin/env bash
# vmmb-lab-seconds: 190 (the last lab run: 186 s with one timing round; a few seconds here, where qemu-pc is refused)
# hypervisor = qemu-pc (issue 15): the same guest under QEMU's stock q35 machine with
# SeaBIOS (vmm-min/lib/qemu/qemu_pc_*), through the vmm-min CLI, against vmm-min itself.
# Its own file beside test_hypervisors.sh (qemu-microvm), which already fills the lab's
# 900 s a test gets.
#  - On a PVM host (the kvm_pvm module) SeaBIOS's ring-0 POST is emulated and costs
#    seconds a boot: qemu-pc is refused at plan time, naming why and the way out.
#  - Anywhere else (the lab's SVM KVM): the quick exits workloads run ok with the same
#    sample counts as under vmm-min; cpuid and pio-user are compared with vmm-min's in
#    paired rounds (cpuid within 10%, pio-user's floor not below: judged on hardware,
#    reported in the lab, whose timing is emulated); a 2-vCPU workload runs (the boot
#    stub's INIT-SIPI-SIPI); memory q35 puts above 4 GiB is refused naming the key.
# QEMU missing on a host with KVM fails this test: it never silently skips.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/lib_hv.sh
BUILD=${BUILD:-build}
VM=$BUILD/bin/vmm-min
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
P=qemu-pc

need_kvm
if [ -z "$T_GATED" ] && ! "${VMMB_QEMU:-qemu-system-x86_64}" --version >/dev/null 2>&1; then
  fail "qemu-present" "${VMMB_QEMU:-qemu-system-x86_64} does not run: install qemu-system-x86 (this test needs it wherever KVM is)"
  t_summary; exit
fi

if [ -d "${VMMB_SYSFS_ROOT:-/sys}/module/kvm_pvm" ]; then
  expect_exit "qemu-pc-refused-on-pvm" 2 "$VM" --hypervisor $P --workload cpuid
  expect_out "qemu-pc-refusal-says-why" "PVM.*SeaBIOS.*s a boot.*use hypervisor = qemu-microvm"
  t_summary; exit
fi

# run HV OUT ARGS...: one vmm-min run as JSON. The run's timeout includes SeaBIOS's boot,
# which a loaded lab (emulated, shared with other labs) stretched to 30 s: 90 s here.
# In the lab SeaBIOS's POST now and then never ends (about 1 boot in 8, stuck in its
# real-mode code before the boot stub runs, with or without kvmvapic): such a run ends
# `timeout` saying SeaBIOS never handed over (the stub marks its start), and is run once
# more, said here; a guest that hangs after the hand-over is never retried.
FW_HANGS=0
run() {
  local hv=$1 out=$2; shift 2
  [ -n "$T_GATED" ] && return
  "$VM" --hypervisor "$hv" --json --timeout 90 "$@" >"$out" 2>"$out.err"
  if [ "$hv" = $P ] && jq -e '.status == "timeout" and (.reason | test("before SeaBIOS handed over"))' "$out" >/dev/null 2>&1; then
    FW_HANGS=$((FW_HANGS + 1))
    echo "# SeaBIOS never handed over ($*): run once more"
    "$VM" --hypervisor "$hv" --json --timeout 90 "$@" >"$out" 2>"$out.err"
  fi
}
# ---- the quick exits: cpuid and pio-user in paired rounds (the two VMMs back to back,
# alternating which goes first), null and mmio-user once each ----
# In the lab, where these figures are reported and not judged, one round shows them.
ROUNDS=3
[ "${VMMB_LAB:-}" = 1 ] && ROUNDS=1
for rep in $(seq $ROUNDS); do
  order="vmm-min $P"; [ $((rep % 2)) = 0 ] && order="$P vmm-min"
  for w in cpuid pio-user; do
    for hv in $order; do run "$hv" "$TMP/$w.$hv.$rep.json" --workload "$w" --pin 0; done
  done
done
for w in null mmio-user; do
  for hv in vmm-min $P; do run "$hv" "$TMP/$w.$hv.1.json" --workload "$w" --pin 0; done
done
if [ -z "$T_GATED" ]; then
  for w in null cpuid pio-user mmio-user; do
    a=$TMP/$w.vmm-min.1.json b=$TMP/$w.$P.1.json
    if [ "$(status "$a")" = ok ] && [ "$(status "$b")" = ok ]; then
      na=$(samples latency "$a"); nb=$(samples latency "$b")
      [ "$nb" -gt 0 ] && [ "$na" = "$nb" ] &&
        pass "qemu-pc-$w-ok: ok under q35 + SeaBIOS, $nb latency samples as under vmm-min ($(jq .wall_seconds "$b") s a run, vmm-min $(jq .wall_seconds "$a") s)" ||
        fail "qemu-pc-$w-ok: sample counts differ" "vmm-min $na, qemu-pc $nb"
    else
      fail "qemu-pc-$w-ok" "vmm-min: $(status "$a") $(jq -r .reason "$a"); qemu-pc: $(status "$b") $(jq -r .reason "$b") $(cat "$b.err")"
    fi
  done
  echo "# side by side, median latency ns (round 1; pc/v: median of the $ROUNDS rounds' ratios)"
  for w in null cpuid pio-user mmio-user; do
    a=$(median latency "$TMP/$w.vmm-min.1.json"); b=$(median latency "$TMP/$w.$P.1.json")
    case $w in cpuid|pio-user) qv=$(paired "$w" median $P) ;; null) qv=- ;;
      *) qv=$(awk -v a="$a" -v b="$b" 'BEGIN{if (a > 0) printf "%.3f", b/a; else print "-"}') ;; esac
    printf '#   %-10s vmm-min %12s  qemu-pc %12s  pc/v %s\n' "$w" "$a" "$b" "$qv"
  done
  r=$(paired cpuid median $P)
  ok=$(awk -v r="$r" 'BEGIN{print (r >= 0.9 && r <= 1.1) ? 1 : 0}')
  judged qemu-pc-cpuid-agrees "$ok" "qemu-pc/vmm-min cpuid median = $r (median of $ROUNDS paired runs; within 10% wanted)"
  # QEMU's userspace exit cannot beat vmm-min's bare one: 10% for a shared host's noise.
  r=$(paired pio-user floor $P)
  ok=$(awk -v r="$r" 'BEGIN{print (r >= 0.9) ? 1 : 0}')
  judged qemu-pc-pio-user-not-faster "$ok" "qemu-pc/vmm-min pio-user floor = $r (median of $ROUNDS paired runs; >= 0.9 wanted)"
  # Placement: pinned to CPU 0, QEMU's vCPU thread ran on CPU 0 alone.
  ran=$("$VM" --hypervisor $P --workload null --param batches=2 --pin 0 --timeout 90 2>&1 | sed -n 's/^  vcpu 0: pinned cpu 0, affinity \([^,]*\), ran on \(.*\)$/\1 \2/p')
  [ "$ran" = "0 0" ] && pass "qemu-pc-pinned-vcpu-thread: QEMU's vCPU thread had affinity 0 and ran on 0" ||
    fail "qemu-pc-pinned-vcpu-thread: affinity/ran-on '$ran', wanted '0 0'"
else
  for c in null cpuid pio-user mmio-user; do gated "qemu-pc-$c-ok"; done
  for c in cpuid-agrees pio-user-not-faster pinned-vcpu-thread; do gated "qemu-pc-$c"; done
fi

# ---- SMP: the boot stub's INIT-SIPI-SIPI brings vCPU 1 out of SeaBIOS's halt ----
run $P "$TMP/bw.json" --workload bw --vcpus 2 --param threads=2 --param array=1048576 --param ntimes=3 --pin 0,1
if [ -z "$T_GATED" ]; then
  [ "$(status "$TMP/bw.json")" = ok ] && [ "$(jq '[.samples[] | select(.point | tostring | test("vcpus=2"))] | length' "$TMP/bw.json")" -gt 0 ] &&
    pass "qemu-pc-smp-2-vcpus: bw with threads=2 measured on both vCPUs under q35 + SeaBIOS" ||
    fail "qemu-pc-smp-2-vcpus" "$(jq -r '.status + ": " + .reason' "$TMP/bw.json") $(cat "$TMP/bw.json.err")"
else gated "qemu-pc-smp-2-vcpus"; fi

echo "# SeaBIOS hung before the hand-over in $FW_HANGS boot(s), each run once more"

# ---- what q35 cannot hold is refused before any run, naming the key ----
expect_exit "qemu-pc-refuses-big-memory" 2 "$VM" --hypervisor $P --workload cpuid --mem 3G
expect_out "qemu-pc-refuses-big-memory-names-key" "memory = 3072 MiB"

t_summary
