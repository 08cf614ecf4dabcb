#!/usr/bin/env bash
# vmmb-test: no guest (boots its own lab with QEMU on this host, with or without /dev/kvm)
# vmmb-lab-seconds: 0
# `vmmbench lab`: bad options are refused before anything boots (exit 2, the option
# named), a --db that is not a database exits 5 untouched, `make install` ships the
# launcher and the installed vmmbench finds it (its "could not start" exit 125); then ONE
# real boot of the two-node SVM lab under QEMU TCG runs `vmmbench run cpuid ...` with
# --db pointing at a host file that already holds a native run, inside a bash that
# exits 42. On the host: 42 came through, stdout and stderr came back apart, the old
# run is still there and the new one is stored with a host that is emulated = 'tcg',
# kvm_flavour = 'svm' and 2 NUMA nodes, and `vmmbench show` and `report` label it emulated.
# Skipped only if qemu-system-x86 cannot be installed. The lab's kernel cache:
# VMMB_LAB_CACHE (default $BUILD/lab/cache, as tests/lab/run-lab.sh).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT; [ -n "${KEEP:-}" ] && trap - EXIT && echo "TMP=$TMP"
export VMMB_LAB_CACHE=${VMMB_LAB_CACHE:-$BUILD/lab/cache}

# ---- refused before anything boots ----
expect_exit "lab --help" 0 "$VB" lab --help
expect_out "its help names the exit codes of the lab" "124 the lab timed out"
expect_exit "lab --nodes 0" 2 "$VB" lab --nodes 0 -- vmmbench host
expect_out "--nodes 0 is named" "--nodes takes 1 to 4 NUMA nodes, not '0'"
expect_exit "lab --nodes 5" 2 "$VB" lab --nodes 5 -- vmmbench host
expect_exit "lab --nodes two" 2 "$VB" lab --nodes two -- vmmbench host
expect_exit "lab --cpus 1 --nodes 2" 2 "$VB" lab --cpus 1 --nodes 2 -- vmmbench host
expect_out "every node needs a CPU" "every node needs a CPU; give --cpus 2 or more"
expect_exit "lab --mem 1.5G" 2 "$VB" lab --mem 1.5G -- vmmbench host
expect_out "--mem must be whole MiB" "--mem takes a size in whole MiB"
expect_exit "lab --mem 300M over 2 nodes" 2 "$VB" lab --mem 300M -- vmmbench host
expect_out "too little memory a node is named" "under 256 MiB a node for 2 nodes; give --mem 512M"
expect_exit "lab --mem larger than this host" 2 "$VB" lab --mem 100000G -- vmmbench host
expect_out "more memory than the host is named" "more than this host's"
expect_exit "lab --timeout 0" 2 "$VB" lab --timeout 0 -- vmmbench host
expect_exit "lab --nodes without a value" 2 "$VB" lab --nodes
expect_out "the missing value is named" "--nodes needs a value"
expect_exit "lab without --" 2 "$VB" lab vmmbench host
expect_out "the missing -- is named" "put \`--\` before the command"
expect_exit "lab -- and no command" 2 "$VB" lab --
expect_out "the missing command is named" "give the command to run after"
expect_exit "lab --bogus" 2 "$VB" lab --bogus -- vmmbench host
expect_out "an unknown option is named" "unknown option '--bogus'"
expect_exit "the command's own --db is refused" 2 "$VB" lab -- vmmbench run cpuid --db x.db
expect_out "it says to give --db to the lab" "give the database to the lab, before"
expect_exit "--db in a folder that does not exist" 5 "$VB" lab --db "$TMP/no/such.db" -- vmmbench host
expect_out "the folder is named" "its folder $TMP/no does not exist"
VB_ABS=$(cd "$BUILD/bin" && pwd -P)/vmmbench
expect_exit "lab run from under /tmp" 2 bash -c "cd /tmp && '$VB_ABS' lab -- vmmbench host"
expect_out "it names the lab's own /tmp and the fix" "the lab has its own /tmp.*run vmmbench lab from a folder outside"
truncate -s 600M "$TMP/big.db"
expect_exit "a --db larger than a quarter of --mem" 2 "$VB" lab --db "$TMP/big.db" -- vmmbench host
expect_out "it names the size and the --mem that fits" "is 600 MiB and the lab copies it into its memory: give --mem 2404M"
rm -f "$TMP/big.db"
echo "not a database" >"$TMP/junk.db"
expect_exit "--db that is not a database" 5 "$VB" lab --db "$TMP/junk.db" -- vmmbench host
if [ "$(cat "$TMP/junk.db")" = "not a database" ]; then pass "the file that is not a database is untouched"
else fail "the file that is not a database is untouched"; fi

