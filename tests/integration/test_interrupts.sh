#!/usr/bin/env bash
# vmmb-lab-seconds: 95
# The interrupt workloads (issue 13) on this host's /dev/kvm, checked on their physics:
#  - every event's one-way IPI latency (handler stamp) comes before its round trip, and
#    the same for self-IPI delivery vs its full cost: the vCPUs' TSC stamps agree;
#  - waking a halted vCPU vs one that spins: on hardware-virtualized hosts with CPUs that
#    run in parallel ipi-halt is slower than ipi; it skips, naming why, on PVM (guest
#    ring 0 emulated: the order varied between runs) and in the lab (serial CPUs);
#  - TSC-deadline timer lateness is never negative and, for a 100 us deadline, under 1 ms
#    (its low decile: on a small shared host other jobs delay many wake-ups by ms);
#  - ipi with sender and receiver on one NUMA node and on two (CPUs from the host's hwloc
#    topology; each skips, naming it, where the host has no such pair) ends ok and stores
#    where each vCPU ran, on the node(s) asked for;
#  - irq-inject's host write() stamp, moved to the guest's clock by KVM's TSC offset, falls
#    between the guest's request (plus the host thread's sleep) and the handler's stamp;
#  - an irqfd interrupt later than wait_ms, awaited in HLT, ends the run unsupported within
#    seconds (the TSC-deadline watchdog), saying the host had not written it yet;
#  - what cannot run ends `unsupported` with its reason, quickly (ipi on one vCPU), and the
#    interrupts suite goes on past it (scaled down, as in the lab: the same kinds of run at
#    smaller sizes); the run stores the host's interrupt facts and the report has its
#    interrupts section.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VM=$BUILD/bin/vmm-min
VB=$BUILD/bin/vmmbench
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
need_kvm

# vals FILE POINT: the non-warm-up `latency` samples (ns) of that point, one per line, in
# batch order, from vmm-min --json.
vals() {
  awk -v pt="$2" 'BEGIN{RS="[{}]"} /"metric":"latency"/ && /"warmup":false/ && index($0, "\"point\":\"" pt "\"") {
    match($0, /"value":[-0-9.e+]+/); print substr($0, RSTART + 8, RLENGTH - 8) }' "$1"
}
# quantile Q: the Q-quantile (0..1) of the numbers on stdin
quantile() { sort -g | awk -v q="$1" '{v[NR]=$1} END{ if (!NR) {print "nan"; exit} i=int(q*(NR-1))+1; print v[i] }'; }
# all_le A B: every line of file A is <= the same line of file B (and both have lines)
all_le() { [ -s "$1" ] && paste "$1" "$2" | awk 'NF!=2 || $1 > $2 {bad=1} END{exit bad}'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a < b)}'; }
lap() { echo "# $1: done at ${SECONDS} s"; } # where the time goes (in the lab, minutes)

# (one `vmmbench host`: in the lab each reading of the hwloc topology takes seconds)
topo=$("$VB" host --topology 2>/dev/null)
flavour=$(awk '$1=="kvm_flavour:"{print $2}' <<<"$topo")
ev=$(scaled 200 20)
run() { # run OUT ARGS...: vmm-min --json into OUT, its stderr into OUT.err
  local out=$1; shift
  "$VM" --json --timeout "$(stretched 30)" "$@" >"$out" 2>"$out.err"
}

# ---- unsupported, quickly, with its reason ----
t0=${EPOCHREALTIME/./}
expect_exit "ipi on one vCPU ends unsupported (exit 1)" 1 "$VM" --workload ipi --probe-timeout 1
t1=${EPOCHREALTIME/./}
expect_out "and says it needs a second vCPU" "unsupported: guest: needs a second vCPU"
el=$(( (t1 - t0) / 1000 ))
# (far under the 60 s run timeout; a loaded 2-core host takes over a second to start a VM)
[ "$el" -lt "$(( $(stretched 10) * 1000 ))" ] && pass "within 10 s ($el ms)" || fail "within 10 s" "took $el ms"

