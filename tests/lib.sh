# Shared by the shell tests: each check prints "ok - NAME" or "not ok - NAME" (TAP
# style) and tests/run-all.sh counts them.
# shellcheck shell=bash
T_PASS=0
T_FAIL=0
T_SKIP=0

T_GATED=""

pass() { [ -n "$T_GATED" ] && { gated "$1"; return 0; }; echo "ok - $1"; T_PASS=$((T_PASS + 1)); }
fail() {
  [ -n "$T_GATED" ] && { gated "$1"; return 0; }
  echo "not ok - $1"; [ -n "${2:-}" ] && printf '    %s\n' "$2"; T_FAIL=$((T_FAIL + 1))
}
skip() { echo "ok - $1 # SKIP $2"; T_SKIP=$((T_SKIP + 1)); }

# kvm_usable: /dev/kvm ($VMMB_KVM_DEV where set, as the binaries read it) is a character
# device that opens read-write (<> would create a missing plain file, hence -c first).
kvm_usable() { local d=${VMMB_KVM_DEV:-/dev/kvm}; [ -c "$d" ] && ( exec 3<>"$d" ) 2>/dev/null; }

# need_kvm: called where a test's checks start needing a usable /dev/kvm. Without one,
# every check after it is reported by name as skipped, one line each (expect_exit does not
# run its command; pass and fail report a skip), so the count shows how much went
# unchecked; with VMMB_REQUIRE_KVM=1 each of them fails instead.
need_kvm() {
  kvm_usable && return 0
  T_GATED="capability ${VMMB_KVM_DEV:-/dev/kvm} (read-write) is not available"
  echo "# no usable KVM: every check from here on is $( [ "${VMMB_REQUIRE_KVM:-}" = 1 ] && echo failed || echo skipped)"
}
gated() {
  if [ "${VMMB_REQUIRE_KVM:-}" = 1 ]; then
    echo "not ok - $1"; printf '    KVM is required (VMMB_REQUIRE_KVM=1) but %s\n' "$T_GATED"
    T_FAIL=$((T_FAIL + 1))
  else skip "$1" "$T_GATED"; fi
}

# expect_exit NAME CODE CMD...: runs CMD, captures stdout+stderr in $OUT.
expect_exit() {
  local name=$1 want=$2
  shift 2
  if [ -n "$T_GATED" ]; then OUT=""; gated "$name"; return 0; fi
  OUT=$("$@" 2>&1)
  local got=$?
  if [ "$got" -eq "$want" ]; then pass "$name"; else fail "$name" "exit $got, wanted $want: $OUT"; fi
}

# expect_out NAME PATTERN: the last captured output matches the extended regex.
expect_out() {
  [ -n "$T_GATED" ] && { gated "$1"; return 0; }
  if grep -Eq -- "$2" <<<"$OUT"; then pass "$1"; else fail "$1" "no /$2/ in: $OUT"; fi
}

t_summary() {
  echo "# $(basename "$0"): $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
  [ "$T_FAIL" -eq 0 ]
}

# other_user_tree BUILD: prints a new directory holding a copy of the build's binaries,
# guest images and configs in the installed layout (bin/, share/vmmbench/, plus
# tests/guest/), readable by everyone, with a world-writable scratch/ for configs and
# databases. Tests that run a program as another user (nobody) run this copy: the
# checkout and $TMPDIR may sit under a directory only their owner can enter (mktemp -d,
# CI work folders), and the other user must meet the refusal under test, not a
# "Permission denied" on the way to it. Made under /tmp, which every user can traverse.
# The caller removes it.
other_user_tree() {
  local b=$1 d
  d=$(mktemp -d /tmp/vmmb-other-user.XXXXXX) || return 1
  mkdir -p "$d/bin" "$d/tests" "$d/scratch" &&
    cp "$b/bin/vmm-min" "$b/bin/vmmbench" "$d/bin/" &&
    cp -r "$b/share" "$d/" &&
    { [ ! -d "$b/tests/guest" ] || cp -r "$b/tests/guest" "$d/tests/"; } || { rm -rf "$d"; return 1; }
  chmod -R a+rX "$d" && chmod 755 "$d" && chmod 1777 "$d/scratch"
  echo "$d"
}
# VMMB_SCALE: how many times slower than this machine the tests run, for emulation (the
# lab sets it, tests/lab/guest-tests.sh: 10 unless VMMB_LAB_SCALE says otherwise). The
# one place the scripts' large iteration counts are divided by it and their tight time
# limits multiplied by it; unset, both are as written.
# scaled N [MIN]: N divided by VMMB_SCALE (default 1), never below MIN (default 1).
scaled() {
  local n=$(( $1 / ${VMMB_SCALE:-1} ))
  [ "$n" -lt "${2:-1}" ] && n=${2:-1}
  echo "$n"
}
# stretched SECONDS: a time limit, SECONDS times VMMB_TIME_SCALE (default VMMB_SCALE):
# emulation slows plain user code more than it slows the scaled-down guest runs.
stretched() { echo $(( $1 * ${VMMB_TIME_SCALE:-${VMMB_SCALE:-1}} )); }
# lasting SECONDS [MIN]: how long a guest that is watched while it runs must keep running,
# SECONDS times VMMB_SCALE, never below MIN (a duration, which costs its time in full;
# not a ceiling).
lasting() { local n=$(( $1 * ${VMMB_SCALE:-1} )); [ "$n" -lt "${2:-0}" ] && n=$2; echo "$n"; }

# Reading vmm-min's summary in $OUT (the memory and macro workload tests):
# med POINT METRIC: the median vmm-min printed for that point and metric in $OUT.
med() { grep -F "[$1]  $2 " <<<"$OUT" | sed -n 's/.* median=\([^ ]*\).*/\1/p' | head -1; }
# The best batches (p5 of latency, p95 of bandwidth): this 2-core machine is shared, and
# the undisturbed batches carry the physics; the medians move with whoever else runs.
p5() { grep -F "[$1]  $2 " <<<"$OUT" | sed -n 's/.* p5=\([^ ]*\).*/\1/p' | head -1; }
p95() { grep -F "[$1]  $2 " <<<"$OUT" | sed -n 's/.* p95=\([^ ]*\).*/\1/p' | head -1; }
# physics NAME TRIES FUNC: pass when FUNC (a measurement that sets WHY and returns 0 when
# its physics hold) holds in one of TRIES attempts. Other jobs on this 2-core host can
# deschedule a vCPU for whole batches: one bad attempt is noise, every one a broken
# feature.
physics() {
  local name=$1 tries=$2 fn=$3 i
  for ((i = 1; i <= tries; i++)); do
    if "$fn"; then pass "$name (attempt $i: $WHY)"; return; fi
    echo "# $name: attempt $i did not hold: $WHY"
  done
  fail "$name" "in $tries attempts; last: $WHY; output: $OUT"
}
