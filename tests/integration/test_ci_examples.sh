#!/usr/bin/env bash
# vmmb-test: no guest (boots one only where /dev/kvm is usable; without it, runs on the host)
# vmmb-test: measures (its gate judges real native runs: it runs alone, after the background lane)
# The CI recipes in examples/ci/ are files users copy: each must parse as YAML, have the
# shape its CI system needs, and call only vmmbench subcommands and flags that exist
# (every `vmmbench SUB --flag` is looked up in `vmmbench SUB --help`). A planted bad
# flag and a planted bad subcommand must be caught, so the check itself is checked.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
TMP=$(mktemp -d) && [ -d "$TMP" ] || { echo "not ok - mktemp -d"; exit 1; }
trap 'rm -rf "$TMP"' EXIT

if ! python3 -c 'import yaml' 2>/dev/null; then
  ./mk/ensure-deps.sh python3-yaml >/dev/null 2>"$TMP/deps.err" ||
    { fail "python3-yaml installed through mk/ensure-deps.sh" "$(cat "$TMP/deps.err")"; t_summary; exit 1; }
fi

GITLAB=examples/ci/.gitlab-ci.yml
GITHUB=examples/ci/github/vmmbench.yml

# calls FILE: one line "SUB FLAG..." per vmmbench call in the file's shell commands,
# with the variables the file defines for the program's path ($VMMBENCH) resolved.
calls() {
  python3 - "$1" <<'PY'
import re, shlex, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
strings = []
def walk(x):
    if isinstance(x, dict):
        for v in x.values(): walk(v)
    elif isinstance(x, list):
        for v in x: walk(v)
    elif isinstance(x, str):
        strings.append(x)
walk(doc)
# The setup instructions in the comments are commands users type too.
for line in open(sys.argv[1]):
    m = re.match(r'\s*#\s{3,}(vmmbench\s.*)', line)
    if m:
        strings.append(m.group(1))
prog = re.compile(r'(?:^|(?<=[\s;&|(]))(?:\$VMMBENCH|\$\{VMMBENCH\}|(?:\S*/)?vmmbench)\s+(.*)')
for s in strings:
    text = s.replace('\\\n', ' ')
    for line in text.splitlines():
        if line.lstrip().startswith('#'):
            continue
        for m in prog.finditer(line):
            # the command ends at a shell operator
            cmd = re.split(r'\|\||&&|[;|)]', m.group(1))[0]
            try:
                words = shlex.split(cmd)
            except ValueError:
                words = cmd.split()
            if not words or not re.fullmatch(r'[a-z]+', words[0]):
                continue
            sub = words[0]
            # `baseline save` and `campaign submit`: the action is part of the name
            flags = [w.split('=')[0] for w in words[1:] if w.startswith('--')]
            print(sub, *flags)
PY
}

# check_calls NAME FILE: every call's subcommand and flags exist; prints what is missing.
check_calls() {
  local file=$1 sub flag missing="" n=0
  while read -r sub rest; do
    n=$((n + 1))
    if ! "$VB" "$sub" --help >"$TMP/help" 2>&1; then
      missing="$missing $sub(no such subcommand)"; continue
    fi
    for flag in $rest; do
      grep -Eq -- "(^|[^a-z-])$flag([^a-z-]|$)" "$TMP/help" || missing="$missing $sub:$flag"
    done
  done < <(calls "$file")
  echo "$n calls;$missing"
}

