# Runs inside the lab (busybox sh), from `make bench`: the exit ratios of
# tests/bench/exit-bench.sh on the lab's KVM (SVM with nested paging under QEMU TCG):
# vmm-min against the bare KVM_RUN loop running the same guest, alternating, in three
# placements. Everything here is emulated, so the figures are reported, not judged: the
# ratio between two programs run side by side is what carries over, not the nanoseconds.
VM=/opt/vmmb/bin/vmm-min
BARE=/opt/vmmb/bin/bare_kvm
G=/opt/vmmb/share/vmmbench/guest/vmmbench-guest.elf
ROUNDS=${LAB_BENCH_ROUNDS:-3}
P="batches=6 iters=20 warmup=1"

median() { sort -g | awk 'NF{v[++n]=$1} END {if (n) print (n%2) ? v[(n+1)/2] : (v[n/2]+v[n/2+1])/2}'; }
vmm_args() { case $1 in separate) echo "--pin 0 --vmm-pin 1";; unpinned) echo "";; 2vcpu) echo "--vcpus 2";; esac; }
bare_args() { case $1 in separate) echo "--pin 0";; unpinned) echo "";; 2vcpu) echo "--vcpus 2";; esac; }
run_vmm() { $VM --kernel $G --workload $2 $(vmm_args $1) $(for p in $P ring=$3; do echo "--param $p"; done) --timeout 120 2>/dev/null | awk '$1=="latency"{sub("median=","",$3); print $3}'; }
run_bare() { $BARE $(bare_args $1) $G $2 $P ring=$3 2>/dev/null | awk '{print $2}'; }

for pl in separate unpinned 2vcpu; do
  for w in pio-user mmio-user cpuid; do
    for ring in 3 0; do
      : >/tmp/v; : >/tmp/b
      r=0
      while [ $r -lt "$ROUNDS" ]; do
        if [ $((r % 2)) -eq 0 ]; then run_vmm $pl $w $ring >>/tmp/v; run_bare $pl $w $ring >>/tmp/b
        else run_bare $pl $w $ring >>/tmp/b; run_vmm $pl $w $ring >>/tmp/v; fi
        r=$((r + 1))
      done
      v=$(median </tmp/v); b=$(median </tmp/b)
      ratio=$(awk -v a="$v" -v b="$b" 'BEGIN{if (a > 0 && b > 0) printf "%.3f", a/b}')
      if [ -n "$ratio" ]; then echo "LAB: ok - exit $pl $w ring $ring: vmm-min $v ns, bare $b ns, ratio $ratio"
      else echo "LAB: not ok - exit $pl $w ring $ring: no figure (vmm-min '$v', bare '$b')"; fi
    done
  done
done