# ---- ipi: a receiver spinning in ring 3 ----
run "$TMP/ipi.json" --workload ipi --vcpus 2 --param events="$ev"
grep -q '"status":"ok"' "$TMP/ipi.json" && pass "ipi runs on two vCPUs" ||
  fail "ipi runs on two vCPUs" "$(head -c 600 "$TMP/ipi.json" "$TMP/ipi.json.err")"
vals "$TMP/ipi.json" "path=oneway" >"$TMP/ipi.one"
vals "$TMP/ipi.json" "path=roundtrip" >"$TMP/ipi.rt"
n=$(wc -l <"$TMP/ipi.one")
[ "$n" -eq "$ev" ] && pass "ipi keeps one raw sample per event ($n)" || fail "ipi keeps one raw sample per event" "$n of $ev"
all_le "$TMP/ipi.one" "$TMP/ipi.rt" && pass "ipi: each one-way latency <= its round trip" ||
  fail "ipi: each one-way latency <= its round trip" "$(paste "$TMP/ipi.one" "$TMP/ipi.rt" | head -5)"
min=$(quantile 0 <"$TMP/ipi.one")
lt 0 "$min" && pass "ipi: one-way latency is positive (min $min ns)" || fail "ipi: one-way latency is positive" "min $min"

# ---- ipi-halt: the receiver in HLT ----
run "$TMP/halt.json" --workload ipi-halt --vcpus 2 --param events="$ev"
grep -q '"status":"ok"' "$TMP/halt.json" && pass "ipi-halt runs" ||
  fail "ipi-halt runs" "$(head -c 600 "$TMP/halt.json" "$TMP/halt.json.err")"
vals "$TMP/halt.json" "path=oneway" >"$TMP/halt.one"
vals "$TMP/halt.json" "path=roundtrip" >"$TMP/halt.rt"
all_le "$TMP/halt.one" "$TMP/halt.rt" && pass "ipi-halt: each one-way latency <= its round trip" ||
  fail "ipi-halt: each one-way latency <= its round trip"
h50=$(quantile 0.5 <"$TMP/halt.one"); h10=$(quantile 0.1 <"$TMP/halt.one")
i50=$(quantile 0.5 <"$TMP/ipi.one")
if [ "$flavour" = pvm ]; then
  # PVM emulates guest ring 0, and which of a ring-0 spinner and a halted receiver takes
  # an IPI sooner varied from run to run (p10 97.9 against 48.3 us, then 10.5 against
  # 47.5 us): no ordering holds there to check. Both paths' samples are checked above.
  skip "ipi-halt is slower than ipi" \
    "capability: hardware-virtualized interrupt delivery (PVM emulates guest ring 0; the order varied between runs)"
  echo "# pvm: ipi (ring 3 spinner) median one-way $i50 ns, ipi-halt $h50 ns"
elif [ -n "${VMMB_LAB_SERIAL_CPUS:-}" ]; then
  # The lab's CPUs take turns on one host thread: a spinning receiver sees its IPI only
  # when the emulator turns to it, a halted one as soon as it is woken, so the two came
  # out within 1% of each other there (3.55 against 3.51 ms), either way round.
  skip "ipi-halt is slower than ipi" \
    "capability: host CPUs that run in parallel (the lab's single-threaded TCG runs its CPUs one at a time)"
  echo "# lab: ipi median one-way $i50 ns, ipi-halt $h50 ns"
else
  lt "$i50" "$h50" && pass "ipi-halt is slower than ipi (median one-way $h50 vs $i50 ns)" ||
    fail "ipi-halt is slower than ipi" "median one-way $h50 vs $i50 ns"
fi

lap "ipi, ipi-halt"

