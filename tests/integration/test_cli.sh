#!/usr/bin/env bash
# The vmmbench and vmm-min command lines end to end: bad input gets one clear line, a
# distinct exit code and no rows; good input runs real guests into a real SQLite file.
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

# ---- help and usage (no KVM needed) ----
expect_exit "vmmbench --help" 0 "$VB" --help
for c in run show list host; do
  expect_exit "vmmbench $c --help" 0 "$VB" "$c" --help
  expect_out "vmmbench $c --help prints usage" "usage: vmmbench $c"
done
expect_exit "unknown command is a usage error" 2 "$VB" frobnicate
expect_out "unknown command is named" "unknown command 'frobnicate'"
expect_exit "vmm-min --help" 0 "$VM" --help

# ---- the dependency installer, as a user who may not install ----
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  expect_exit "ensure-deps as non-root with a package missing stops" 1 setpriv --reuid=65534 --regid=65534 --clear-groups ./mk/ensure-deps.sh vmmbench-no-such-package
  expect_out "it prints the exact apt-get line" "apt-get update && apt-get install -y vmmbench-no-such-package"
else
  skip "ensure-deps as non-root" "needs root and setpriv to become another user"
fi
expect_exit "ensure-deps with everything installed is silent and succeeds" 0 ./mk/ensure-deps.sh

# ---- make install gives a tree that finds its own guest kernel and configs ----
if make -s install DESTDIR="$TMP/inst" PREFIX=/opt/vmmb BUILD="$BUILD" >"$TMP/install.log" 2>&1; then
  expect_exit "installed vmmbench list" 0 "$TMP/inst/opt/vmmb/bin/vmmbench" list
  expect_out "installed list reads the installed guest image" "inst/opt/vmmb/bin/../share/vmmbench/guest/vmmbench-guest.elf"
  expect_out "installed list shows the installed default config" "default .*1 vCPU"
else
  fail "make install" "$(cat "$TMP/install.log")"
fi

# ---- bad plans: rejected before anything runs, nothing written ----
DB=$TMP/bad.db
expect_exit "unknown workload" 2 "$VB" run nosuch --db "$DB"
expect_out "unknown workload lists the known ones" "unknown workload 'nosuch'.*cpuid"
expect_exit "unknown parameter" 2 "$VB" run cpuid:bogus=1 --db "$DB"
expect_out "unknown parameter lists the workload's" "unknown parameter 'bogus'.*iters"
expect_exit "parameter out of range" 2 "$VB" run cpuid:iters=0 --db "$DB"
expect_exit "ring the workload cannot run in" 2 "$VB" run hypercall:ring=3 --db "$DB"
expect_out "ring refusal says which rings" "cannot run in ring 3"
expect_exit "unknown suite" 2 "$VB" run --suite nope --db "$DB"
expect_exit "bad --reps" 2 "$VB" run null --reps 0 --db "$DB"
[ ! -e "$DB" ] && pass "no database created by rejected plans" || fail "no database created by rejected plans"

printf '[vm]\nname = x\nvcpus = 1\nmemory = 64M\nfrobs = 3\n' >"$TMP/badkey.ini"
expect_exit "config with an unknown key" 3 "$VB" run null --config "$TMP/badkey.ini" --db "$DB"
expect_out "config error names file and line" "badkey.ini:5"
printf '[vm]\nname = x\nmemory = lots\n' >"$TMP/badmem.ini"
expect_exit "config with an unparsable memory size" 3 "$VB" run null --config "$TMP/badmem.ini" --db "$DB"
expect_out "memory error names the line" "badmem.ini:3"
printf '[vm]\nname = huge\nvcpus = 1\nmemory = 64T\n' >"$TMP/huge.ini"
expect_exit "memory that does not fit the host" 7 "$VB" run null --config "$TMP/huge.ini" --db "$DB"
expect_out "memory error says it does not fit" "does not fit this host"
expect_exit "vmm-min --mem garbage" 7 "$VM" --workload null --mem 12Q
expect_exit "config that does not exist" 3 "$VB" run null --config "$TMP/none.ini" --db "$DB"
[ ! -e "$DB" ] && pass "no database created by rejected configs" || fail "no database created by rejected configs"

