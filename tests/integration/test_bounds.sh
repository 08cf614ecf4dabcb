#!/usr/bin/env bash
# vmmb-lab-seconds: 71 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# Bounded guest output, through the real commands on /dev/kvm with the hostile guest
# (tests/guests/hostile.c):
#  - the worst run a guest may produce (max-output: every record a measurement, the most
#    distinct points, a full console) is stored by `vmmbench run` within the documented
#    bounds: the database file at most MAX_DB_BYTES, the store at most MAX_STORE_S of
#    wall time and the whole run at most MAX_RUN_CPU_S of CPU; the console and placement
#    rows are stored once; vmm-min summarises the same run within MAX_VM_CPU_S of CPU;
#  - one point or one record past the limits ends the run guest-error naming the limit;
#  - a guest's terminal escape sequences (escapes) never reach vmm-min's, run's or show's
#    output as raw ESC bytes (0x1b), on a terminal or not: they are shown as \x1b.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
VM=$BUILD/bin/vmm-min
HOSTILE=$BUILD/tests/guest/hostile-guest.elf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# The README's figures ("Bounded guest output"): the worst run takes 17.4 MB and about
# 1 s of CPU to store (4-5 s of wall time on the shared 2-CPU development VM under a load
# average of 10). These bounds are correctness guards, not benchmarks: the CPU bounds are
# what tells the former quadratic code apart whatever the machine's load (its store
# alone took 6 s of CPU, its vmm-min summary 12 s), the wall bound is loose.
MAX_DB_BYTES=$((20 * 1024 * 1024))
# Times VMMB_SCALE in the emulated lab, where everything is ~10x slower (there the store
# took 27 s, the run 41 s and vmm-min 14 s of CPU).
MAX_STORE_S=$(stretched 15)      # wall, from the run's end to vmmbench's exit
MAX_RUN_CPU_S=$(stretched 5)     # user + sys of the whole `vmmbench run`, its run child included
MAX_VM_CPU_S=$(stretched 5)      # user + sys of the whole vmm-min run

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  skip "bounded guest output on a real guest" "capability /dev/kvm (read-write) is not available"
  t_summary; exit
fi

now() { date +%s.%N; }
# cpu_le FILE MAX: FILE holds bash's "user sys" seconds; true when their sum <= MAX.
cpu_le() { awk -v m="$2" '{ exit !($1 + $2 <= m) }' "$1"; }
cpu_of() { awk '{ printf "%.2f", $1 + $2 }' "$1"; }
TIMEFORMAT='%U %S'

q() { sqlite3 "$1" "$2"; }
# no_esc NAME FILE: the file holds no ESC byte.
no_esc() {
  if LC_ALL=C grep -q $'\x1b' "$2"; then fail "$1" "raw ESC in: $(cat -v "$2" | head -5)"; else pass "$1"; fi
}

# ---- the worst run a guest may produce ----
DB=$TMP/worst.db
{ time "$VB" run max-output --kernel "$HOSTILE" --reps 1 --db "$DB" >"$TMP/worst.out" 2>&1; } 2>"$TMP/worst.cpu"
rc=$?
t_end=$(now)
if [ $rc -eq 0 ]; then pass "worst run stored"; else fail "worst run stored" "exit $rc: $(cat "$TMP/worst.out")"; fi
# The guest's 1024 points, each a row, plus one row for what belongs to the run as a whole
# (the VMM's own CPU time, vmm_cpu_*, which carries no point).
runs=$(q "$DB" "SELECT count(*) FROM runs WHERE status = 'ok' AND id IN (SELECT run_id FROM samples WHERE metric NOT LIKE 'vmm_cpu_%')")
samples=$(q "$DB" "SELECT count(*) FROM samples WHERE metric NOT LIKE 'vmm_cpu_%'")
[ "$runs" = 1024 ] && [ "$samples" = 262144 ] && pass "1024 point rows, 262144 samples" ||
  fail "1024 point rows, 262144 samples" "runs $runs samples $samples"