# ---- ipi placement: sender and receiver on one NUMA node, then on two ----
# The pairs come from the host's hwloc topology (`vmmbench host --topology`: "node N cpus:
# LIST"): two CPUs of a node that has two, and the first CPU of each of two nodes. Both
# runs must end ok and store where each vCPU ran, on the node(s) asked for.
node_cpus() { # node_cpus N: that node's CPUs, one per line (ranges expanded)
  awk -v n="$1" '$1 == "node" && $2 == n && $3 == "cpus:" { print $4 }' <<<"$topo" | tr ',' '\n' |
    awk -F- 'NF == 2 { for (i = $1; i <= $2; i++) print i; next } $1 != "" { print $1 }'
}
cpu_node() { # cpu_node C: the node that holds CPU C
  local n
  for n in $nodes; do node_cpus "$n" | grep -qx "$1" && { echo "$n"; return; }; done
  echo "?"
}
nodes=$(awk '$1 == "node" && $3 == "cpus:" { print $2 }' <<<"$topo")
same="" cross=""
for n in $nodes; do
  [ -z "$same" ] && [ "$(node_cpus "$n" | wc -l)" -ge 2 ] && same=$(node_cpus "$n" | head -2 | paste -sd,)
done
set -- $nodes
[ $# -ge 2 ] && cross="$(node_cpus "$1" | head -1),$(node_cpus "$2" | head -1)"
set --
cfgs=""
for c in same cross; do
  pin=${!c}
  [ -n "$pin" ] || continue
  printf '[vm]\nname = %s-node\nvcpus = 2\nmemory = 64M\npin = %s\n' "$c" "$pin" >"$TMP/$c.ini"
  cfgs="$cfgs${cfgs:+,}$TMP/$c.ini"
done
if [ -n "$cfgs" ]; then
  "$VB" run "ipi:events=$ev" --configs "$cfgs" --reps 1 --db "$TMP/pl.db" \
    --timeout "$(stretched 30)" >"$TMP/pl.out" 2>&1
fi
# ran_on CONFIG VCPU: the CPUs that vCPU of that config's run was seen on
ran_on() {
  sqlite3 "$TMP/pl.db" "SELECT p.observed FROM placement p JOIN runs r ON r.id = p.run_id
    JOIN configs c ON c.id = r.config_id WHERE c.name = '$1-node' AND p.kind = 'vcpu'
    AND p.subject = $2 AND p.moment = 'run' LIMIT 1" 2>/dev/null | sed -n 's/.*ran on \([0-9,-]*\).*/\1/p'
}
for c in same cross; do
  pin=${!c}
  [ $c = same ] && where="one NUMA node" || where="two NUMA nodes"
  if [ -z "$pin" ]; then
    [ $c = same ] && why="a NUMA node with 2+ CPUs" || why="2+ NUMA nodes"
    skip "ipi with sender and receiver on $where ends ok, placed as asked" "capability: $why (this host: $(wc -w <<<"$nodes") node(s))"
    continue
  fi
  st=$(sqlite3 "$TMP/pl.db" "SELECT group_concat(DISTINCT r.status) FROM runs r JOIN configs c ON c.id = r.config_id WHERE c.name = '$c-node'" 2>/dev/null)
  [ "$st" = ok ] && pass "ipi with sender and receiver on $where (pin $pin) ends ok" ||
    fail "ipi with sender and receiver on $where (pin $pin) ends ok" "status '$st': $(tail -3 "$TMP/pl.out")"
  r0=$(ran_on "$c" 0); r1=$(ran_on "$c" 1)
  n0=$(cpu_node "$r0"); n1=$(cpu_node "$r1")
  want="${pin%,*} ${pin#*,}"
  bad=$(sqlite3 "$TMP/pl.db" "SELECT count(*) FROM placement p JOIN runs r ON r.id = p.run_id JOIN configs c ON c.id = r.config_id WHERE c.name = '$c-node' AND p.kind = 'vcpu' AND p.ok = 0" 2>/dev/null)
  if [ $c = same ]; then [ "$n0" = "$n1" ]; else [ "$n0" != "$n1" ]; fi
  nodes_ok=$?
  if [ "$r0 $r1" = "$want" ] && [ "$bad" = 0 ] && [ "$nodes_ok" = 0 ] && [ "$n0" != "?" ]; then
    pass "it stores its placement: vCPU 0 ran on CPU $r0 (node $n0), vCPU 1 on CPU $r1 (node $n1)"
  else
    fail "ipi on $where stores its placement as asked" "vCPU 0 on '$r0' (node $n0), vCPU 1 on '$r1' (node $n1), wanted $want; $bad vCPU row(s) not ok"
  fi
done
# the figures: median one-way latency per placement (kept samples; `vmmbench show` gives
# their CIs, which take long to bootstrap in the lab)
for c in same cross; do
  [ -n "${!c}" ] || continue
  m=$(sqlite3 "$TMP/pl.db" "SELECT s.value FROM samples s JOIN runs r ON r.id = s.run_id
    JOIN configs c ON c.id = r.config_id WHERE c.name = '$c-node' AND r.params LIKE '%path=oneway%'
    AND s.metric = 'latency' AND s.warmup = 0" 2>/dev/null | quantile 0.5)
  echo "# ipi on $c-node (pin ${!c}): median one-way $m ns"
done

lap "placement"

# ---- self-ipi ----
run "$TMP/self.json" --workload self-ipi --param events="$ev"
vals "$TMP/self.json" "path=delivery" >"$TMP/self.d"
vals "$TMP/self.json" "path=total" >"$TMP/self.t"
all_le "$TMP/self.d" "$TMP/self.t" && pass "self-ipi: each delivery <= its full cost" ||
  fail "self-ipi: each delivery <= its full cost" "$(head -c 400 "$TMP/self.json" "$TMP/self.json.err")"

# ---- timer ----
run "$TMP/timer.json" --workload timer --param events="$(scaled 50 10)"
vals "$TMP/timer.json" "deadline_ns=100000 what=lateness" >"$TMP/t100"
# the low decile: other jobs on a small host delay many wake-ups by milliseconds (the
# scheduler's, not the timer's), while a timer armed or converted wrongly moves them all
tmed=$(quantile 0.1 <"$TMP/t100")
allpos=$(for d in 0 1000 10000 100000 1000000; do vals "$TMP/timer.json" "deadline_ns=$d what=lateness"; done | quantile 0)
[ -s "$TMP/t100" ] && awk -v m="$allpos" 'BEGIN{exit !(m >= 0)}' &&
  pass "timer: lateness is never negative (min $allpos ns over every deadline)" ||
  fail "timer: lateness is never negative" "min $allpos; $(head -c 400 "$TMP/timer.json.err")"
bound=$(( 1000000 * ${VMMB_TIME_SCALE:-${VMMB_SCALE:-1}} ))
lt "$tmed" "$bound" && pass "timer: a 100 us deadline is late by under 1 ms (p10 $tmed ns)" ||
  fail "timer: a 100 us deadline is late by under 1 ms" "p10 $tmed ns"

lap "self-ipi, timer"

# ---- irq-inject: host thread write() -> guest handler, through KVM's TSC offset ----
delay=300
run "$TMP/inj.json" --workload irq-inject --param events="$(scaled 100 10)" --param delay_us=$delay
grep -q '"status":"ok"' "$TMP/inj.json" && pass "irq-inject runs" ||
  fail "irq-inject runs" "$(head -c 600 "$TMP/inj.json" "$TMP/inj.json.err")"
vals "$TMP/inj.json" "path=inject" >"$TMP/inj.i"
vals "$TMP/inj.json" "path=request" | awk -v d=$delay '{print $1 - d * 1000}' >"$TMP/inj.r"
# the host's stamp (converted) lies between the guest's request + the host's sleep and the
# handler: each inject latency <= request-to-handler less delay_us
all_le "$TMP/inj.i" "$TMP/inj.r" && pass "irq-inject: each write()->handler latency fits inside request->handler less the ${delay} us sleep" ||
  fail "irq-inject: each write()->handler latency fits inside request->handler less the sleep" "$(paste "$TMP/inj.i" "$TMP/inj.r" | head -5)"
imed=$(quantile 0.1 <"$TMP/inj.i")
lt 0 "$(quantile 0 <"$TMP/inj.i")" && lt "$imed" "$(( 1000000 * ${VMMB_TIME_SCALE:-${VMMB_SCALE:-1}} ))" &&
  pass "irq-inject: latency positive, low decile under 1 ms ($imed ns)" || fail "irq-inject: latency positive, low decile under 1 ms" "p10 $imed"

lap "irq-inject"

# ---- a lost irqfd interrupt ends the run quickly, in HLT too (the watchdog) ----
# wait_ms (1) counts from the request and the host thread sleeps 50 ms before each write:
# the first timed event's interrupt cannot come in time, and the vCPU waits in HLT. Without
# the TSC-deadline watchdog that hlt would last until the late interrupt and the run end ok.
t0=${EPOCHREALTIME/./}
expect_exit "irq-inject in HLT, its interrupt later than wait_ms: unsupported (exit 1)" 1 \
  "$VM" --workload irq-inject --param halt=1 --param wait_ms=1 --param delay_us=50000 --param events=5
t1=${EPOCHREALTIME/./}
expect_out "naming the lost interrupt and its bound" "unsupported: guest: irqfd interrupt not delivered within 1 ms"
expect_out "and where it got to (the host had not written it yet)" "the host had not written the irqfd"
el=$(( (t1 - t0) / 1000 ))
[ "$el" -lt "$(( $(stretched 10) * 1000 ))" ] && pass "and ends within 10 s, not at the run timeout ($el ms)" ||
  fail "a lost irqfd interrupt ends within 10 s" "took $el ms"

# A run that overstays while its vCPU waits in HLT (here: 100 ms host delays, far more
# of them than a 2 s timeout holds) says what the vCPU's APIC held when it was stopped.
expect_exit "a run stopped at its timeout while waiting in HLT (exit 1)" 1 \
  "$VM" --workload irq-inject --param events=100 --param delay_us=100000 --timeout 2
expect_out "names the vCPU's APIC state (halted, IF, IRR, ISR, TSC deadline)" \
  "timeout: .*stopped vCPU 0 .*; (halted|runnable), IF=[01], APIC IRR (none|0x[0-9a-f]+) ISR (none|0x[0-9a-f]+), TSC deadline (not armed|armed, not due|due [0-9.]+ ms ago)"
lap "watchdog"

# ---- virtio interrupts: --notify irq (kicks by ioeventfd, completions by irqfd) ----
# metric FILE NAME: the VMM's one value of metric NAME in a vmm-min --json run
metric() {
  awk -v m="$2" 'BEGIN{RS="[{}]"} index($0, "\"metric\":\"" m "\"") && /"warmup":false/ {
    match($0, /"value":[-0-9.e+]+/); print substr($0, RSTART + 8, RLENGTH - 8); exit }' "$1"
}
vio="--blk null --param qd=1 --param size=4096 --param iters=$(scaled 100 20) --param batches=$(scaled 10 3)"
# shellcheck disable=SC2086
run "$TMP/vk.json" --workload virtio-blk --notify exit --param suppress=0 $vio
for m in "1 2" "1 1" "0 2"; do
  read -r w s <<<"$m"
  # shellcheck disable=SC2086
  run "$TMP/vi$w$s.json" --workload virtio-blk-irq --notify irq --param wait="$w" --param suppress="$s" $vio
  grep -q '"status":"ok"' "$TMP/vi$w$s.json" && pass "virtio-blk-irq wait=$w suppress=$s completes on --notify irq" ||
    fail "virtio-blk-irq wait=$w suppress=$s completes on --notify irq" "$(head -c 600 "$TMP/vi$w$s.json" "$TMP/vi$w$s.json.err")"
done
ek=$(metric "$TMP/vk.json" exits_per_req); ei=$(metric "$TMP/vi12.json" exits_per_req)
[ -n "$ek" ] && [ -n "$ei" ] && lt "$ei" "$ek" &&
  pass "interrupt-driven virtio has fewer exits per request than always-kick ($ei vs $ek)" ||
  fail "interrupt-driven virtio has fewer exits per request than always-kick" "'$ei' vs '$ek'"
# the driver's own suppression decides the interrupts: the flags driver asks after every
# request (qd=1: one interrupt each), the polling one (NO_INTERRUPT kept) never
i1=$(metric "$TMP/vi11.json" irqs_per_req); i0=$(metric "$TMP/vi02.json" irqs_per_req)
[ -n "$i1" ] && awk -v v="$i1" 'BEGIN{exit !(v >= 0.9 && v <= 1.1)}' &&
  pass "interrupts, flags suppression: one interrupt per request at qd=1 ($i1)" ||
  fail "interrupts, flags suppression: one interrupt per request at qd=1" "'$i1'"
[ "$i0" = 0 ] && pass "polling in the same ring asks for no interrupt (irqs_per_req $i0)" ||
  fail "polling in the same ring asks for no interrupt" "'$i0'"
for f in vk vi02 vi11 vi12; do
  echo "# $f: iops(first batch) $(metric "$TMP/$f.json" iops) exits/req $(metric "$TMP/$f.json" exits_per_req) kvm_exits/req $(metric "$TMP/$f.json" kvm_exits_per_req) irqs/req $(metric "$TMP/$f.json" irqs_per_req) cpu/req $(metric "$TMP/$f.json" cpu_per_req) us"
done
expect_exit "--notify irq with a polling workload is a usage error (exit 2)" 2 \
  "$VM" --workload virtio-blk --blk null --notify irq
expect_out "naming the workload that takes interrupts" "virtio-blk-irq"
expect_exit "virtio-blk-irq without --notify irq is a usage error (exit 2)" 2 \
  "$VM" --workload virtio-blk-irq --blk null --notify ioeventfd
expect_out "saying how to run it" "run it with --notify irq"

lap "virtio"

# ---- the suite on one vCPU: ipi unsupported, the rest measured; facts and report ----
# Scaled down (the lab: every VM start there takes seconds), the same kinds of run at
# smaller sizes stand in for the whole suite: an unsupported ipi among measured paths.
suite=(--suite interrupts)
what="the interrupts suite"
if [ "${VMMB_SCALE:-1}" -gt 1 ]; then
  suite=(ipi "self-ipi:events=$(scaled 200 10)" "timer:events=$(scaled 50 5)"
    "irq-inject:events=$(scaled 200 10)" "eoi:batches=$(scaled 100 10)")
  what="the interrupt workloads, scaled down,"
fi
expect_exit "$what on one vCPU complete (exit 0)" 0 \
  "$VB" run "${suite[@]}" --reps 1 --db "$TMP/s.db" --timeout "$(stretched 30)"
expect_out "its ipi runs end unsupported, saying why" "ipi .*unsupported.*second vCPU"
expect_out "and the other interrupt paths are measured" "timer .*: ok"
lap "suite"
expect_exit "the report is written" 0 "$VB" report all --db "$TMP/s.db" --out "$TMP/rep"
OUT=$(cat "$TMP/rep/index.html" 2>/dev/null)
expect_out "the report has an interrupts section" "<h2 id=interrupts>"
expect_out "listing the undelivered paths with their reason" "needs a second vCPU"
hp=$(cat /sys/module/kvm/parameters/halt_poll_ns 2>/dev/null || echo unknown)
expect_out "and the host's halt_poll_ns as stored ($hp)" "<td>$hp</td>"
lap "report"
t_summary
