#!/usr/bin/env bash
# vmmb-lab-seconds: 92 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# vmmb-test: parallel (it checks what runs and what is refused, not figures: tests/run-all.sh runs it beside another such test)
# The vmmbench and vmm-min command lines end to end: bad input gets one clear line, a
# distinct exit code and no rows; good input runs real guests into a real SQLite file.
# (Bad input that never reaches a guest: test_cli_offline.sh, which runs on the host.)
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
VM=$BUILD/bin/vmm-min
GUEST=$BUILD/share/vmmbench/guest/vmmbench-guest.elf
HOSTILE=$BUILD/tests/guest/hostile-guest.elf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rows() { sqlite3 "$1" "$2" 2>/dev/null; }

need_kvm

# ---- make install gives a tree that finds its own guest kernel and configs ----
if make -s install DESTDIR="$TMP/inst" PREFIX=/opt/vmmb BUILD="$BUILD" >"$TMP/install.log" 2>&1; then
  expect_exit "installed vmmbench list" 0 "$TMP/inst/opt/vmmb/bin/vmmbench" list
  expect_out "installed list reads the installed guest image" "inst/opt/vmmb/bin/../share/vmmbench/guest/vmmbench-guest.elf"
  expect_out "installed list shows the installed default config" "default .*1 vCPU"
else
  fail "make install" "$(cat "$TMP/install.log")"
fi

# ---- database problems: clear error, nothing lost ----
expect_exit "database in a missing directory" 5 "$VB" run null:batches=2 --db "$TMP/nodir/x.db"
expect_out "database error names the path" "nodir"
sqlite3 "$TMP/v99.db" "CREATE TABLE schema_version(version INTEGER); INSERT INTO schema_version VALUES (99);"
before=$(md5sum <"$TMP/v99.db")
expect_exit "database of another schema version" 5 "$VB" run null:batches=2 --db "$TMP/v99.db"
expect_out "schema error says which version" "99"
[ "$before" = "$(md5sum <"$TMP/v99.db")" ] && pass "other-version database left untouched" || fail "other-version database left untouched"
echo "garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage" >"$TMP/junk.db"
expect_exit "a file that is not a database" 5 "$VB" run null:batches=2 --db "$TMP/junk.db"

