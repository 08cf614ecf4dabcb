#!/usr/bin/env bash
# vmmb-test: no guest (boots one only where /dev/kvm is usable; without it, runs on the host)
# `vmmbench history` end to end on a real SQLite file written through db_store_run
# (tests/bench/make_history_db: 60 run sets, one suite revision each, latency +10% from
# set 24 and -8% from set 42, throughput flat, 1% run and 0.5% batch noise, seeded):
# the table finds exactly the two planted latency steps (sizes read as 9-12% and 7-10%), by time and by revision, and
# nothing in throughput; --json carries every point with its CI; --plot makes real PNG
# and SVG through gnuplot with a change line per step; the report gets a History section
# only when the database holds more than one revision; two run sets of real native runs
# (`vmmbench run --config native`) come out as two points of 3 runs each, in order; bad
# input exits 2 naming the problem.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
GEN=$BUILD/tests/bench/make_history_db
TMP=$(mktemp -d)
trap "rm -rf $TMP" EXIT; [ -n "${KEEP:-}" ] && trap - EXIT && echo "TMP=$TMP"

expect_exit "history --help" 0 "$VB" history --help
expect_out "history --help names the method" "E-Divisive"
expect_exit "history on a missing database" 2 "$VB" history --db "$TMP/none.db"
expect_out "the missing database is named" "no results database at $TMP/none.db"
echo "not a database" >"$TMP/junk.db"
expect_exit "history on a file that is not SQLite" 2 "$VB" history --db "$TMP/junk.db"
expect_out "it says what the file is not" "not a valid SQLite database"
expect_exit "history --by garbage" 2 "$VB" history --by week --db "$TMP/none.db"
expect_out "--by names its choices" "say time or rev"
expect_exit "history with a stray argument" 2 "$VB" history extra
expect_out "the stray argument is named" "unexpected argument 'extra'"

if [ ! -x "$GEN" ]; then
  fail "make_history_db is built" "$GEN is missing: make test builds it (make $GEN)"
  t_summary; exit
fi
DB=$TMP/history.db
"$GEN" "$DB" 60 >"$TMP/truth.txt" || fail "make_history_db writes the database" "$(cat "$TMP/truth.txt")"
grep -q '^step 24 +10%' "$TMP/truth.txt" && grep -q '^step 42 -8%' "$TMP/truth.txt" ||
  fail "the generator plants its steps at 24 and 42" "$(cat "$TMP/truth.txt")"

# ---- the table ----
expect_exit "history over 60 run sets" 0 "$VB" history --db "$DB"
expect_out "it counts the series and run sets" "^2 series over 60 run sets; 2 changes"
expect_out "the +10% step: last before ci-00023, first after ci-00024" \
  "^latency +null +default .* ci-00023 -> ci-00024 .* \+(9\.[0-9]|1[01]\.[0-9])% +0\.99"
expect_out "the -8% step: last before ci-00041, first after ci-00042" \
  "^latency +null +default .* ci-00041 -> ci-00042 .* -([7-9]\.[0-9])% +0\.99"
if grep -q '^throughput' <<<"$OUT"; then fail "no change in the flat throughput" "$OUT"
else pass "no change in the flat throughput"; fi
expect_exit "history --by rev" 0 "$VB" history --db "$DB" --by rev
expect_out "by revision the points are suite revisions" "rev00023 -> rev00024"
expect_out "and the count says revisions" "over 60 revisions"
expect_exit "history --metric throughput" 0 "$VB" history --db "$DB" --metric throughput
expect_out "the flat series alone: no change" "^1 series over 60 run sets; 0 changes"
expect_exit "history --metric none" 2 "$VB" history --db "$DB" --metric nosuch
expect_out "an unknown metric is named" "no samples of ok runs of metric nosuch"

# ---- JSON ----
expect_exit "history --json" 0 "$VB" history --db "$DB" --json
printf '%s\n' "$OUT" >"$TMP/h.json"
if python3 - "$TMP/h.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["by"] == "time" and d["points"] == 60, d["points"]
lat = [s for s in d["series"] if s["metric"] == "latency"][0]
thr = [s for s in d["series"] if s["metric"] == "throughput"][0]
assert len(lat["points"]) == 60 and len(thr["points"]) == 60
assert [c["first_after"] for c in lat["changes"]] == ["ci-00024", "ci-00042"], lat["changes"]
assert thr["changes"] == []
for p in lat["points"] + thr["points"]:
    assert p["runs"] == 3 and p["ci_lo"] < p["value"] < p["ci_hi"], p
