#!/usr/bin/env bash
# vmmb-lab-seconds: 60 (the last lab run: 56 s, QEMU-in-TCG included)
# The hypervisor key end to end (issue 15). Refused before any run, nothing stored: a
# native config naming QEMU, an unknown hypervisor, a QEMU that is not there. Then on
# /dev/kvm with QEMU installed: `vmmbench run --config default --config qemu-microvm`
# alternates the two run by run, every run ends ok, one QEMU process per QEMU run (a
# wrapper as VMMB_QEMU counts them), each config stored with its hypervisor and
# QEMU's own version line; show labels the configs, compare names both hypervisors, the
# report has its hypervisors section with the pair. (The QEMU backend's own checks,
# physics included: test_hypervisors.sh.)
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
MICRO=$BUILD/share/vmmbench/configs/qemu-microvm.ini
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
q() { sqlite3 "$1" "$2" 2>/dev/null; }

# ---- refused before any run ----
printf '[vm]\nname = n\nnative = yes\nhypervisor = qemu-microvm\n' >"$TMP/native-qemu.ini"
expect_exit "native = yes with hypervisor = qemu-microvm is a config error" 3 "$VB" run null --config "$TMP/native-qemu.ini" --db "$TMP/x.db"
expect_out "the error names both keys and their lines" "native-qemu.ini:4: native = yes \(line 3\).*hypervisor = qemu-microvm cannot apply"
printf '[vm]\nname = x\nhypervisor = xen\n' >"$TMP/xen.ini"
expect_exit "an unknown hypervisor is a config error" 3 "$VB" run null --config "$TMP/xen.ini" --db "$TMP/x.db"
expect_out "the error lists the accepted values" "xen.ini:3: hypervisor 'xen' is not known; use vmm-min, qemu-microvm or qemu-pc"
VMMB_QEMU=$TMP/no-such-qemu expect_exit "a missing QEMU is refused before any run" 2 "$VB" run null --config default --config "$MICRO" --db "$TMP/x.db"
expect_out "the error names the config, the binary and the fix" "config qemu-microvm .*$TMP/no-such-qemu --version' did not run; install qemu-system-x86 or set VMMB_QEMU"
[ ! -e "$TMP/x.db" ] && pass "nothing was stored for the refused plans" || fail "nothing was stored for the refused plans" "$(q "$TMP/x.db" "SELECT count(*) FROM runs") runs"

expect_exit "list" 0 "$VB" list
expect_out "list says which VMM each installed QEMU config runs under" "qemu-microvm +1 vCPU\(s\), 64 MiB, under qemu-microvm"

# ---- both VMMs, interleaved, on /dev/kvm ----
need_kvm
# Wherever KVM is, QEMU must be too (the lab carries it): a missing one fails, never skips.
REAL_QEMU=${VMMB_QEMU:-qemu-system-x86_64}
if [ -z "$T_GATED" ] && ! "$REAL_QEMU" --version >/dev/null 2>&1; then
  fail "qemu-present" "$REAL_QEMU does not run: install qemu-system-x86 (this test needs it wherever KVM is)"
  t_summary; exit
fi
DB=$TMP/hv.db
# The wrapper logs each start and runs the real QEMU: one line per QEMU process.
printf '#!/bin/sh\necho "$*" >>"%s/calls.log"\nexec "%s" "$@"\n' "$TMP" "$REAL_QEMU" >"$TMP/qemu"
chmod +x "$TMP/qemu"
W="cpuid:ring=3,batches=30 pio-user:ring=3,batches=30"
VMMB_QEMU=$TMP/qemu expect_exit "run under vmm-min and qemu-microvm" 0 "$VB" run $W --config default --config "$MICRO" --reps 3 --tag hv --db "$DB"
order=$(q "$DB" "SELECT group_concat(h, ' ') FROM (SELECT c.hypervisor h FROM runs r JOIN configs c ON c.id = r.config_id ORDER BY r.id)")
want=$(for i in 1 2 3 4 5 6; do printf 'vmm-min qemu-microvm '; done)
[ "$order " = "$want" ] && pass "the two hypervisors alternate run by run" || fail "the two hypervisors alternate run by run" "$order"
notok=$(q "$DB" "SELECT count(*) || ' not ok: ' || coalesce(group_concat(status || ' ' || coalesce(reason, ''), '; '), '') FROM runs WHERE status <> 'ok'")
[ "${notok%% *}" = 0 ] && pass "every run ended ok under both" || fail "every run ended ok under both" "$notok"
launches=$(grep -vc -- '--version' "$TMP/calls.log" 2>/dev/null)
[ "$launches" = 6 ] && grep -q -- '-M microvm' "$TMP/calls.log" && pass "one QEMU -M microvm per QEMU run, none for vmm-min's ($launches)" || fail "one QEMU per QEMU run" "$launches: $(cut -c1-200 "$TMP/calls.log" 2>/dev/null)"
version=$("$REAL_QEMU" --version 2>/dev/null | head -1)
stored=$(q "$DB" "SELECT group_concat(name || '=' || hypervisor || '/' || hypervisor_version, ';') FROM (SELECT * FROM configs ORDER BY name)")
[ "$stored" = "default=vmm-min/vmm-min;qemu-microvm=qemu-microvm/$version" ] && pass "each config stored with its hypervisor and version" || fail "each config stored with its hypervisor and version" "$stored"

expect_exit "show" 0 "$VB" show --db "$DB"
expect_out "show labels each config with its hypervisor" "default \[vmm-min\].*cpuid"
expect_out "show labels the QEMU config" "qemu-microvm \[qemu-microvm\].*pio-user"
expect_exit "compare vmm-min with QEMU" 0 "$VB" compare config:default config:qemu-microvm --db "$DB"
expect_out "compare names both hypervisors and QEMU's version" "hypervisors: A runs under vmm-min; B under qemu-microvm \(QEMU emulator version"
expect_exit "report" 0 "$VB" report --db "$DB" --out "$TMP/report"
H=$TMP/report/index.html
grep -q '<h2 id=hypervisors>' "$H" 2>/dev/null && grep -q 'Paired: the two configs differ only in <code>hypervisor</code>' "$H" \
  && pass "report: hypervisors section pairs qemu-microvm with default" || fail "report: hypervisors section" "$(grep -o '<h[23][^<]*' "$H" 2>/dev/null)"
grep -q '<tr data-workload="pio-user" data-metric="latency" data-ratio="[0-9.]*" data-verdict=' "$H" 2>/dev/null \
  && pass "report: the pio-user row has QEMU/vmm-min and a verdict" || fail "report: pio-user row" "$(grep -o '<tr data-workload=[^>]*>' "$H" 2>/dev/null)"

# The physics (pio-user not cheaper through QEMU, cpuid alike under both) is checked by
# tests/integration/test_hypervisors.sh over back-to-back paired rounds, which this shared
# host's noise needs; this test is the harness's.

t_summary
