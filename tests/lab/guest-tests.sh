#!/usr/bin/env bash
# Every integration test that boots a guest, run inside the two-node lab (run-lab.sh:
# QEMU TCG, -cpu max,+svm, Debian's kernel with kvm-amd) for hosts without a usable
# /dev/kvm. tests/run-all.sh runs this when /dev/kvm cannot be opened read-write, or
# when VMMB_FORCE_LAB=1 (to develop and check the lab path on a host that has KVM).
#
# The lab sees this host's own root file system through virtio-9p, read-only, with the
# repository and the build tree shared read-write (tests/lab/guests-boot.sh), so the
# integration tests run there as they are, with the same bash, sqlite3, coreutils, ip,
# setpriv, make, gnuplot and chromium as here; only /tmp, /run, /proc, /sys and /dev
# are the lab's own. tests/lab/guests-run.sh runs each test and prints its checks on
# the serial console as "LAB: ok - FILE: CHECK"; run-lab.sh re-emits them here as
# "ok - lab: FILE: CHECK" (TAP, counted by run-all.sh), each test's whole output is
# kept in $BUILD/lab/guests/FILE.log.
#
# Emulation is slow, so the tests' large iteration counts are divided by one factor,
# VMMB_SCALE (tests/lib.sh), which the lab sets to VMMB_LAB_SCALE (default 10).
# The lab's own placement checks (tests/lab/lab-tests.sh, what run-lab.sh runs alone)
# run first in the same boot, "ok - lab: CHECK" as there: one QEMU boot, not two.
# Settings: VMMB_LAB_GUEST_TIMEOUT (s per test, default 900), VMMB_LAB_GUEST_TESTS (the
# names to run, default all), VMMB_LAB_PLACEMENT (1, the default: the placement checks
# first; 0: only the integration tests), VMMB_LAB_GUEST_DEBUG (a command to run first, its output
# on the console), VMMB_LAB_MEM (MiB, default 4096: test_placement prefaults a 2 GiB
# guest), VMMB_LAB_TIMEOUT (s for the whole lab, default 1800).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
REPO=$(pwd -P)
BUILD_ABS=$(cd "$BUILD" && pwd -P)
OUT=$BUILD_ABS/lab/guests
mkdir -p "$OUT"
rm -f "$OUT"/*.log

# The script the lab's init runs: these settings, then guests-boot.sh.
{
  printf 'REPO=%q\nBUILD=%q\nBUILD_ABS=%q\nOUT=%q\n' "$REPO" "$BUILD" "$BUILD_ABS" "$OUT"
  printf 'GUEST_DEBUG=%q\nPLACEMENT=%q\n' "${VMMB_LAB_GUEST_DEBUG:-}" "${VMMB_LAB_PLACEMENT:-1}"
  printf 'VMMB_SCALE=%q\nGUEST_TIMEOUT=%q\nGUEST_TESTS=%q\n' "${VMMB_LAB_SCALE:-10}" \
    "${VMMB_LAB_GUEST_TIMEOUT:-900}" "${VMMB_LAB_GUEST_TESTS:-}"
  cat tests/lab/guests-boot.sh
} >"$OUT/entry.sh"

# 9p: the host's root read-only, the repository and the build tree read-write.
share() { echo "-virtfs local,path=$1,mount_tag=$2,security_model=none${3:+,$3} "; }
export VMMB_LAB_QEMU_ARGS="$(share / hostroot readonly=on,multidevs=remap)$(share "$REPO" repo)$(share "$BUILD_ABS" build)"
export VMMB_LAB_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p tun"
export VMMB_LAB_SCRIPT=$OUT/entry.sh VMMB_LAB_WORK=$BUILD/lab/guests-work
export VMMB_LAB_MEM=${VMMB_LAB_MEM:-4096}
export VMMB_LAB_TIMEOUT=${VMMB_LAB_TIMEOUT:-1800}
start=$(date +%s)
rm -rf "$OUT/deferred"
BUILD=$BUILD bash tests/lab/run-lab.sh
rc=$?
# the browser checks the lab left to this host (tests/lab/deferred-browser.sh)
if [ -d "$OUT/deferred" ]; then
  bash tests/lab/deferred-browser.sh "$OUT/deferred" || rc=1
fi
echo "# guest-tests.sh: the lab ran the integration tests in $(( $(date +%s) - start )) s; logs in $OUT"
exit $rc
