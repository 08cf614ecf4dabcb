#!/usr/bin/env bash
# vmmb-lab-seconds: 190 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# Statistics to decisions, end to end on real guests and a real SQLite file: compare,
# the check gate (a planted regression through null's spin parameter must be caught, an
# identical rerun must pass, exit codes 0/1/2/3), baseline/export/merge, run --configs
# --interleave, gnuplot output (PNG/SVG files with their titles; families without data
# skipped; synthetic TLB/NUMA/loaded-latency/virtio data inserted with sqlite3), and the
# HTML report rendered in headless Chromium (every image loaded, tables present, the
# hypervisors section on a planted second hypervisor).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/lib_browser.sh    # big, check_report_in_browser
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
TMP=$(mktemp -d)
trap "rm -rf $TMP" EXIT; [ -n "${KEEP:-}" ] && trap - EXIT && echo "TMP=$TMP"
q() { sqlite3 "$1" "$2" 2>/dev/null; }

for c in compare check baseline export merge plot report; do
  expect_exit "vmmbench $c --help" 0 "$VB" "$c" --help
  expect_out "vmmbench $c --help prints usage" "usage: vmmbench $c"
done
expect_exit "check without --baseline" 2 "$VB" check --db "$TMP/none.db"
expect_out "check says --baseline is required" "baseline is required"
expect_exit "check --threshold garbage" 2 "$VB" check --baseline x --threshold abc
expect_exit "compare with one set" 2 "$VB" compare onlyone
expect_exit "compare on a missing database" 2 "$VB" compare a b --db "$TMP/none.db"
expect_out "missing database is named" "no results database at $TMP/none.db"

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  skip "analysis on real guests" "capability /dev/kvm (read-write) is not available"
  t_summary; exit
fi

# ---- two configs, interleaved; a base run set, an identical rerun, a planted regression ----
DB=$TMP/gate.db
printf '[vm]\nname = a\nvcpus = 1\nmemory = 64M\n' >"$TMP/a.ini"
printf '[vm]\nname = b\nvcpus = 1\nmemory = 96M\n' >"$TMP/b.ini"
# The sets are run in turns (base, same, slow, six times) so drift of this shared host
# hits all three alike; six runs per config let the gate compare run medians.
# (null's iterations follow VMMB_SCALE: its pauses are what emulation makes slow)
NI=iters=$(scaled 5000)
W="null:spin=50,batches=15,$NI cpuid:batches=6,iters=100"
CF="$TMP/a.ini,$TMP/b.ini"
expect_exit "run few: too few batches to compare" 0 "$VB" run null:spin=50,batches=3,$NI --configs "$CF" --no-interleave --reps 1 --tag few --db "$DB"
order=$(q "$DB" "SELECT group_concat(c.name, '') FROM (SELECT * FROM runs ORDER BY id) r JOIN configs c ON c.id = r.config_id WHERE r.tag = 'few'")
[ "$order" = "ab" ] && pass "--no-interleave runs configs in blocks" || fail "--no-interleave runs configs in blocks" "$order"
ok=0
for i in 1 2 3 4 5 6; do
  "$VB" run $W --configs "$CF" --interleave --reps 1 --tag base --db "$DB" >"$TMP/run.log" 2>&1 || ok=1
  "$VB" run $W --configs "$CF" --reps 1 --tag same --db "$DB" >>"$TMP/run.log" 2>&1 || ok=1
  "$VB" run null:spin=200,batches=15,$NI --configs "$CF" --reps 1 --tag slow --db "$DB" >>"$TMP/run.log" 2>&1 || ok=1
done
[ $ok = 0 ] && pass "base, same and slow (null spins 4x) run sets stored" || fail "base, same and slow run sets stored" "$(cat "$TMP/run.log")"
order=$(q "$DB" "SELECT group_concat(c.name, '') FROM (SELECT * FROM runs WHERE tag = 'base' ORDER BY id LIMIT 4) r JOIN configs c ON c.id = r.config_id")
[ "$order" = "abab" ] && pass "--interleave alternates configs run by run" || fail "--interleave alternates configs run by run" "$order"
expect_exit "run without --tag" 0 "$VB" run null:batches=6 --reps 1 --db "$TMP/auto.db"
t=$(q "$TMP/auto.db" "SELECT tag FROM runs")
[[ $t =~ ^run-[0-9]{8}-[0-9]{6}-[0-9]+$ ]] && pass "an untagged run set gets a run-DATE-TIME-PID tag" || fail "an untagged run set gets a run-DATE-TIME-PID tag" "$t"
expect_exit "--configs naming one config twice" 2 "$VB" run null --configs "$TMP/a.ini,$TMP/a.ini" --db "$TMP/x.db"

