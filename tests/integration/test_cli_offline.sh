#!/usr/bin/env bash
# vmmb-test: no guest (bad input refused before any guest boots; runs on the host, also without KVM)
# The vmmbench and vmm-min command lines where no guest boots: help and usage, the
# dependency installer, bad plans, configs and guest images, and a
# missing or foreign KVM device: each one clear line, a distinct exit code, no rows.
# Real runs: test_cli.sh.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$BUILD/bin/vmmbench
VM=$BUILD/bin/vmm-min
GUEST=$BUILD/share/vmmbench/guest/vmmbench-guest.elf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ---- help and usage (no KVM needed) ----
expect_exit "vmmbench --help" 0 "$VB" --help
for c in run show list host; do
  expect_exit "vmmbench $c --help" 0 "$VB" "$c" --help
  expect_out "vmmbench $c --help prints usage" "usage: vmmbench $c"
done
expect_exit "unknown command is a usage error" 2 "$VB" frobnicate
expect_out "unknown command is named" "unknown command 'frobnicate'"
expect_exit "vmm-min --help" 0 "$VM" --help

# ---- the dependency installer (as a user who may not install: test_as_nobody.sh) ----
expect_exit "ensure-deps with everything installed is silent and succeeds" 0 ./mk/ensure-deps.sh

# ---- bad plans: rejected before anything runs, nothing written ----
DB=$TMP/bad.db
expect_exit "unknown workload" 2 "$VB" run nosuch --db "$DB"
expect_out "unknown workload lists the known ones" "unknown workload 'nosuch'.*cpuid"
expect_exit "unknown parameter" 2 "$VB" run cpuid:bogus=1 --db "$DB"
expect_out "unknown parameter lists the workload's" "unknown parameter 'bogus'.*iters"
expect_exit "parameter out of range" 2 "$VB" run cpuid:iters=0 --db "$DB"
expect_exit "ring the workload cannot run in" 2 "$VB" run hypercall:ring=3 --db "$DB"
expect_out "ring refusal says which rings" "cannot run in ring 3"
expect_exit "unknown suite" 2 "$VB" run --suite nope --db "$DB"
expect_exit "bad --reps" 2 "$VB" run null --reps 0 --db "$DB"
[ ! -e "$DB" ] && pass "no database created by rejected plans" || fail "no database created by rejected plans"

printf '[vm]\nname = x\nvcpus = 1\nmemory = 64M\nfrobs = 3\n' >"$TMP/badkey.ini"
expect_exit "config with an unknown key" 3 "$VB" run null --config "$TMP/badkey.ini" --db "$DB"
expect_out "config error names file and line" "badkey.ini:5"
printf '[vm]\nname = x\nmemory = lots\n' >"$TMP/badmem.ini"
expect_exit "config with an unparsable memory size" 3 "$VB" run null --config "$TMP/badmem.ini" --db "$DB"
expect_out "memory error names the line" "badmem.ini:3"
printf '[vm]\nname = huge\nvcpus = 1\nmemory = 64T\n' >"$TMP/huge.ini"
expect_exit "memory that does not fit the host" 7 "$VB" run null --config "$TMP/huge.ini" --db "$DB"
expect_out "memory error says it does not fit" "does not fit this host"
expect_exit "vmm-min --mem garbage" 7 "$VM" --workload null --mem 12Q
expect_exit "config that does not exist" 3 "$VB" run null --config "$TMP/none.ini" --db "$DB"
[ ! -e "$DB" ] && pass "no database created by rejected configs" || fail "no database created by rejected configs"

# ---- bad guest images ----
head -c 100 "$GUEST" >"$TMP/trunc.elf"
expect_exit "truncated guest ELF" 6 "$VB" run null --kernel "$TMP/trunc.elf" --db "$DB"
expect_out "truncated ELF is named as such" "truncated"
expect_exit "a dynamic executable as guest" 6 "$VM" --kernel /bin/true --workload null
expect_out "ET_DYN refused with the fix" "not a static executable"
printf 'not an elf at all, just text padding padding padding padding padding padding\n' >"$TMP/text.elf"
expect_exit "a text file as guest" 6 "$VM" --kernel "$TMP/text.elf" --workload null
expect_exit "a guest kernel that does not exist" 2 "$VM" --kernel "$TMP/missing.elf" --workload null

# ---- KVM missing or inaccessible ----
VMMB_KVM_DEV=$TMP/nokvm expect_exit "no KVM device" 4 "$VB" run null --db "$DB"
expect_out "no KVM names the device and the fix" "no $TMP/nokvm: KVM is not available"
VMMB_KVM_DEV=/dev/null expect_exit "a device that is not KVM" 4 "$VM" --workload null
[ ! -e "$DB" ] && pass "no database created without KVM" || fail "no database created without KVM"

t_summary