consoles=$(q "$DB" "SELECT count(*) || ' ' || max(length(console)) FROM runs WHERE console IS NOT NULL")
[ "$consoles" = "1 16384" ] && pass "the full console is stored once" || fail "the full console is stored once" "$consoles"
prun=$(q "$DB" "SELECT count(DISTINCT run_id) || ' ' || (min(run_id) = (SELECT min(id) FROM runs)) FROM placement")
[ "$prun" = "1 1" ] && pass "placement rows are stored once, with the first point" || fail "placement rows stored once" "$prun"
bytes=$(( $(stat -c %s "$DB") + $(stat -c %s "$DB-wal" 2>/dev/null || echo 0) ))
[ "$bytes" -le "$MAX_DB_BYTES" ] && pass "worst run takes $bytes bytes (<= $MAX_DB_BYTES)" ||
  fail "worst run within $MAX_DB_BYTES bytes" "$bytes bytes"
# runs.ended is taken just before the store: from there to the command's exit is storing.
store_s=$(q "$DB" "SELECT printf('%.2f', $t_end - max(ended)) FROM runs")
awk -v s="$store_s" -v m="$MAX_STORE_S" 'BEGIN { exit !(s >= 0 && s <= m) }' &&
  pass "worst run stored in $store_s s (<= $MAX_STORE_S s)" || fail "worst run stored within $MAX_STORE_S s" "$store_s s"
cpu_le "$TMP/worst.cpu" "$MAX_RUN_CPU_S" && pass "the whole worst run took $(cpu_of "$TMP/worst.cpu") s of CPU (<= $MAX_RUN_CPU_S s)" ||
  fail "the whole worst run within $MAX_RUN_CPU_S s of CPU" "$(cpu_of "$TMP/worst.cpu") s"
echo "# worst run: $bytes bytes, stored in $store_s s; run and store $(cpu_of "$TMP/worst.cpu") s CPU"

# vmm-min's summary of the same run: one line per (point, metric), in order of first
# appearance, sorted rather than scanned (the former scan of earlier samples per sample
# took 12 s of CPU on this run).
{ time timeout 120 "$VM" --kernel "$HOSTILE" --workload max-output >"$TMP/vm-worst.out" 2>&1; } 2>"$TMP/vm.cpu"
rc=$?
lines=$(grep -c '^  \[longest_key_abc=' "$TMP/vm-worst.out")
order=$(grep -m 3 -o '^  \[longest_key_abc=0*[0-9]\]  latency[a-z_]*' "$TMP/vm-worst.out" | tr -s ' ' | tr '\n' '|')
first3=" [longest_key_abc=0000000000000000000000000000000] latency_cycles| [longest_key_abc=0000000000000000000000000000000] latency| [longest_key_abc=0000000000000000000000000000001] latency_cycles|"
[ $rc -eq 0 ] && [ "$lines" = 2048 ] && [ "$order" = "$first3" ] &&
  pass "vmm-min summarises the worst run: 2048 lines in order" ||
  fail "vmm-min summarises the worst run" "exit $rc, $lines lines, order '$order'"
cpu_le "$TMP/vm.cpu" "$MAX_VM_CPU_S" && pass "vmm-min's worst run took $(cpu_of "$TMP/vm.cpu") s of CPU (<= $MAX_VM_CPU_S s)" ||
  fail "vmm-min's worst run within $MAX_VM_CPU_S s of CPU" "$(cpu_of "$TMP/vm.cpu") s"
echo "# vmm-min on the worst run: $(cpu_of "$TMP/vm.cpu") s CPU"

# ---- one past a limit ends the run guest-error, naming it ----
DB2=$TMP/over.db
expect_exit "1025 points: the run fails" 1 "$VB" run max-output:points=1025,console=0 \
  --kernel "$HOSTILE" --reps 1 --db "$DB2"
expect_out "progress line names the point limit" "guest-error - .*over the limit of 1024 points"
expect_exit "131073 records: the run fails" 1 "$VB" run max-output:records=131073,console=0 \
  --kernel "$HOSTILE" --reps 1 --db "$DB2"