# compare: configs side by side, and run sets
expect_exit "compare config a with config b" 0 "$VB" compare config:a config:b --workload null --db "$DB"
expect_out "compare prints B/A with a CI and a verdict" "null .*latency .*[0-9]\.[0-9]{4}\.\.[0-9]\.[0-9]{4} .*(no change|slower|faster)"
expect_out "compare prints a geometric mean per workload" "geometric mean.*"
expect_exit "compare base with slow, spin ignored" 0 "$VB" compare base slow --ignore-param spin --workload null --db "$DB"
expect_out "the doubled spin shows as slower" "latency .* slower"
expect_exit "compare --json" 0 "$VB" compare base slow --ignore-param spin --json --db "$DB"
expect_out "json has the verdict" '"verdict":"slower"'
expect_exit "compare an unknown name" 2 "$VB" compare nosuch base --db "$DB"
expect_out "unknown name lists tags and configs" "no tag or config named 'nosuch'.*tags: .*base.*configs: a, b"
expect_exit "compare sets with nothing in common" 2 "$VB" compare base slow --db "$DB" --workload null
expect_out "nothing in common names both sides" "no \(workload, parameters, metric\) in common"

# the gate
expect_exit "baseline save base" 0 "$VB" baseline save base --from tag:base --db "$DB"
[ -f "$TMP/baselines/base.db" ] && pass "baseline file written next to the database" || fail "baseline file written next to the database"
before=$(md5sum <"$TMP/baselines/base.db")
expect_exit "baseline save over an existing one" 2 "$VB" baseline save base --db "$DB"
[ "$before" = "$(md5sum <"$TMP/baselines/base.db")" ] && pass "an existing baseline is kept" || fail "an existing baseline is kept"
expect_exit "check: identical rerun passes" 0 "$VB" check --baseline base --candidate tag:same --workload null --db "$DB" --junit "$TMP/same.xml"
expect_out "identical rerun: nothing regressed" "0 regressed.*: ok"
grep -q '<testcase' "$TMP/same.xml" && ! grep -q '<failure' "$TMP/same.xml" && pass "junit for a pass has test cases, no failure" || fail "junit for a pass has test cases, no failure" "$(cat "$TMP/same.xml")"
expect_exit "check: planted regression is caught" 1 "$VB" check --baseline base --candidate tag:slow --ignore-param spin --workload null --db "$DB" --junit "$TMP/slow.xml" --markdown "$TMP/slow.md"
expect_out "regression verdict printed" "REGRESSED"
n=$(grep -c '<testcase' "$TMP/slow.xml"); f=$(grep -c '<failure' "$TMP/slow.xml")
[ "$n" -ge 4 ] && [ "$f" -ge 4 ] && pass "junit: one test case per metric, regressions as failures ($f of $n)" || fail "junit: one test case per metric, regressions as failures" "$(cat "$TMP/slow.xml")"
xmllint_ok=1; command -v xmllint >/dev/null && { xmllint --noout "$TMP/slow.xml" || xmllint_ok=0; }
[ $xmllint_ok = 1 ] && pass "junit is well-formed XML" || fail "junit is well-formed XML"
grep -Eq '\| a null \|.*\*\*slower\*\*' "$TMP/slow.md" && pass "markdown summary marks the regression" || fail "markdown summary marks the regression" "$(cat "$TMP/slow.md")"
expect_exit "check: a wide band swallows it" 0 "$VB" check --baseline base --candidate tag:slow --ignore-param spin --workload null --threshold 900 --db "$DB"
expect_exit "check: improvement passes by default" 0 "$VB" check --baseline tag:slow --candidate tag:base --ignore-param spin --workload null --db "$DB"
expect_out "improvement is reported" "improved"
expect_exit "check: improvement fails with --fail-on-improvement" 3 "$VB" check --baseline tag:slow --candidate tag:base --ignore-param spin --workload null --fail-on-improvement --db "$DB"
expect_exit "check: newest run set is the default candidate" 1 "$VB" check --baseline base --ignore-param spin --workload null --db "$DB"
expect_out "the newest set is slow" "B = tag:slow"
expect_out "run medians are the unit with six runs a side" "latency .* runs +slower"
# data errors: each named, exit 2
expect_exit "check: too few samples" 2 "$VB" check --baseline base --candidate tag:few --workload null --ignore-param batches --db "$DB"
expect_out "too few samples is named" "unjudged: vmmbench.a.null .*latency: cannot judge: too few samples"
# missing metrics are named; the regression found beside them sets the exit (1)
expect_exit "check: metrics missing from the candidate" 1 "$VB" check --baseline base --candidate tag:slow --ignore-param spin --db "$DB"
expect_out "missing metrics are named" "missing: vmmbench.missing a cpuid"
expect_exit "check: no such baseline" 2 "$VB" check --baseline nosuch --db "$DB"
expect_out "no baseline says how to make one" "vmmbench baseline save nosuch"
sqlite3 "$TMP/v99.db" "CREATE TABLE schema_version(version INTEGER); INSERT INTO schema_version VALUES (99);"
expect_exit "check: baseline of another schema version" 2 "$VB" check --baseline "$TMP/v99.db" --db "$DB"
expect_out "schema version is named" "schema version 99"
head -c 3000 "$DB" >"$TMP/corrupt.db"; printf 'garbage%.0s' {1..400} >>"$TMP/corrupt.db"
expect_exit "check: corrupt baseline file" 2 "$VB" check --baseline "$TMP/corrupt.db" --db "$DB"
echo "plain text, not a database at all, padded padded padded padded padded padded" >"$TMP/text.db"
expect_exit "check: baseline that is not SQLite" 2 "$VB" check --baseline "$TMP/text.db" --db "$DB"
expect_out "not SQLite is said" "not a valid SQLite database|not a vmmbench"
expect_exit "check: baseline with no overlapping metrics" 2 "$VB" check --baseline "$TMP/auto.db" --candidate tag:base --workload null --db "$DB"
expect_out "no overlap is named" "no \(workload, parameters, metric\) in common"
rows_before=$(q "$DB" "SELECT count(*) FROM samples")