# ---- shipped: make install carries the launcher, the installed vmmbench finds it ----
if make -s install DESTDIR="$TMP/inst" PREFIX=/opt/vmmb BUILD="$BUILD" >"$TMP/install.log" 2>&1; then
  L=$TMP/inst/opt/vmmb/share/vmmbench/lab
  if [ -x "$L/vmmbench-lab.sh" ] && [ -f "$L/init" ] && [ -f "$L/in-lab.sh" ]; then
    pass "make install puts the lab's launcher, init and in-lab script in share/vmmbench/lab"
  else fail "make install puts the lab's launcher, init and in-lab script in share/vmmbench/lab" "$(ls -la "$L" 2>&1)"; fi
  # (a cache that cannot be made: the installed launcher runs and stops before booting)
  expect_exit "the installed vmmbench runs its launcher: a lab that cannot start exits 125" 125 \
    env VMMB_LAB_CACHE=/proc/vmmbench-no-cache "$TMP/inst/opt/vmmb/bin/vmmbench" lab -- vmmbench host
  expect_out "it names the cache and the fix" "cache /proc/vmmbench-no-cache cannot be written; fix: set VMMB_LAB_CACHE"
else
  fail "make install DESTDIR=..." "$(tail -20 "$TMP/install.log")"
fi

# ---- without QEMU, not root: exit 125 naming the package (a PATH without qemu; as root,
# nobody runs a copy of the build, since root would install QEMU instead) ----
as_user() { "$@"; }
NB=""
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  NB=$(other_user_tree "$BUILD") || fail "a copy of the build for nobody"
  as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  trap 'rm -rf "$TMP" "$NB"' EXIT
fi
NOQ=${NB:-$TMP}/no-qemu-bin
mkdir -p "$NOQ" && chmod 755 "$NOQ"
for t in bash env dirname cpio apt-get dpkg id; do ln -sf "$(command -v $t)" "$NOQ/$t"; done
if [ "$(id -u)" -ne 0 ] || [ -n "$NB" ]; then
  expect_exit "no QEMU and not root: the lab cannot start (125)" 125 \
    as_user env PATH="$NOQ" "${NB:-$BUILD}/bin/vmmbench" lab -- vmmbench host
  expect_out "it names QEMU and the apt-get line" "QEMU is missing: qemu-system-x86; fix: as root, apt-get install qemu-system-x86"
else
  skip "no QEMU and not root: the lab cannot start (125)" "root without setpriv cannot become another user"
fi

# ---- one real boot ----
if ! ./mk/ensure-deps.sh qemu-system-x86 cpio >"$TMP/deps.log" 2>&1; then
  skip "vmmbench lab boots" "qemu-system-x86 could not be installed: $(tail -1 "$TMP/deps.log")"
  t_summary; exit
fi
DB=$TMP/results.db
expect_exit "a native run on the host first" 0 "$VB" run tlb:max=64K,iters=2000,batches=3 --config native \
  --reps 1 --tag before --db "$DB"
q() { sqlite3 "$DB" "$1" 2>&1; }
before_runs=$(q "SELECT count(*) FROM runs")
before_ids=$(q "SELECT group_concat(id) FROM (SELECT id FROM runs ORDER BY id)")
[ "${before_runs:-0}" -ge 1 ] && pass "the host's database holds the native run" ||
  fail "the host's database holds the native run" "$before_runs"

BUILD_BIN=$(cd "$BUILD/bin" && pwd -P)
t0=$SECONDS
# The command: a bash that runs vmmbench (no --db: VMMB_DB is the lab's copy of --db),
# says which vmmbench and what it returned, writes to stderr, and exits 42.
"$VB" lab --db "$DB" --timeout 600 -- bash -c 'vmmbench run cpuid:iters=100,batches=2 --reps 1 --tag inlab
  echo "inner status $?"; echo "inner vmmbench $(command -v vmmbench)"; echo "to-stderr" >&2; exit 42' \
  >"$TMP/out" 2>"$TMP/err"
