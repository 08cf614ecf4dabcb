# Shared by the `make bench` scripts: medians, ratios, timings and verdicts that fail when
# a figure is missing. A failed command, an empty or non-numeric figure must never become
# 0 and pass a "<=" target: each helper passes "no figure" on (prints nothing or FAILED)
# and verdict fails on it. tests/integration/test_bench_verdict.sh checks them.
# shellcheck shell=bash
status=${status:-0}

NUM_RE='^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
# is_number V: V is one finite decimal number.
is_number() { [[ ${1:-} =~ $NUM_RE ]]; }

# median < numbers one a line: their median; nothing (no figure) for no input or when
# any line is not a number (a failed round writes FAILED).
median() {
  local v=() x
  while IFS= read -r x; do
    is_number "$x" || return 1
    v+=("$x")
  done
  [ ${#v[@]} -gt 0 ] || return 1
  printf '%s\n' "${v[@]}" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

# ratio A B [FORMAT]: A/B, or nothing unless both are numbers and B is not 0.
ratio() {
  is_number "${1:-}" && is_number "${2:-}" || return 1
  awk -v a="$1" -v b="$2" -v f="${3:-%.3f}" 'BEGIN{if (b == 0) exit 1; printf f, a/b}'
}

# figure FILTER CMD...: runs CMD and prints the one number the function FILTER makes of
# its output; prints FAILED (and says why on stderr) when CMD fails or gives no number.
figure() {
  local filter=$1 out v rc err
  shift
  err=$(mktemp)
  out=$("$@" 2>"$err"); rc=$?
  if [ $rc -ne 0 ]; then
    echo "   FAILED (exit $rc): $*: $(tail -1 "$err")" >&2; rm -f "$err"; echo FAILED; return 1
  fi
  rm -f "$err"
  v=$("$filter" <<<"$out" | head -1)
  if ! is_number "$v"; then
    echo "   FAILED: no figure ('$v') from: $*" >&2; echo FAILED; return 1
  fi
  echo "$v"
}

# timeit CMD...: the seconds CMD took, or FAILED when it failed.
timeit() {
  local t0 t1
  t0=$(date +%s.%N)
  if ! "$@" >/dev/null 2>&1; then echo "   FAILED: $*" >&2; echo FAILED; return 1; fi
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", b-a}'
}

# verdict NAME VALUE OP LIMIT: PASS when VALUE OP LIMIT holds; FAIL (and status=1) when
# it does not or when VALUE is not a number.
verdict() {
  if ! is_number "${2:-}"; then
    echo "FAIL $1: no figure ('${2:-}'; a command failed or printed nothing) (target $3 $4)"; status=1
  elif awk -v v="$2" -v l="$4" "BEGIN{exit !(v $3 l)}"; then echo "PASS $1: $2 (target $3 $4)"
  else echo "FAIL $1: $2 (target $3 $4)"; status=1; fi
}

# no_kvm_bench: the benchmarks cannot run here; a skip, or a failure under
# VMMB_REQUIRE_KVM=1.
no_kvm_bench() {
  if [ "${VMMB_REQUIRE_KVM:-}" = 1 ]; then
    echo "FAIL: benchmarks need a read-write /dev/kvm and VMMB_REQUIRE_KVM=1 requires it"; exit 1
  fi
  echo "SKIP: benchmarks need a read-write /dev/kvm"; exit 0
}
