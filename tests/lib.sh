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