# ---- bad guest images ----
head -c 100 "$GUEST" >"$TMP/trunc.elf"
expect_exit "truncated guest ELF" 6 "$VB" run null --kernel "$TMP/trunc.elf" --db "$DB"
expect_out "truncated ELF is named as such" "truncated"
expect_exit "a dynamic executable as guest" 6 "$VM" --kernel /bin/true --workload null
expect_out "ET_DYN refused with the fix" "not a static executable"
printf 'not an elf at all, just text padding padding padding padding padding padding\n' >"$TMP/text.elf"
expect_exit "a text file as guest" 6 "$VM" --kernel "$TMP/text.elf" --workload null
expect_exit "a guest kernel that does not exist" 2 "$VM" --kernel "$TMP/missing.elf" --workload null

# ---- KVM missing or inaccessible ----
VMMB_KVM_DEV=$TMP/nokvm expect_exit "no KVM device" 4 "$VB" run null --db "$DB"
expect_out "no KVM names the device and the fix" "no $TMP/nokvm: KVM is not available"
VMMB_KVM_DEV=/dev/null expect_exit "a device that is not KVM" 4 "$VM" --workload null
[ ! -e "$DB" ] && pass "no database created without KVM" || fail "no database created without KVM"

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  skip "real guest runs" "capability /dev/kvm (read-write) is not available"
  t_summary; exit
fi
# Run as nobody: denied unless /dev/kvm is open to everyone (the last mode digit).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && [ $(( 0$(stat -c %a /dev/kvm) & 6 )) -eq 0 ]; then
  expect_exit "no permission on /dev/kvm" 4 setpriv --reuid=65534 --regid=65534 --clear-groups "$VM" --workload null
  expect_out "permission error gives the fix" "no permission to open /dev/kvm.*usermod"
else
  skip "no permission on /dev/kvm" "needs root, setpriv and a /dev/kvm closed to other users"
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
w=$(rows "$DB" "SELECT count(*) FROM samples WHERE warmup=1")
[ "$w" -gt 0 ] && pass "warm-up samples stored and flagged" || fail "warm-up samples stored and flagged"
fl=$(rows "$DB" "SELECT kvm_flavour FROM hosts LIMIT 1")
[ -n "$fl" ] && pass "host stored with its KVM flavour ($fl)" || fail "host stored with its KVM flavour"
expect_exit "show the database" 0 "$VB" show --db "$DB"
expect_out "show has a cpuid latency row" "cpuid .*latency .* ns"
expect_exit "show --json" 0 "$VB" show --json --db "$DB"
expect_out "json names the workload" '"workload": ?"cpuid"'
id=$(rows "$DB" "SELECT max(id) FROM runs")
expect_exit "show --run ID" 0 "$VB" show --run "$id" --db "$DB"
expect_exit "show --run of a missing id" 2 "$VB" show --run 99999 --db "$DB"
expect_exit "installed vmm-min runs a guest" 0 "$TMP/inst/opt/vmmb/bin/vmm-min" --workload null --param batches=2
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
  expect_exit "hostile guests: runs fail, harness goes on" 1 "$VB" run hang ud console-flood bad-result-ptr --kernel "$HOSTILE" --timeout "$(stretched 5)" --reps 1 --db "$DB"
  st=$(rows "$DB" "SELECT group_concat(workload || '=' || status, ' ') FROM (SELECT * FROM runs ORDER BY id)")
  [ "$st" = "hang=timeout ud=guest-crash console-flood=guest-error bad-result-ptr=guest-error" ] \
    && pass "each hostile run stored with its status" || fail "each hostile run stored with its status" "$st"
  r=$(rows "$DB" "SELECT reason FROM runs WHERE workload='ud'")
  grep -q "RIP 0x" <<<"$r" && pass "a guest crash records the RIP" || fail "a guest crash records the RIP" "$r"
else
  fail "hostile guest image built" "$HOSTILE missing"
fi

t_summary