rc=$?
echo "# the lab ran for $((SECONDS - t0)) s"
if [ $rc -eq 42 ]; then pass "the command's exit status (42) comes through the lab"
else fail "the command's exit status (42) comes through the lab" "exit $rc; stdout: $(cat "$TMP/out"); stderr: $(tail -30 "$TMP/err")"; fi
grep -q "^inner status 0$" "$TMP/out" && pass "vmmbench run succeeded inside the lab (stdout came back)" ||
  fail "vmmbench run succeeded inside the lab (stdout came back)" "$(cat "$TMP/out"; tail -20 "$TMP/err")"
grep -qx "inner vmmbench $BUILD_BIN/vmmbench" "$TMP/out" && pass "the lab runs this build's vmmbench" ||
  fail "the lab runs this build's vmmbench" "$(grep 'inner vmmbench' "$TMP/out")"
if grep -qx "to-stderr" "$TMP/err" && ! grep -q "to-stderr" "$TMP/out"; then pass "stderr comes back as stderr"
else fail "stderr comes back as stderr" "stdout: $(cat "$TMP/out"); stderr: $(cat "$TMP/err")"; fi
grep -q "booting a 2-node SVM host" "$TMP/err" && pass "the lab says what it boots" ||
  fail "the lab says what it boots" "$(head -5 "$TMP/err")"
grep -qx "vmmbench lab: 1 new run stored in $DB" "$TMP/err" && pass "the lab says what it stored in --db" ||
  fail "the lab says what it stored in --db" "$(tail -5 "$TMP/err")"

after_ids=$(q "SELECT group_concat(id) FROM (SELECT id FROM runs WHERE tag = 'before' ORDER BY id)")
[ "$after_ids" = "$before_ids" ] && pass "the host's run is still in --db, unchanged" ||
  fail "the host's run is still in --db, unchanged" "before: $before_ids, after: $after_ids"
[ "$(q "SELECT count(*) FROM runs")" = $((before_runs + 1)) ] && pass "--db holds exactly one run more" ||
  fail "--db holds exactly one run more" "$(q "SELECT id, tag, workload, status FROM runs")"
lab_host=$(q "SELECT r.status, h.emulated, h.kvm_flavour, h.numa_nodes FROM runs r JOIN hosts h ON h.id = r.host_id
             WHERE r.tag = 'inlab' AND r.workload = 'cpuid'")
[ "$lab_host" = "ok|tcg|svm|2" ] && pass "the lab's run is ok, on an emulated (tcg) svm host with 2 NUMA nodes" ||
  fail "the lab's run is ok, on an emulated (tcg) svm host with 2 NUMA nodes" "status|emulated|kvm|nodes: '$lab_host'"
# (a memory workload stores a run row per point: the native run is several rows)
[ "$(q "SELECT count(*) FROM runs r JOIN hosts h ON h.id = r.host_id WHERE r.tag = 'before'
       AND coalesce(h.emulated, '') = ''")" = "$before_runs" ] &&
  pass "the host's own runs stay unmarked" ||
  fail "the host's own runs stay unmarked" "$(q "SELECT id, hostname, emulated FROM hosts")"
expect_exit "vmmbench show --db over both" 0 "$VB" show --db "$DB"
expect_out "show marks the lab's cpuid row emulated" "^h[0-9]+:vmmbench-lab +default +cpuid .*emulated"
expect_out "and says what that means" "emulated = .*functional only, not a measurement"
if grep -E "native +tlb .*emulated" <<<"$OUT" >/dev/null; then fail "the host's native rows are not marked" "$OUT"
else pass "the host's native rows are not marked"; fi
expect_exit "vmmbench report over both" 0 "$VB" report all --db "$DB" --out "$TMP/report"
grep -q '<p class=warn id=emulated>Emulated: .*functional only, not a measurement' "$TMP/report/index.html" 2>/dev/null &&
  pass "the report says first that some results are emulated" ||
  fail "the report says first that some results are emulated" "$(head -c 2000 "$TMP/report/index.html" 2>&1)"
t_summary