# ---- real runs into a real database ----
DB=$TMP/ok.db
expect_exit "run two workloads twice" 0 "$VB" run null:batches=5 cpuid:batches=5,iters=100 --reps 2 --db "$DB"
expect_out "run reports what it stored" "stored 4 runs \(4 ok"
[ "$(rows "$DB" "SELECT count(*) FROM runs WHERE status='ok'")" = 4 ] && pass "4 ok runs stored" || fail "4 ok runs stored"
n=$(rows "$DB" "SELECT count(*) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.workload='cpuid' AND s.metric='latency' AND s.warmup=0")
[ "$n" = 10 ] && pass "every cpuid latency batch stored (2 reps x 5)" || fail "every cpuid latency batch stored" "got $n"
# Every run keeps its warm-up batches (warmup=3 by default), flagged, apart from the 5 kept.
w=$(rows "$DB" "SELECT group_concat(n, ' ') FROM (SELECT sum(s.warmup) AS n FROM samples s JOIN runs r ON r.id=s.run_id WHERE s.metric='latency' GROUP BY r.id ORDER BY r.id)")
[ "$w" = "3 3 3 3" ] && pass "each run's 3 warm-up batches stored and flagged" || fail "each run's 3 warm-up batches stored and flagged" "per run: $w"
fl=$(rows "$DB" "SELECT kvm_flavour FROM hosts LIMIT 1")
case $fl in vmx|svm|pvm) pass "host stored with its KVM flavour ($fl)" ;; *) fail "host stored with its KVM flavour (vmx, svm or pvm)" "'$fl'" ;; esac
# Exit latencies against the timing floor: null times the empty loop alone, so once the
# floor is subtracted its median is about 0 ns; a CPUID exit is a world switch, hundreds of
# ns even on bare metal (microseconds on PVM hosts), so over 100x the null floor.
medq() { rows "$DB" "SELECT s.value FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.workload='$1' AND s.metric='latency' AND s.warmup=0 ORDER BY s.value" |
  awk '{v[NR]=$1} END {if (NR) print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
nm=$(medq null); cm=$(medq cpuid)
awk -v n="$nm" 'BEGIN{exit !(n != "" && n > -5 && n < 5)}' \
  && pass "null: the floor-subtracted median is about 0 ns ($nm)" || fail "null: the floor-subtracted median is about 0 ns" "'$nm'"
awk -v n="$nm" -v c="$cm" 'BEGIN{a = (n < 0) ? -n : n; if (a < 1) a = 1; exit !(c != "" && c > 100 * a)}' \
  && pass "a CPUID exit costs over 100x the null floor ($cm ns vs $nm ns)" || fail "a CPUID exit costs over 100x the null floor" "cpuid '$cm', null '$nm'"
expect_exit "show the database" 0 "$VB" show --db "$DB"
expect_out "show has a cpuid latency row" "cpuid .*latency .* ns"
expect_exit "show --json" 0 "$VB" show --json --db "$DB"
expect_out "json names the workload" '"workload": ?"cpuid"'
id=$(rows "$DB" "SELECT max(id) FROM runs WHERE workload='cpuid'")
expect_exit "show --run ID" 0 "$VB" show --run "$id" --db "$DB"
expect_out "show --run's narrow table has its latency row" "cpuid +[^ ]+ +latency +[0-9]+ +[0-9.]+ +ns"
expect_exit "show --run ID --wide" 0 "$VB" show --run "$id" --wide --db "$DB"
# show's figures against the stored samples of that run: n, median, mean, sd (n-1), min,
# max (--wide's columns after the metric: n median p5 p95 unit ci95 +-ci mean sd p99 min max).
got=$(sed -n 's/.* latency  *\([0-9].*\)/\1/p' <<<"$OUT" | head -1)
want=$(rows "$DB" "SELECT s.value FROM samples s WHERE s.run_id=$id AND s.metric='latency' AND s.warmup=0 ORDER BY s.value" |
  awk '{v[NR]=$1; t+=$1} END {m=t/NR; for (i=1;i<=NR;i++) q+=(v[i]-m)^2;
    printf "%d %s %s %s %s %s", NR, (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2, m, sqrt(q/(NR-1)), v[1], v[NR]}')
# near A B: within 0.1% (show prints about 5 significant digits)
same=$(awk -v g="$got" -v w="$want" 'function near(a,b){d=a-b; if(d<0)d=-d; s=(b<0)?-b:b; return d <= 0.001*s + 1e-9}
  BEGIN{split(g,G," "); split(w,W," "); ok = (G[1]==W[1]) && near(G[2],W[2]) && near(G[8],W[3]) && near(G[9],W[4]) && near(G[11],W[5]) && near(G[12],W[6]); print ok}')
[ "$same" = 1 ] && pass "show --run prints the run's n, median, mean, sd, min and max of its samples" \
  || fail "show --run prints the run's n, median, mean, sd, min and max" "show: $got; from the samples (n median mean sd min max): $want"
expect_exit "show --run of a missing id" 2 "$VB" show --run 99999 --db "$DB"
expect_exit "installed vmm-min runs a guest" 0 "$TMP/inst/opt/vmmb/bin/vmm-min" --workload null --param batches=2
expect_out "the installed guest ran the workload to the end" "^workload null .*: ok$"
expect_exit "vmm-min --json" 0 "$VM" --workload null --param batches=3 --json
expect_out "vmm-min json carries samples" '"metric":"latency"'

# two runs sharing one file at the same time both succeed
"$VB" run null:batches=20 --reps 3 --db "$TMP/shared.db" >"$TMP/a.log" 2>&1 &
pa=$!
"$VB" run null:batches=20 --reps 3 --db "$TMP/shared.db" >"$TMP/b.log" 2>&1
rb=$?
wait $pa
ra=$?
[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ "$(rows "$TMP/shared.db" "SELECT count(*) FROM runs")" = 6 ] \
  && pass "two concurrent runs on one database both succeed" \
  || fail "two concurrent runs on one database both succeed" "$(cat "$TMP/a.log" "$TMP/b.log")"

# ---- virtio devices and notification paths as config keys ----
printf '[vm]\nname = blk-exit\nmemory = 128M\nblk = null:1G\nnotify = exit\n' >"$TMP/blk-exit.ini"
printf '[vm]\nname = blk-ioev\nmemory = 128M\nblk = ram:16M\nnotify = ioeventfd\n' >"$TMP/blk-ioev.ini"
expect_exit "virtio-blk under two notification configs" 0 "$VB" run virtio-blk:iters=50,batches=3,qd=8,size=4096 --config "$TMP/blk-exit.ini" --config "$TMP/blk-ioev.ini" --reps 1 --db "$TMP/io.db"
n=$(rows "$TMP/io.db" "SELECT count(DISTINCT c.name) FROM samples s JOIN runs r ON r.id = s.run_id JOIN configs c ON c.id = r.config_id WHERE s.metric = 'iops' AND r.status = 'ok'")
[ "$n" = 2 ] && pass "both configs stored iops samples" || fail "both configs stored iops samples" "$n"
printf '[vm]\nname = nofile\nmemory = 128M\nblk = file:%s/missing.img\n' "$TMP" >"$TMP/nofile.ini"
expect_exit "a backend file that does not exist is refused before anything runs" 2 "$VB" run virtio-blk --config "$TMP/nofile.ini" --db "$TMP/nofile.db"
expect_out "the refusal names the file and the fix" "missing.img does not exist; create it first"
[ ! -e "$TMP/nofile.db" ] && pass "no database written for the refused plan" || fail "no database written for the refused plan"

# ---- hostile guests end their run, never the harness ----
if [ -f "$HOSTILE" ]; then
  DB=$TMP/hostile.db
  expect_exit "hostile guests: runs fail, harness goes on" 1 "$VB" run hang ud console-flood bad-result-ptr --kernel "$HOSTILE" --timeout "$(lasting 2 5)" --reps 1 --db "$DB"
  st=$(rows "$DB" "SELECT group_concat(workload || '=' || status, ' ') FROM (SELECT * FROM runs ORDER BY id)")
  [ "$st" = "hang=timeout ud=guest-crash console-flood=guest-error bad-result-ptr=guest-error" ] \
    && pass "each hostile run stored with its status" || fail "each hostile run stored with its status" "$st"
  r=$(rows "$DB" "SELECT reason FROM runs WHERE workload='ud'")
  grep -q "RIP 0x" <<<"$r" && pass "a guest crash records the RIP" || fail "a guest crash records the RIP" "$r"
else
  fail "hostile guest image built" "$HOSTILE missing"
fi

t_summary
