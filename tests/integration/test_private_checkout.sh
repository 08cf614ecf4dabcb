#!/usr/bin/env bash
# vmmb-lab-seconds: 86 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# vmmb-test: parallel (it checks what runs and what is refused, not figures: tests/run-all.sh runs it beside another such test)
# Regression test for issue 16: the tests that switch to another user (nobody) must test
# what they mean to when the checkout sits under a directory only its owner can enter, as
# `mktemp -d` and CI work folders make it. This checkout is bind-mounted (in a private
# mount namespace, so nothing outside sees it) under a fresh 0700 directory, and the
# user-switching tests run from there; their checks are reported here prefixed with
# "0700 checkout:". Not the whole suite: only the tests that run something as nobody,
# the shell tests and the unit test that drops to nobody (test_db), the latter with
# $TMPDIR private too (a 0700 directory beside the checkout).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
SWITCHING="test_as_nobody.sh test_virtio_tap.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! unshare --mount true 2>/dev/null; then
  skip "user-switching tests from a 0700 checkout" "needs root, setpriv and unshare --mount (a bind mount in a private namespace)"
  t_summary; exit
fi
case $BUILD in /*) skip "user-switching tests from a 0700 checkout" "BUILD=$BUILD is absolute: it would not move with the checkout"; t_summary; exit ;; esac

P=$(mktemp -d)
trap 'rm -rf "$P"' EXIT
chmod 0700 "$P"
mkdir "$P/c" "$P/tmp"
chmod 0700 "$P/tmp"
# shellcheck disable=SC2016
unshare --mount --propagation private -- bash -c '
  set -u
  repo=$1 c=$2 build=$3 tmp=$4; shift 4
  mount --bind "$repo" "$c" || exit 90
  cd "$c" || exit 91
  # The premise: nobody cannot reach the build here by its absolute path, the way the
  # binaries find their guest image (else this test proves nothing).
  if setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$c/$build/bin/vmm-min" 2>/dev/null; then
    echo "not ok - premise: nobody cannot read $c/$build/bin/vmm-min"
  else
    echo "ok - premise: nobody cannot read $c/$build/bin/vmm-min"
  fi
  for t in "$@"; do
    echo "# running tests/integration/$t from $c"
    BUILD=$build bash "tests/integration/$t"
  done
  if TMPDIR=$tmp "$build/tests/unit/test_db" >"$tmp/unit.log" 2>&1; then
    echo "ok - unit/test_db (a child drops to nobody) with TMPDIR=$tmp (0700)"
  else
    echo "not ok - unit/test_db (a child drops to nobody) with TMPDIR=$tmp (0700)"; sed "s/^/    /" "$tmp/unit.log"
  fi
  if TMPDIR=$tmp "$build/tests/unit/test_readonly" >"$tmp/ro.log" 2>&1; then
    echo "ok - unit/test_readonly (nobody reads the databases) with TMPDIR=$tmp (0700)"
  else
    echo "not ok - unit/test_readonly (nobody reads the databases) with TMPDIR=$tmp (0700)"; sed "s/^/    /" "$tmp/ro.log"
  fi
' _ "$PWD" "$P/c" "$BUILD" "$P/tmp" $SWITCHING >"$P/out.log" 2>&1
rc=$?
[ "$(stat -c %a "$P")" = 700 ] && pass "the checkout's parent is mode 0700 ($P)" \
  || fail "the checkout's parent is mode 0700" "$(stat -c %a "$P")"
[ $rc -lt 90 ] && pass "the checkout is bind-mounted under it" || fail "the checkout is bind-mounted under it" "$(cat "$P/out.log")"
# Every check of the inner tests, relabelled: each counts here as it counted there.
sed -n -e 's/^ok - /ok - 0700 checkout: /p' -e 's/^not ok - /not ok - 0700 checkout: /p' \
  -e 's/^\(    .*\)/\1/p' -e 's/^# /# 0700 checkout: /p' "$P/out.log"
T_FAIL=$((T_FAIL + $(grep -c '^not ok - ' "$P/out.log")))
n=$(grep -c '^ok - ' "$P/out.log")
[ "$n" -gt 10 ] && pass "the user-switching tests ran from there ($n checks)" \
  || fail "the user-switching tests ran from there" "$(tail -20 "$P/out.log")"
t_summary