for f in "$GITLAB" "$GITHUB"; do
  if python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$f" 2>"$TMP/err"; then
    pass "$f parses as YAML"
  else fail "$f parses as YAML" "$(cat "$TMP/err")"; fi
  res=$(check_calls "$f")
  n=${res%% calls;*}
  missing=${res#*calls;}
  if [ -z "$missing" ] && [ "${n:-0}" -ge 5 ]; then pass "$f: all $n vmmbench calls use existing subcommands and flags"
  else fail "$f: vmmbench calls use existing subcommands and flags" "$n calls; missing:$missing"; fi
  # The recipe's steps, each by its command: run --tag, check with JUnit, merge, report.
  subs=$(calls "$f")
  for want in "run .*--tag" "check .*--baseline.*--junit" "merge" "report .*--db"; do
    if grep -Eq "^$want" <<<"$subs"; then pass "$f: calls vmmbench $want"
    else fail "$f: calls vmmbench $want" "$subs"; fi
  done
done

# Shapes: GitLab needs stages/jobs with scripts and the JUnit report; GitHub needs a
# trigger and a self-hosted job whose steps upload the results.
if python3 - "$GITLAB" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
job = d["vmmbench"]
assert job["stage"] in d["stages"], "vmmbench job's stage is not declared"
assert isinstance(job["script"], list) and job["script"], "no script"
assert job["artifacts"]["reports"]["junit"].endswith("junit.xml"), "no JUnit report"
assert "kvm" in job["tags"], "not tagged for a runner with /dev/kvm"
assert d["pages"]["artifacts"]["paths"] == ["public"], "pages job publishes no public/"
PY
then pass "$GITLAB: a kvm-tagged job with JUnit report and a pages job"
else fail "$GITLAB: a kvm-tagged job with JUnit report and a pages job"; fi
if python3 - "$GITHUB" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
on = d.get("on", d.get(True))          # YAML 1.1 reads a bare `on` as true
assert on and "push" in on, "no push trigger"
bench = d["jobs"]["bench"]
assert "self-hosted" in bench["runs-on"], "not a self-hosted runner"
uses = [s.get("uses", "") for s in bench["steps"]]
assert any(u.startswith("actions/upload-artifact@") for u in uses), "results not uploaded"
assert any(u.startswith("actions/cache/restore@") for u in uses), "history not restored"
for s in bench["steps"]:
    assert "run" in s or "uses" in s, "step without run or uses: %r" % s
PY
then pass "$GITHUB: a self-hosted job that restores the history and uploads the results"
else fail "$GITHUB: a self-hosted job that restores the history and uploads the results"; fi

if grep -q "^baseline .*--from.*--out" <<<"$(calls "$GITLAB")"; then
  pass "$GITLAB: the setup comment's baseline save is checked too"
else fail "$GITLAB: the setup comment's baseline save is checked too" "$(calls "$GITLAB")"; fi

# The GitLab job's script, run for real twice (two pipelines) in a scratch project: a
# wrapper turns its `run --suite quick --reps 5` into a tiny native run (no KVM, seconds),
# make is a no-op, and curl hands back the previous pipeline's history artifact (none the
# first time). The gate passes, JUnit and the report are written, and the history holds
# both revisions. Every stub lives in the scratch project's bin/, first on PATH there.
P=$TMP/proj
mkdir -p "$P/ci" "$P/bin" || { fail "scratch project"; t_summary; exit 1; }
REAL=$(readlink -f "$VB")
{
  echo '#!/usr/bin/env bash'
  echo 'if [ "$1" = run ]; then'
  echo '  shift; args=()'
  echo '  while [ $# -gt 0 ]; do'
  echo '    case $1 in'
  echo '      --suite) args+=(--config native tlb:max=64K,iters=2000,batches=3); shift 2 ;;'
  echo '      --reps) args+=(--reps 3); shift 2 ;;'
  echo '      *) args+=("$1"); shift ;;'
  echo '    esac'
  echo '  done'
  echo "  exec '$REAL' run \"\${args[@]}\""
  echo 'fi'
  echo "exec '$REAL' \"\$@\""
} >"$P/bin/vmmbench"
printf '#!/bin/sh\nexit 0\n' >"$P/bin/make"
{
  echo '#!/usr/bin/env bash'
  echo '# The previous pipeline artifact, or a 404 (curl --fail: exit 22) when there is none.'
  echo 'while [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done'
  echo '[ -f "$PREV_HISTORY" ] || exit 22'
  echo 'cp "$PREV_HISTORY" "$out"'
} >"$P/bin/curl"
chmod +x "$P/bin/vmmbench" "$P/bin/make" "$P/bin/curl"
python3 -c '
import sys, yaml
print("set -e")
for line in yaml.safe_load(open(sys.argv[1]))["vmmbench"]["script"]:
    print(line)' "$GITLAB" >"$P/job.sh"
( cd "$P" && PATH=$P/bin:$PATH vmmbench run --suite quick --reps 5 --tag baseline --db base.db >/dev/null &&
  PATH=$P/bin:$PATH vmmbench baseline save main --from tag:baseline --db base.db --out ci/baseline.db >/dev/null ) ||
  fail "scratch project: baseline saved as the comment says"
pipeline() {  # pipeline REV PREV_HISTORY
  ( cd "$P" && rm -rf ci-out && env PATH="$P/bin:$PATH" REV="$1" VMMBENCH=vmmbench OUT=ci-out \
      BASELINE=ci/baseline.db PREV_HISTORY="$2" CI_JOB_TOKEN=x CI_API_V4_URL=http://gitlab.invalid/api/v4 \
      CI_PROJECT_ID=1 CI_DEFAULT_BRANCH=main bash "$P/job.sh" ) >"$TMP/pipeline.log" 2>&1
}
tags() { sqlite3 "$1" "SELECT group_concat(t) FROM (SELECT DISTINCT tag AS t FROM runs ORDER BY t)" 2>/dev/null; }
if pipeline rev1 /nonexistent && [ -s "$P/ci-out/junit.xml" ] && [ -f "$P/ci-out/report/index.html" ] &&
   [ "$(tags "$P/ci-out/history.db")" = rev1 ]; then
  pass "GitLab job, first pipeline: run, check with JUnit, new history, report"
else fail "GitLab job, first pipeline: run, check with JUnit, new history, report" "$(tail -20 "$TMP/pipeline.log")"; fi
cp "$P/ci-out/history.db" "$TMP/history1.db" 2>/dev/null
if pipeline rev2 "$TMP/history1.db" && [ "$(tags "$P/ci-out/history.db")" = rev1,rev2 ] &&
   grep -q 'failures="0"' "$P/ci-out/junit.xml"; then
  pass "GitLab job, second pipeline: history holds both revisions, gate passed"
else fail "GitLab job, second pipeline: history holds both revisions, gate passed" "$(tail -20 "$TMP/pipeline.log")"; fi

# The checker catches what it is there to catch.
sed 's/--junit /--junit-xml /' "$GITLAB" >"$TMP/bad-flag.yml"
res=$(check_calls "$TMP/bad-flag.yml")
if grep -q "check:--junit-xml" <<<"$res"; then pass "a planted unknown flag is caught ($res)"
else fail "a planted unknown flag is caught" "$res"; fi
sed 's/\$VMMBENCH merge /$VMMBENCH fuse /' "$GITLAB" >"$TMP/bad-sub.yml"
res=$(check_calls "$TMP/bad-sub.yml")
if grep -q "fuse(no such subcommand)" <<<"$res"; then pass "a planted unknown subcommand is caught"
else fail "a planted unknown subcommand is caught" "$res"; fi
printf 'a: [unclosed\n' >"$TMP/broken.yml"
if python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$TMP/broken.yml" 2>/dev/null; then
  fail "broken YAML is refused by the parser"
else pass "broken YAML is refused by the parser"; fi

t_summary
