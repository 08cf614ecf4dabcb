#!/usr/bin/env bash
# vmmb-test: no guest (boots one only where /dev/kvm is usable; without it, runs on the host)
# `vmmbench campaign` on a real one-node Slurm cluster started here: munged with a
# generated key, slurmctld and slurmd with a generated slurm.conf (free ports, state in a
# temporary directory), stopped by the trap however the test ends. A 2-task campaign
# (native memory workloads, and where a guest can run the quick exits) goes from submit
# to merged database and report under 2 minutes; a second campaign has a task scancel'd,
# status shows it failed with its Slurm state, and a resubmit reruns that task only. Then
# `campaign run --local` without Slurm, and bad input with its exit codes.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$(readlink -f "$BUILD/bin/vmmbench")
TMP=$(mktemp -d) && [ -d "$TMP" ] || { echo "not ok - mktemp -d"; exit 1; }
chmod 755 "$TMP"
PIDS_DIR=$TMP/cluster
stop_cluster() {
  # Only the daemons this test started, by the pids they wrote.
  local f
  for f in "$PIDS_DIR"/slurmd.pid "$PIDS_DIR"/slurmctld.pid "$PIDS_DIR"/munge/pid; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  sleep 0.5
  for f in "$PIDS_DIR"/slurmd.pid "$PIDS_DIR"/slurmctld.pid "$PIDS_DIR"/munge/pid; do
    [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap stop_cluster EXIT

# --- campaign run --local and bad input: no Slurm needed -----------------------------
mkdir -p "$TMP/local"
cat >"$TMP/local/c.ini" <<'EOF'
[campaign]
name = local1
results = res
nodes = nodeA
repetitions = 1

[set tlb]
configs = native
workloads = tlb:max=64K,iters=2000,batches=2

[set bw]
configs = native
workloads = bw:array=1M,ntimes=2
EOF
expect_exit "campaign run --local runs both tasks, merges and reports" 0 \
  "$VB" campaign run "$TMP/local/c.ini" --local
L=$TMP/local/res
# (A sweep such as tlb stores a row per point besides its run: rows are counted against
# the task databases, and the workloads each task ran are checked.)
wl() { sqlite3 "$1" "SELECT group_concat(w) FROM (SELECT DISTINCT workload AS w FROM runs ORDER BY w)" 2>/dev/null; }
rows() { sqlite3 "$1" "SELECT count(*) FROM runs" 2>/dev/null; }
n=$(rows "$L/campaign.db"); n0=$(rows "$L/task-0.db"); n1=$(rows "$L/task-1.db")
if [ "${n0:-0}" -gt 0 ] && [ "${n1:-0}" -gt 0 ] && [ "$n" = $((n0 + n1)) ] &&
   [ "$(wl "$L/task-0.db")" = tlb ] && [ "$(wl "$L/task-1.db")" = bw ] && [ "$(wl "$L/campaign.db")" = bw,tlb ]; then
  pass "local: merged database holds both tasks' runs ($n0 + $n1 rows)"
else fail "local: merged database holds both tasks' runs" "rows=$n task0=$n0 task1=$n1 workloads=$(wl "$L/campaign.db")"; fi
if grep -q tlb "$L/report/index.html" 2>/dev/null && grep -q bw "$L/report/index.html"; then
  pass "local: report written with both workloads"
else fail "local: report written with both workloads" "$(ls -R "$L" 2>&1)"; fi
m0=$(stat -c %Y.%y "$L/task-0.db" 2>/dev/null)
expect_exit "local: a second run keeps the done tasks" 0 "$VB" campaign run "$TMP/local/c.ini" --local
expect_out "local: both tasks reported done already" "task 1 \(set bw\): done already"
n2=$(rows "$L/campaign.db")
if [ "$n2" = "$n" ] && [ "$(stat -c %Y.%y "$L/task-0.db")" = "$m0" ]; then
  pass "local: nothing rerun, nothing merged twice"
else fail "local: nothing rerun, nothing merged twice" "runs=$n2"; fi
expect_exit "local: status without Slurm says done from the files" 0 "$VB" campaign status "$TMP/local/c.ini"
expect_out "local: status counts 2 done" "^2 done, 0 running, 0 pending, 0 failed"

# A task whose vmmbench run fails: its exit status and last stderr line in status.
sed -e 's/name = local1/name = local2/' -e 's/results = res/results = res2/' \
    -e 's/workloads = bw:array=1M,ntimes=2/workloads = no-such-workload/' \
    "$TMP/local/c.ini" >"$TMP/local/bad-wl.ini"
expect_exit "local: a task refused by vmmbench run gives its exit status" 2 \
  "$VB" campaign run "$TMP/local/bad-wl.ini" --local
expect_exit "local: status exits 1 with a failed task" 1 "$VB" campaign status "$TMP/local/bad-wl.ini"
expect_out "local: status names exit 2 and the last stderr line" \
  "^1 +nodeA +bw +failed .*vmmbench exit 2 \(usage error.*last stderr: .*no-such-workload"

printf '[campaign]\nname = x\nresults = r\nnodes = a\nrepetitions = lots\n[set s]\nsuite = quick\n' >"$TMP/bad1.ini"
expect_exit "bad repetitions: exit 3" 3 "$VB" campaign status "$TMP/bad1.ini"
expect_out "bad repetitions: FILE:LINE and the fix" "bad1.ini:5: repetitions 'lots': give a whole number"
printf '[campaign]\nname = x\nresults = r\nnodes = a\ncolour = red\n[set s]\nsuite = quick\n' >"$TMP/bad2.ini"
expect_exit "unknown key: exit 3" 3 "$VB" campaign submit "$TMP/bad2.ini"
expect_out "unknown key: names it and the line" "bad2.ini:5: unknown key 'colour'"
printf '[campaign]\nname = x\nresults = r\n[set s]\nsuite = quick\n' >"$TMP/bad3.ini"
expect_exit "neither nodes nor partition: exit 3" 3 "$VB" campaign submit "$TMP/bad3.ini"
expect_out "neither nodes nor partition: says what to add" "nodes = a,b.*partition = NAME"
printf '[campaign]\nname = x\nresults = r\nnodes = a\n[set s]\nsuite = quick\nworkloads = null\n' >"$TMP/bad4.ini"
expect_exit "suite and workloads in one set: exit 3" 3 "$VB" campaign submit "$TMP/bad4.ini"
expect_exit "missing campaign file: exit 3" 3 "$VB" campaign status "$TMP/nope.ini"
expect_exit "run without --local: usage, exit 2" 2 "$VB" campaign run "$TMP/local/c.ini"
expect_exit "unknown action: exit 2" 2 "$VB" campaign frobnicate "$TMP/local/c.ini"
expect_exit "no sbatch on PATH: exit 8" 8 env PATH=/nonexistent "$VB" campaign submit "$TMP/local/bad-wl.ini"
expect_out "no sbatch on PATH: names sbatch and the fix" "cannot run sbatch.*slurm-client"

# --- a one-node Slurm cluster on localhost ---------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
  skip "Slurm cluster checks" "slurmd needs root here (SlurmdUser root); run make test as root"
  t_summary; exit $?
fi
if ! ./mk/ensure-deps.sh slurm-wlm munge >/dev/null 2>"$TMP/deps.err"; then
  fail "Slurm packages installed through mk/ensure-deps.sh" "$(cat "$TMP/deps.err")"
  t_summary; exit $?
fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
D=$PIDS_DIR
mkdir -p "$D/state" "$D/spool" "$D/munge"
chmod 700 "$D/munge"
head -c 1024 /dev/urandom >"$D/munge/munge.key"
chmod 400 "$D/munge/munge.key"
# --force: munged refuses a socket directory outside /run otherwise.
munged --force --socket="$D/munge/sock" --key-file="$D/munge/munge.key" \
  --pid-file="$D/munge/pid" --log-file="$D/munge/log" --seed-file="$D/munge/seed" \
  2>"$D/munged.err" || { fail "munged starts" "$(cat "$D/munged.err" "$D/munge/log" 2>&1)"; t_summary; exit 1; }
NODE=$(hostname -s)
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done
cat >"$D/slurm.conf" <<EOF
ClusterName=vmmbtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
AuthInfo=socket=$D/munge/sock
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=3600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=bench Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$D/slurm.conf
slurmctld -f "$D/slurm.conf" 2>"$D/slurmctld.err" &&
  slurmd -f "$D/slurm.conf" -N "$NODE" 2>"$D/slurmd.err"
up=""
for _ in $(seq 60); do
  sinfo --noheader --format=%t 2>/dev/null | grep -qx idle && { up=1; break; }
  sleep 0.5
done
if [ -z "$up" ]; then
  fail "slurmctld and slurmd start, the node is idle" \
    "$(sinfo 2>&1; tail -n 20 "$D"/*.log "$D"/*.err 2>&1)"
  t_summary; exit 1
fi
pass "one-node cluster up (node $NODE, ports $CTLD_PORT/$SLURMD_PORT)"

# wait_merge FILE RESULTS LIMIT: until the merge job left its logs and the state file's
# merge job is no longer in squeue's active states, at most LIMIT seconds.
wait_merge() {
  local job i st
  job=$(sed -n 's/^finish //p' "$2/campaign.state")
  for ((i = 0; i < $3 * 4; i++)); do
    st=$(squeue --noheader --states=all --jobs="$job" --format=%T 2>/dev/null)
    case $st in COMPLETED|FAILED|CANCELLED|TIMEOUT) return 0 ;; esac
    sleep 0.25
  done
  return 1
}

# Campaign 1: 2 tasks on the node, submit to report under 2 minutes.
mkdir -p "$TMP/c1"
if kvm_usable; then
  WL2="null:batches=3 cpuid:batches=3 pio-user:batches=3"
  SET2="configs = default
workloads = $WL2"
else
  WL2="contention:size=1M,iters=2000,batches=2"
  SET2="configs = native
workloads = $WL2"
fi
cat >"$TMP/c1/c.ini" <<EOF
[campaign]
name = c1
results = res
nodes = $NODE
partition = bench
repetitions = 1

[set mem]
configs = native
workloads = tlb:max=64K,iters=2000,batches=2 bw:array=1M,ntimes=2

[set second]
$SET2
EOF
R1=$TMP/c1/res
t0=$(date +%s.%N)
expect_exit "c1: submit" 0 "$VB" campaign submit "$TMP/c1/c.ini"
expect_out "c1: one array of tasks 0,1 on the node" "submitted tasks 0,1 as job [0-9]+ on node $NODE"
expect_out "c1: a merge job after them" "merge and report as job [0-9]+"
tasks_job=$(sed -n 's/^task 0 //p' "$R1/campaign.state")
scontrol show job "${tasks_job}_0" >"$TMP/c1/job.txt" 2>&1
if grep -q "OverSubscribe=NO" "$TMP/c1/job.txt"; then pass "c1: tasks hold the node exclusively"
else fail "c1: tasks hold the node exclusively" "$(cat "$TMP/c1/job.txt")"; fi
if wait_merge "$TMP/c1/c.ini" "$R1" 120 && [ -f "$R1/report/index.html" ]; then
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
  echo "# c1: submit to merged report in $secs s"
  pass "c1: submit to merged report in $secs s (target < 120 s)"
else
  fail "c1: submit to merged report within 120 s" "$("$VB" campaign status "$TMP/c1/c.ini" 2>&1; tail "$R1"/logs/* 2>&1)"
fi
# (A sweep such as tlb stores a row per point besides its run: count rows, and check the
# workloads each task ran.)
n=$(sqlite3 "$R1/campaign.db" "SELECT count(*) FROM runs" 2>/dev/null)
n0=$(sqlite3 "$R1/task-0.db" "SELECT count(*) FROM runs" 2>/dev/null)
n1=$(sqlite3 "$R1/task-1.db" "SELECT count(*) FROM runs" 2>/dev/null)
w0=$(wl "$R1/task-0.db"); w1=$(wl "$R1/task-1.db"); w=$(wl "$R1/campaign.db")
want1=$(tr ' ' '\n' <<<"$WL2" | sed 's/:.*//' | sort -u | paste -sd,)
want=$(printf 'bw\ntlb\n%s\n' "$(tr ' ' '\n' <<<"$WL2" | sed 's/:.*//')" | sort -u | paste -sd,)
if [ "${n0:-0}" -gt 0 ] && [ "${n1:-0}" -gt 0 ] && [ "$n" = $((n0 + n1)) ] &&
   [ "$w0" = bw,tlb ] && [ "$w1" = "$want1" ] && [ "$w" = "$want" ]; then
  pass "c1: merged database holds both tasks' runs ($n0 + $n1 rows: $w)"
else fail "c1: merged database holds both tasks' runs" "merged=$n ($w) task0=$n0 ($w0) task1=$n1 ($w1), want $want"; fi
ok=$(sqlite3 "$R1/campaign.db" "SELECT count(*) FROM runs WHERE status IN ('ok','unsupported') AND tag = 'c1'" 2>/dev/null)
if [ "$ok" = "$n" ]; then pass "c1: every run ok and tagged with the campaign"
else fail "c1: every run ok and tagged with the campaign" "ok=$ok of $n"; fi
if grep -q 'tlb' "$R1/report/index.html" 2>/dev/null; then pass "c1: report written"
else fail "c1: report written" "$(ls "$R1" "$R1/report" 2>&1)"; fi
expect_exit "c1: status exits 0 when every task is done" 0 "$VB" campaign status "$TMP/c1/c.ini"
expect_out "c1: status shows both COMPLETED" "^1 +$NODE +second +done +COMPLETED"
expect_out "c1: status shows the merge job" "merge and report: job [0-9]+ COMPLETED"
expect_exit "c1: submitting a finished campaign submits nothing" 0 "$VB" campaign submit "$TMP/c1/c.ini"
expect_out "c1: says so" "all 2 tasks have their database; nothing to submit"

# Campaign 2: task 1 cancelled, status says failed, resubmit reruns task 1 only.
mkdir -p "$TMP/c2"
cat >"$TMP/c2/c.ini" <<EOF
[campaign]
name = c2
results = res
nodes = $NODE
repetitions = 1

[set a]
configs = native
workloads = tlb:max=4M,iters=300000,batches=5

[set b]
configs = native
workloads = tlb:max=4M,iters=1000000,batches=10
EOF
# (task 1 runs for seconds, so that it is still running when it is cancelled below: at a
# third of that it once ended while `campaign status` ran on a loaded host)
R2=$TMP/c2/res
expect_exit "c2: submit" 0 "$VB" campaign submit "$TMP/c2/c.ini"
job=$(sed -n 's/^task 1 //p' "$R2/campaign.state")
expect_exit "c2: a second submit while it runs is refused (exit 8)" 8 "$VB" campaign submit "$TMP/c2/c.ini"
expect_out "c2: the refusal says it is still in Slurm" "still in Slurm .* (PENDING|RUNNING)"
# Killed while running (one exclusive node: task 1 starts once task 0 ends). A pending
# array task that is cancelled leaves Slurm no record to show a state from.
for _ in $(seq 240); do
  squeue --noheader --array --jobs="$job" --format='%i %T' 2>/dev/null | grep -q "^${job}_1 RUNNING" && break
  sleep 0.25
done
"$VB" campaign status "$TMP/c2/c.ini" >"$TMP/c2/running.txt"
if grep -Eq "^1 +$NODE +b +running +RUNNING" "$TMP/c2/running.txt"; then pass "c2: status shows task 1 running"
else fail "c2: status shows task 1 running" "$(cat "$TMP/c2/running.txt")"; fi
scancel "${job}_1"
wait_merge "$TMP/c2/c.ini" "$R2" 120 || fail "c2: merge job ends" "$(squeue --states=all 2>&1)"
expect_exit "c2: status exits 1 with a failed task" 1 "$VB" campaign status "$TMP/c2/c.ini"
# (scancel signals the task and its vmmbench run together: the task either dies first,
# leaving no exit status, or records its run's death by SIGTERM.)
expect_out "c2: task 1 failed with its Slurm state" \
  "^1 +$NODE +b +failed +CANCELLED +vmmbench (left no exit status|exit 143 \(killed by a signal)"
expect_out "c2: task 0 done" "^0 +$NODE +a +done +COMPLETED"
expect_out "c2: status says how to resubmit" "resubmit the failed tasks with: vmmbench campaign submit"
m0=$(stat -c %Y.%y "$R2/task-0.db")
ids0=$(sqlite3 "$R2/task-0.db" "SELECT group_concat(started) FROM runs")
before=$(sqlite3 "$R2/campaign.db" "SELECT count(*) FROM runs")
expect_exit "c2: resubmit" 0 "$VB" campaign submit "$TMP/c2/c.ini"
expect_out "c2: resubmit submits task 1 only" "submitted task 1 as job [0-9]+ on node"
if grep -q "tasks\? 0" <<<"$OUT"; then fail "c2: task 0 not resubmitted" "$OUT"; else pass "c2: task 0 not resubmitted"; fi
wait_merge "$TMP/c2/c.ini" "$R2" 120 || fail "c2: second merge job ends" "$(squeue --states=all 2>&1)"
expect_exit "c2: after the resubmit every task is done" 0 "$VB" campaign status "$TMP/c2/c.ini"
expect_out "c2: status counts 2 done" "^2 done, 0 running, 0 pending, 0 failed"
if [ "$(stat -c %Y.%y "$R2/task-0.db")" = "$m0" ] &&
   [ "$(sqlite3 "$R2/task-0.db" "SELECT group_concat(started) FROM runs")" = "$ids0" ]; then
  pass "c2: the finished task's database was not rerun"
else fail "c2: the finished task's database was not rerun" "mtime/run start times changed"; fi
after=$(sqlite3 "$R2/campaign.db" "SELECT count(*) FROM runs")
t0n=$(sqlite3 "$R2/task-0.db" "SELECT count(*) FROM runs")
t1n=$(sqlite3 "$R2/task-1.db" "SELECT count(*) FROM runs")
if [ "$before" = "$t0n" ] && [ "$after" = $((t0n + t1n)) ] && [ "$t1n" -gt 0 ]; then
  pass "c2: merged rows $before -> $after: task 1 added, task 0 not twice"
else fail "c2: merged rows: task 1 added, task 0 not twice" "before=$before after=$after task0=$t0n task1=$t1n"; fi

# A task cancelled while still pending: Slurm 22.05 drops it from the array without a
# record, so status has no Slurm state to show; it must still say failed, and why.
sed -e 's/name = c2/name = c4/' -e 's/results = res/results = res4/' "$TMP/c2/c.ini" >"$TMP/c2/c4.ini"
expect_exit "c4: submit" 0 "$VB" campaign submit "$TMP/c2/c4.ini"
job=$(sed -n 's/^task 1 //p' "$TMP/c2/res4/campaign.state")
st=$(squeue --noheader --array --jobs="$job" --format='%i %T' 2>/dev/null | sed -n "s/^${job}_1 //p")
scancel "${job}_1"
wait_merge "$TMP/c2/c4.ini" "$TMP/c2/res4" 120 || fail "c4: merge job ends" "$(squeue --states=all 2>&1)"
expect_exit "c4: status exits 1" 1 "$VB" campaign status "$TMP/c2/c4.ini"
if [ "$st" = PENDING ]; then
  expect_out "c4: a task cancelled while pending shows failed, Slurm has no record" \
    "^1 +$NODE +b +failed +unknown +vmmbench left no exit status, and Slurm lists no job ${job}_1"
else
  expect_out "c4: task 1 (it was $st when cancelled) shows failed CANCELLED" "^1 +$NODE +b +failed +CANCELLED"
fi

# sbatch's own refusal is passed on with exit 8.
sed -e "s/nodes = $NODE/nodes = no-such-node/" -e 's/name = c2/name = c3/' -e 's/results = res/results = res3/' \
  "$TMP/c2/c.ini" >"$TMP/c2/bad-node.ini"
expect_exit "unknown node: sbatch refuses, exit 8" 8 "$VB" campaign submit "$TMP/c2/bad-node.ini"
expect_out "unknown node: sbatch's message is shown" "sbatch refused the job .*: .*"

t_summary
