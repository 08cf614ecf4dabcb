#!/usr/bin/env bash
# H1. `vmmbench history` over 10,000 run sets (issue 14): a CI history written by
#     tests/bench/make_history_db (10,000 revisions x 3 runs x 5 batches, latency +10% at
#     set 4000 and -8% at set 7000, throughput flat); the change table in under 5 s (the
#     median of 3 whole-process runs, printed with its ratio to the target), and it must
#     name both planted steps exactly and nothing else. `--json` (every point's
#     run-clustered CI: a bootstrap each, 20,000 of them) is timed and reported, not
#     judged.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
B=$BUILD/tests/bench
status=0
. tests/lib.sh
# median, ratio, timeit, verdict: a missing figure or a failed command fails.
. tests/bench/bench-lib.sh

echo "== H1. history over 10,000 run sets"
HDIR=$(mktemp -d)
HDB=$HDIR/history.db
"$B/make_history_db" "$HDB" 10000 >/dev/null || { echo "FAIL make_history_db: could not build the history database"; status=1; }
echo "   $(sqlite3 "$HDB" 'SELECT count(DISTINCT tag) FROM runs') run sets, $(sqlite3 "$HDB" 'SELECT count(*) FROM runs') runs, $(sqlite3 "$HDB" 'SELECT count(*) FROM samples') samples"
hist_s=$(for i in 1 2 3; do timeit "$BUILD/bin/vmmbench" history --db "$HDB"; done | median)
echo "   history: $hist_s s ($(ratio "$hist_s" 5 %.2f) of the 5 s target)"
verdict "vmmbench history, 10,000 run sets (s)" "$hist_s" "<" 5
table=$("$BUILD/bin/vmmbench" history --db "$HDB" 2>&1)
if grep -q '^2 series over 10000 run sets; 2 changes' <<<"$table" &&
   grep -Eq '^latency .* ci-03999 -> ci-04000 ' <<<"$table" &&
   grep -Eq '^latency .* ci-06999 -> ci-07000 ' <<<"$table"; then
  echo "PASS history finds the two planted steps at 4000 and 7000, nothing else"
else
  echo "FAIL history finds the two planted steps at 4000 and 7000, nothing else"; echo "$table"; status=1
fi
json_s=$(timeit "$BUILD/bin/vmmbench" history --db "$HDB" --json)
echo "   history --json (a CI per point): $json_s s (reported)"
rm -rf "$HDIR"
exit $status