# different hosts: a warning lists what differs
cp "$TMP/baselines/base.db" "$TMP/otherhost.db"
sqlite3 "$TMP/otherhost.db" "UPDATE hosts SET kernel = 'other-kernel 9.9', suite_rev = 'deadbeef'"
expect_exit "compare against another host" 0 "$VB" compare "$TMP/otherhost.db" tag:same --workload null --db "$DB"
expect_out "warning names kernel and suite revision" "warning: .*kernel \(A: other-kernel 9.9.*suite_rev"

# export and merge
expect_exit "export --csv" 0 "$VB" export --csv tag:base --db "$DB" --out "$TMP/s.csv"
[ "$(head -1 "$TMP/s.csv" | cut -d, -f1-9)" = "host,config,workload,params,metric,unit,n,runs,median" ] && pass "csv header" || fail "csv header" "$(head -1 "$TMP/s.csv")"
# (the VMM's own CPU time, vmm_cpu_*, is a metric of every run too: counted apart)
[ "$(grep -vc ',vmm_cpu_' "$TMP/s.csv")" -eq 13 ] && pass "csv: one row per (config, workload, params, metric)" || fail "csv rows" "$(cat "$TMP/s.csv")"
expect_exit "export --json --samples" 0 "$VB" export --json --samples run:1 --db "$DB"
expect_out "raw samples carry batch and warmup" '"batch":0,"warmup":true'
expect_exit "export needs a format" 2 "$VB" export --db "$DB"
expect_exit "merge two databases" 0 "$VB" merge "$TMP/m.db" "$DB" "$TMP/auto.db"
expect_exit "merge the same files again" 0 "$VB" merge "$TMP/m.db" "$DB" "$TMP/auto.db"
expect_out "second merge adds nothing" "0 runs merged"
r1=$(q "$TMP/m.db" "SELECT count(*) FROM runs"); r2=$(( $(q "$DB" "SELECT count(*) FROM runs") + 1 ))
s1=$(q "$TMP/m.db" "SELECT count(*) FROM samples"); s2=$(( rows_before + $(q "$TMP/auto.db" "SELECT count(*) FROM samples") ))
[ "$r1" = "$r2" ] && [ "$s1" = "$s2" ] && pass "merge: every run and sample once ($r1 runs)" || fail "merge: every run and sample once" "runs $r1 vs $r2, samples $s1 vs $s2"
h=$(q "$TMP/m.db" "SELECT count(*) FROM hosts"); hs=$(q "$DB" "SELECT count(DISTINCT fingerprint) FROM hosts")
[ "$h" -le $((hs + 1)) ] && pass "merge: hosts not duplicated" || fail "merge: hosts not duplicated" "$h"
expect_exit "merge an input that is not a database" 2 "$VB" merge "$TMP/m2.db" "$TMP/text.db"
[ ! -e "$TMP/m2.db" ] && pass "a bad input leaves no output file" || fail "a bad input leaves no output file"
[ "$(q "$DB" "SELECT count(*) FROM samples")" = "$rows_before" ] && pass "analysis never changed the results database" || fail "analysis never changed the results database"

# ---- plots ----
P=$TMP/plots
expect_exit "plot with a comparison" 0 "$VB" plot --db "$DB" --out "$P" --compare base,slow --ignore-param spin
expect_out "families without data are skipped with a note" "note: TLB curve: no tlb data.*"
for f in exits.png exits.svg compare.png compare.svg; do
  big "$P/$f" 2000 && pass "plot file $f written" || fail "plot file $f written" "$(ls -la "$P")"
