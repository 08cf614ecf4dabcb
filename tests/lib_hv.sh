# Helpers of the tests that hold a QEMU hypervisor against vmm-min (test_hypervisors.sh for
# qemu-microvm, test_hypervisor_pc.sh for qemu-pc): reading `vmm-min --json` results and
# the ratio of paired rounds. The caller sets TMP, where round R of WORKLOAD under
# HYPERVISOR is $TMP/WORKLOAD.HYPERVISOR.R.json, and ROUNDS.

# status FILE; samples METRIC FILE; median METRIC FILE; p10 FILE (latency's 10th percentile)
status() { jq -r .status "$1"; }
samples() { jq "[.samples[] | select(.metric == \"$1\" and (.warmup | not))] | length" "$2"; }
median() { jq "[.samples[] | select(.metric == \"$1\" and (.warmup | not)) | .value] | sort | .[length/2|floor]" "$2"; }
p10() { jq "[.samples[] | select(.metric == \"latency\" and (.warmup | not)) | .value] | sort | .[length/10|floor]" "$1"; }

# paired WORKLOAD STAT HV: the median over the rounds of HV/vmm-min, each round's two runs
# having gone back to back (so each ratio shares the host's state), of STAT: `median`,
# or `floor` (the 10th percentile, where the noise of a shared host adds least).
paired() {
  local r a b
  for r in $(seq "$ROUNDS"); do
    if [ "$2" = floor ]; then a=$(p10 "$TMP/$1.vmm-min.$r.json"); b=$(p10 "$TMP/$1.$3.$r.json")
    else a=$(median latency "$TMP/$1.vmm-min.$r.json"); b=$(median latency "$TMP/$1.$3.$r.json"); fi
    awk -v a="$a" -v b="$b" 'BEGIN{if (a > 0) printf "%.4f\n", b/a}'
  done | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'
}

# judged NAME OK MESSAGE: pass or fail here; in the lab (VMMB_LAB=1, every cycle emulated:
# the design notes' "correctness, not speed") the figure is reported, not judged.
judged() {
  if [ "${VMMB_LAB:-}" = 1 ]; then skip "$1" "lab: emulated timing, reported not judged: $3"
  elif [ "$2" = 1 ]; then pass "$1: $3"; else fail "$1: $3"; fi
}