# oldest first, and the planted levels
assert all(a["first"] < b["first"] for a, b in zip(lat["points"], lat["points"][1:]))
assert 980 < lat["changes"][0]["before"] < 1020 and 1080 < lat["changes"][0]["after"] < 1120
EOF
then pass "JSON: 60 points a series with CIs, changes at ci-00024 and ci-00042"
else fail "JSON: 60 points a series with CIs, changes at ci-00024 and ci-00042"; fi

# ---- plots ----
expect_exit "history --plot" 0 "$VB" history --db "$DB" --plot "$TMP/plots"
expect_out "it lists the plots it made" "history-1.png, .svg  latency \(ns\)"
ok=1
for n in 1 2; do
  [ "$(head -c 8 "$TMP/plots/history-$n.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || ok=""
  python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith("svg")' \
    "$TMP/plots/history-$n.svg" 2>/dev/null || ok=""
done
[ -n "$ok" ] && pass "PNG and SVG of both series are valid" || fail "PNG and SVG of both series are valid" "$(ls -l "$TMP/plots")"
[ "$(grep -c 'set arrow' "$TMP/plots/history-1.gp")" = 2 ] && [ "$(grep -c 'set arrow' "$TMP/plots/history-2.gp")" = 0 ] &&
  pass "a change line per latency step, none for throughput" ||
  fail "a change line per latency step, none for throughput" "$(grep 'set arrow' "$TMP/plots"/*.gp)"
[ "$(grep -vc '^#' "$TMP/plots/history-1.dat")" = 60 ] && pass "the plotted data has the 60 points" ||
  fail "the plotted data has the 60 points" "$(wc -l "$TMP/plots/history-1.dat")"
mkdir -p "$TMP/ro" && touch "$TMP/ro/f"
expect_exit "history --plot into a file path" 2 "$VB" history --db "$DB" --plot "$TMP/ro/f/x"
expect_out "the directory problem is named" "cannot create $TMP/ro/f/x"

# ---- real runs: two run sets of a native workload, stored by `vmmbench run` ----
RDB=$TMP/real.db
for tag in ci-a ci-b; do
  expect_exit "vmmbench run --config native --tag $tag" 0 "$VB" run tlb:min=1M,max=1M,iters=20000,batches=3 \
    --config native --reps 3 --tag "$tag" --db "$RDB"
done
expect_exit "history over real runs" 0 "$VB" history --db "$RDB" --json
printf '%s\n' "$OUT" >"$TMP/real.json"
if python3 - "$TMP/real.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["points"] == 2 and d["series"], d
for s in d["series"]:
    assert s["workload"] == "tlb" and s["config"] == "native", s
    assert [p["label"] for p in s["points"]] == ["ci-a", "ci-b"], s["points"]
    assert all(p["runs"] == 3 for p in s["points"]) and s["changes"] == []
assert "latency" in [s["metric"] for s in d["series"]]
EOF
then pass "real runs: a series per metric, the two run sets in order, 3 runs each"
else fail "real runs: a series per metric, the two run sets in order, 3 runs each" "$OUT"; fi

# ---- the report ----
expect_exit "report over the history" 0 "$VB" report --db "$DB" --out "$TMP/report"
H=$TMP/report/index.html
grep -q '<h2 id=history>History</h2>' "$H" && pass "the report has a History section" ||
  fail "the report has a History section"
[ "$(grep -c '<tr><td>latency</td><td>null</td><td>default</td><td>[^<]*</td><td>rev000[24][13]</td>' "$H")" = 2 ] &&
  pass "its table lists the two latency changes" || fail "its table lists the two latency changes" "$(grep -A4 'class=history' "$H")"
for n in 1 2; do
  grep -q "src=\"plots/history-$n.png\"" "$H" && [ -s "$TMP/report/plots/history-$n.png" ] || ok=""
done
[ -n "$ok" ] && pass "its history plots are embedded and exist" || fail "its history plots are embedded and exist"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["by"] == "rev" and len(d["series"]) == 2' \
  "$TMP/report/history.json" && pass "history.json beside the report" || fail "history.json beside the report"
# one revision: no section
"$GEN" "$TMP/one.db" 1 >/dev/null
expect_exit "report over one revision" 0 "$VB" report --db "$TMP/one.db" --out "$TMP/report1"
grep -q 'id=history' "$TMP/report1/index.html" && fail "one revision: no History section" ||
  pass "one revision: no History section"
t_summary