done
[ -f "$P/exits.gp" ] && [ -f "$P/exits.dat" ] && pass "gnuplot script and data kept beside the images" || fail "gnuplot script and data kept"
grep -q "VM exit latency by exit kind" "$P/exits.svg" && grep -q "cpuid ring=3" "$P/exits.svg" && grep -q ">a<\|>a</text>\|'a'" "$P/exits.svg" && pass "exit SVG has the title, exit kinds and configs" || fail "exit SVG has the title, exit kinds and configs"
grep -q "noise band" "$P/compare.svg" && pass "ratio chart says it shades the noise band" || fail "ratio chart title"
[ ! -e "$P/tlb.png" ] && pass "no empty TLB plot drawn" || fail "no empty TLB plot drawn"
(cd "$P" && rm -f exits.png && gnuplot exits.gp) && big "$P/exits.png" 2000 && pass "the kept script re-runs by itself" || fail "the kept script re-runs by itself"
VMMB_GNUPLOT=$TMP/no-gnuplot expect_exit "plot without gnuplot" 2 "$VB" plot --db "$DB" --out "$P"
expect_out "missing gnuplot gives the install line" "apt-get install gnuplot-nox"

# ---- the HTML report in a real browser ----
# Its database holds a second hypervisor too, so the browser sees the hypervisors section:
# every run of config a again as a qemu-microvm config's (tag hv, each sample 3x: clear of
# this host's run-to-run noise). The
# real QEMU runs are tests/integration/test_hypervisors.sh's.
RDB=$TMP/report.db
cp "$DB" "$RDB"
sqlite3 "$RDB" "INSERT INTO configs(name, vcpus, mem_bytes, source, text, hypervisor, hypervisor_version)
  SELECT 'a-qemu', vcpus, mem_bytes, source, replace(text, 'name = a', 'name = a-qemu') || 'hypervisor = qemu-microvm' || char(10),
         'qemu-microvm', 'QEMU emulator version 0.0 (planted)' FROM configs WHERE name = 'a';
  CREATE TEMP TABLE m AS SELECT r.id AS old, (SELECT max(id) FROM runs) + row_number() OVER (ORDER BY r.id) AS new
    FROM runs r JOIN configs c ON c.id = r.config_id WHERE c.name = 'a';
  INSERT INTO runs(id, host_id, config_id, workload, params, rep, tag, status, started, ended, wall_seconds, tsc_khz, exits)
    SELECT m.new, host_id, (SELECT id FROM configs WHERE name = 'a-qemu'), workload, params, rep, 'hv', status, started, ended,
           wall_seconds, tsc_khz, exits FROM runs JOIN m ON m.old = runs.id;
  INSERT INTO samples SELECT m.new, metric, unit, batch, warmup, value * 3 FROM samples JOIN m ON m.old = samples.run_id;" \
  && pass "a planted second hypervisor added to the report's database" || fail "a planted second hypervisor added to the report's database"
R=$TMP/report
expect_exit "report with a comparison" 0 "$VB" report --db "$RDB" --out "$R" --compare base,slow --ignore-param spin
for f in index.html summary.csv summary.json compare.json compare.csv plots/exits.png plots/compare.svg; do
  [ -s "$R/$f" ] && pass "report file $f" || fail "report file $f"
done
grep -q 'src="http\|href="http\|src="//' "$R/index.html" && fail "report fetches nothing from the network" || pass "report fetches nothing from the network"
grep -q '<td class="slower">' "$R/index.html" && pass "report shows the regression verdict" || fail "report shows the regression verdict"
grep -q 'Hosts and topology' "$R/index.html" && grep -q 'class=configs' "$R/index.html" && pass "report has host and config sections" || fail "report has host and config sections"
grep -q '<tr data-workload="null" data-metric="latency" data-ratio="3[0-9.]*" data-verdict="slower">' "$R/index.html" \
  && pass "report: hypervisors section gives the planted 3x as slower" || fail "report: hypervisors section gives the planted 3x as slower" "$(grep -o '<tr data-workload=[^>]*>' "$R/index.html")"
# Inside the emulated lab (VMMB_BROWSER_DEFER, set by tests/lab/guests-run.sh) the report
# is kept for the host, which runs the same browser checks on it after the lab ends.
if [ -n "${VMMB_BROWSER_DEFER:-}" ]; then
  rm -rf "$VMMB_BROWSER_DEFER/test_analysis.sh" && mkdir -p "$VMMB_BROWSER_DEFER/test_analysis.sh" &&
    cp -r "$R" "$VMMB_BROWSER_DEFER/test_analysis.sh/report" &&
    pass "report kept for the host's browser checks" || fail "report kept for the host's browser checks"
else
  check_report_in_browser "$R" "$TMP"
fi

t_summary
