# Shared by the shell tests: each check prints "ok - NAME" or "not ok - NAME" (TAP
# style) and tests/run-all.sh counts them.
# shellcheck shell=bash
T_PASS=0
T_FAIL=0
T_SKIP=0

pass() { echo "ok - $1"; T_PASS=$((T_PASS + 1)); }
fail() { echo "not ok - $1"; [ -n "${2:-}" ] && printf '    %s\n' "$2"; T_FAIL=$((T_FAIL + 1)); }
skip() { echo "ok - $1 # SKIP $2"; T_SKIP=$((T_SKIP + 1)); }

# expect_exit NAME CODE CMD...: runs CMD, captures stdout+stderr in $OUT.
expect_exit() {
  local name=$1 want=$2
  shift 2
  OUT=$("$@" 2>&1)
  local got=$?
  if [ "$got" -eq "$want" ]; then pass "$name"; else fail "$name" "exit $got, wanted $want: $OUT"; fi
}

# expect_out NAME PATTERN: the last captured output matches the extended regex.
expect_out() {
  if grep -Eq -- "$2" <<<"$OUT"; then pass "$1"; else fail "$1" "no /$2/ in: $OUT"; fi
}

t_summary() {
  echo "# $(basename "$0"): $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
  [ "$T_FAIL" -eq 0 ]
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
# stretched SECONDS: a time limit, SECONDS times VMMB_SCALE.
stretched() { echo $(( $1 * ${VMMB_SCALE:-1} )); }