got=$(q "$DB2" "SELECT group_concat(status || ': ' || reason, '|') FROM runs")
grep -q "guest-error: result records carry 1025 distinct points, over the limit of 1024 points" <<<"$got" &&
  grep -q "guest-error: result area claims 131073 records, over the limit of 131072 records" <<<"$got" &&
  pass "both stored guest-error with the limit in the reason" || fail "over-limit runs stored guest-error" "$got"
[ "$(q "$DB2" "SELECT count(*) FROM samples")" = 0 ] && pass "nothing of an over-limit run is stored as samples" ||
  fail "over-limit runs store no samples"

# ---- escape sequences from the guest are shown, not sent ----
"$VM" --kernel "$HOSTILE" --workload escapes --console >"$TMP/vm.out" 2>"$TMP/vm.err"
no_esc "vmm-min's summary has no raw ESC" "$TMP/vm.out"
no_esc "vmm-min's console echo has no raw ESC" "$TMP/vm.err"
grep -qF 'guest: bad \x1b[2J\x1b[31mred\x1b]0;title\x07 reason' "$TMP/vm.out" &&
  grep -qF 'vmm: \x1b[31mred note\x1b[0m' "$TMP/vm.out" && pass "vmm-min shows the reason and notes escaped" ||
  fail "vmm-min shows the reason escaped" "$(cat -v "$TMP/vm.out")"
grep -qF 'clear \x1b[2J\x1b]0;title\x07 done' "$TMP/vm.err" && pass "the console echo is escaped" ||
  fail "the console echo is escaped" "$(cat -v "$TMP/vm.err")"
"$VM" --kernel "$HOSTILE" --workload escapes --json >"$TMP/vm.json" 2>&1
no_esc "vmm-min --json has no raw ESC" "$TMP/vm.json"
DB3=$TMP/esc.db
"$VB" run escapes --kernel "$HOSTILE" --reps 1 --db "$DB3" >"$TMP/run.out" 2>&1
no_esc "run's progress line has no raw ESC" "$TMP/run.out"
grep -qF 'guest-error - guest: bad \x1b[2J' "$TMP/run.out" && pass "run shows the reason escaped" ||
  fail "run shows the reason escaped" "$(cat -v "$TMP/run.out")"
# On a terminal the progress line redraws itself with its own "ESC [K": nothing else.
script -qec "$VB run escapes --kernel $HOSTILE --reps 1 --db $DB3" /dev/null >"$TMP/tty.out" 2>&1
sed 's/\x1b\[K//g' "$TMP/tty.out" >"$TMP/tty.stripped"
no_esc "run's progress on a terminal has no guest ESC" "$TMP/tty.stripped"
grep -qF 'guest-error - guest: bad \x1b[2J' "$TMP/tty.out" && pass "run on a terminal shows the reason escaped" ||
  fail "run on a terminal shows the reason escaped" "$(cat -v "$TMP/tty.out")"
"$VB" show --db "$DB3" >"$TMP/show.out" 2>&1
no_esc "show's failed runs have no raw ESC" "$TMP/show.out"
grep -qF 'guest-error, guest: bad \x1b[2J' "$TMP/show.out" && pass "show lists the reason escaped" ||
  fail "show lists the reason escaped" "$(cat -v "$TMP/show.out")"
"$VB" show --json --db "$DB3" >"$TMP/show.json" 2>&1
no_esc "show --json has no raw ESC" "$TMP/show.json"
"$VB" report --db "$DB3" --out "$TMP/report" all >"$TMP/report.out" 2>&1
cat "$TMP"/report/* >"$TMP/report.all" 2>/dev/null
no_esc "report files have no raw ESC" "$TMP/report.all"
grep -qF 'guest: bad \x1b[2J' "$TMP/report/index.html" && pass "report lists the reason escaped" ||
  fail "report lists the reason escaped" "$(cat "$TMP/report.out")"

t_summary
