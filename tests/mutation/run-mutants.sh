#!/usr/bin/env bash
# `make mutate`: applies each one-line mutant of tests/mutation/mutants.txt, one at a
# time, to a private copy of the tree, rebuilds what it touches, and runs the fast part
# of the tests (MUTATE_TESTS, default: the plain unit tests and the real-guest C tests).
# A mutant is killed when the tests fail (or do not build); one that survives is either a
# gap in the tests or is written down in mutants.txt as equivalent, with the reason.
# Prints one line per mutant and the kill rate; exits 1 below MUTATE_TARGET (90%).
#
# mutants.txt: one mutant per line, fields separated by " | ":
#   FILE | TEXT (occurs exactly once in FILE) | REPLACEMENT | what it breaks [| TESTS]
# (the separator is " | " with its spaces, so TEXT may hold "||"; it may not hold " | ").
# TESTS (optional): the test programs to run for this mutant (e.g. "unit/test_db
# integration/test_guests"), the ones that cover FILE; default: every fast test. A mutant
# killed by a subset is killed by the whole suite too, so the rate is a lower bound.
# A line whose "what it breaks" starts with "equivalent:" is a survivor explained.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
LIST=${MUTATE_LIST:-tests/mutation/mutants.txt}
TARGET=${MUTATE_TARGET:-90}
WORK=$(mktemp -d /tmp/vmmb-mutate.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# mktemp makes it 0700; the tests that run the CLIs as `nobody` need to reach the build.
chmod 0755 "$WORK"
# The tree as git has it, plus uncommitted changes: what is being judged.
git ls-files -z | (cd "$ROOT" && cpio -0pdm --quiet "$WORK/src")
cd "$WORK/src"
B=build
UNIT=$(cd tests/unit && ls test_*.c | sed 's/\.c$//')
INTEG=$(cd tests/integration && ls test_*.c 2>/dev/null | sed 's/\.c$//')
TARGETS="all $B/tests/guest/hostile-guest.elf $(for t in $UNIT; do echo "$B/tests/unit/$t"; done) $(for t in $INTEG; do echo "$B/tests/integration/$t"; done)"
run_tests() { # [TESTS]: "unit/NAME", "integration/NAME" (C) or "integration/NAME.sh"
  local t rc=0 list=${1:-}
  if [ -z "$list" ]; then
    for t in $UNIT; do list="$list unit/$t"; done
    [ -r /dev/kvm ] && [ -w /dev/kvm ] && for t in $INTEG; do list="$list integration/$t"; done
  fi
  for t in $list; do
    case $t in
      *.sh) BUILD=$B timeout 600 bash "tests/$t" >"$WORK/test.log" 2>&1 || rc=1 ;;
      *) BUILD=$B timeout 300 "$B/tests/$t" >"$WORK/test.log" 2>&1 || rc=1 ;;
    esac
    [ $rc -ne 0 ] && { failed_test=$t; return 1; }  # killed: no need to run the rest
  done
  if [ -n "${MUTATE_TESTS:-}" ]; then eval "$MUTATE_TESTS" >/dev/null 2>&1 || rc=1; fi
  return $rc
}
echo "# building the unmutated tree"
# shellcheck disable=SC2086
make -s -j2 BUILD=$B $TARGETS >"$WORK/build.log" 2>&1 || { echo "the unmutated tree does not build"; tail -20 "$WORK/build.log"; exit 2; }
# The unmutated tree must pass the tests the mutants name (every fast test when one names
# none): a mutant is only judged by tests that pass without it.
split_fields() { # LINE -> f[]: fields split on " | " only, so TEXT may hold C's "||"
  f=(); local rest=$1
  while [[ $rest == *" | "* ]]; do f+=("${rest%% | *}"); rest=${rest#* | }; done
  f+=("$rest")
}
named=""
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  split_fields "$line"
  t=$(echo "${f[4]:-}" | xargs)
  [ -z "$t" ] && { named=""; break; }
  for x in $t; do [[ " $named " == *" $x "* ]] || named="$named $x"; done
done <"$ROOT/$LIST"
run_tests "$named" || { echo "the unmutated tree fails ${failed_test:-its tests}: fix that first"; tail -30 "$WORK/test.log"; exit 2; }
killed=0 survived=0 equivalent=0 n=0
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  split_fields "$line"
  file=$(echo "${f[0]}" | xargs); text=${f[1]:-}; repl=${f[2]:-}; why=${f[3]:-}
  text=${text# }; text=${text% }; repl=${repl# }; repl=${repl% }
  why=${why# }; why=${why% }; tests=$(echo "${f[4]:-}" | xargs)
  n=$((n + 1))
  cnt=$(grep -cF -- "$text" "$file" 2>/dev/null || echo 0)
  if [ "$cnt" != 1 ]; then echo "BAD   #$n $file: '$text' occurs $cnt times (fix the list)"; survived=$((survived + 1)); continue; fi
  cp "$file" "$WORK/orig"
  MUT_TEXT=$text MUT_REPL=$repl perl -0pi -e 's/\Q$ENV{MUT_TEXT}\E/$ENV{MUT_REPL}/' "$file"
  # With TESTS named, only the programs and those tests are rebuilt (C tests), which keeps
  # a mutant to a few links instead of every test binary; shell tests get everything.
  want=$TARGETS
  if [ -n "$tests" ] && [[ $tests != *.sh* ]]; then
    want="all $B/tests/guest/hostile-guest.elf"; for t in $tests; do want="$want $B/tests/$t"; done
  fi
  # shellcheck disable=SC2086
  if ! make -s -j2 BUILD=$B $want >"$WORK/mbuild.log" 2>&1 || ! run_tests "$tests"; then
    echo "KILL  #$n $file: $why"; killed=$((killed + 1))
  elif [[ $why == equivalent:* ]]; then
    echo "EQUIV #$n $file: $why"; equivalent=$((equivalent + 1))
  else
    echo "LIVE  #$n $file: '$text' -> '$repl': $why"; survived=$((survived + 1))
  fi
  cp "$WORK/orig" "$file"
  touch "$file"
done <"$ROOT/$LIST"
judged=$((n - equivalent))
rate=$(awk -v k="$killed" -v j="$judged" 'BEGIN{printf "%.1f", j ? 100*k/j : 0}')
echo "mutants: $n, killed $killed, survived $survived, equivalent $equivalent: kill rate $rate% (target $TARGET%)"
awk -v r="$rate" -v t="$TARGET" 'BEGIN{exit !(r >= t)}'
