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
rm -f "$OUT"/*.log "$OUT"/*.tap "$OUT"/entry*.sh

# The tests the lab runs: the C programs, then every script that may boot a guest (those
# marked "# vmmb-test: no guest" run on the host: tests/run-all.sh).
names=()
for t in "$BUILD"/tests/integration/test_*; do [[ $t != *.d && -x $t ]] && names+=("${t##*/}"); done
# (the same C programs under ASan+UBSan, named asan-PROGRAM)
for t in "$BUILD"/asan/tests/integration/test_*; do
  [[ $t != *.d && -x $t ]] || continue
  grep -q 'vmmb-test: plain only' "tests/integration/${t##*/}.c" 2>/dev/null && continue  # (tests/run-all.sh)
  names+=("asan-${t##*/}")
done
for t in tests/integration/test_*.sh; do grep -q '^# vmmb-test: no guest' "$t" || names+=("${t##*/}"); done
# unit tests whose reference needs KVM ("vmmb-test: kvm" in their source), plain and sanitized
for t in tests/unit/test_*.c; do
  grep -q 'vmmb-test: kvm' "$t" && t=${t##*/} && names+=("unit-${t%.c}" "asan-unit-${t%.c}")
done
if [ -n "${VMMB_LAB_GUEST_TESTS:-}" ]; then
  keep=()
  for n in "${names[@]}"; do case " $VMMB_LAB_GUEST_TESTS " in *" $n "*) keep+=("$n") ;; esac; done
  names=("${keep[@]}")
fi

# Shards: one lab per host CPU, up to VMMB_LAB_SHARDS (default 2), each a QEMU of its own,
# since single-threaded TCG keeps one host CPU busy. The tests wait in one queue, longest
# first by what each took in the lab (a script's "# vmmb-lab-seconds: N" line; the C
# programs' figures are here; 30 s if it has none), and each lab takes the next one
# whenever it is free (tests/lab/guests-run.sh): no lab sits idle while the other still
# has a list of its own to work through, whatever the figures say. Lab 1 runs the
# placement checks first.
cost() {
  case $1 in
    test_guests) echo 23 ;;
    test_virtio) echo 15 ;;
    asan-test_guests) echo 34 ;;
    asan-test_virtio) echo 24 ;;
    unit-*|asan-unit-*) echo 5 ;;
    *) local s; s=$(sed -n 's/^# vmmb-lab-seconds: *\([0-9]*\).*/\1/p' "tests/integration/$1" 2>/dev/null)
       echo "${s:-30}" ;;
  esac
}
shards=${VMMB_LAB_SHARDS:-2}
cpus=$(nproc 2>/dev/null || echo 1)
[ "$shards" -gt "$cpus" ] && shards=$cpus
[ "$shards" -lt 1 ] && shards=1
[ "${#names[@]}" -lt "$shards" ] && shards=$(( ${#names[@]} > 0 ? ${#names[@]} : 1 ))
# The queue: one empty file per test, named ORDER-NAME; a lab claims one by moving it
# into $OUT/claimed (a rename, which the host's file system does atomically for 9p).
QUEUE=$OUT/queue
rm -rf "$QUEUE" "$OUT/claimed"
mkdir -p "$QUEUE" "$OUT/claimed"
i=0 total=0
while read -r c n; do
  : >"$QUEUE/$(printf '%03d' $i)-$n"
  i=$((i + 1)) total=$((total + c))
done < <(for n in "${names[@]}"; do echo "$(cost "$n") $n"; done | sort -k1,1nr -k2)

# The script each lab's init runs: these settings, then guests-boot.sh.
entry() { # SHARD PLACEMENT
  {
    printf 'REPO=%q\nBUILD=%q\nBUILD_ABS=%q\nOUT=%q\n' "$REPO" "$BUILD" "$BUILD_ABS" "$OUT"
    printf 'GUEST_DEBUG=%q\nPLACEMENT=%q\nLAB_NAME=%q\n' "${VMMB_LAB_GUEST_DEBUG:-}" "$2" "lab$1"
    printf 'VMMB_SCALE=%q\nGUEST_TIMEOUT=%q\nQUEUE=%q\n' "${VMMB_LAB_SCALE:-10}" \
      "${VMMB_LAB_GUEST_TIMEOUT:-900}" "$QUEUE"
    cat tests/lab/guests-boot.sh
  } >"$OUT/entry-$1.sh"
}

# 9p: the host's root read-only, the repository and the build tree read-write.
share() { echo "-virtfs local,path=$1,mount_tag=$2,security_model=none${3:+,$3} "; }
export VMMB_LAB_QEMU_ARGS="$(share / hostroot readonly=on,multidevs=remap)$(share "$REPO" repo)$(share "$BUILD_ABS" build)"
export VMMB_LAB_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p tun"
export VMMB_LAB_MEM=${VMMB_LAB_MEM:-4096}
export VMMB_LAB_TIMEOUT=${VMMB_LAB_TIMEOUT:-1800}
start=$(date +%s)
rm -rf "$OUT/deferred"
rc=0 pids=()
echo "# $shards lab(s) take from one queue of ${#names[@]} tests, about $total s in all, longest first:" \
  "$(ls "$QUEUE" | sed 's/^[0-9]*-//' | tr '\n' ' ')"
for ((i = 0; i < shards; i++)); do
  s=$((i + 1)) place=0
  [ $i -eq 0 ] && place=${VMMB_LAB_PLACEMENT:-1}
  entry $s "$place"
  # (each lab's own work directory, console log and name in its checks; the console log
  # of an earlier run goes first, since its appearance tells that this lab's QEMU started)
  rm -f "$BUILD/lab/guests-work-$s/console.log"
  VMMB_LAB_NAME=$([ "$shards" -gt 1 ] && echo "lab$s" || echo lab) VMMB_LAB_SCRIPT=$OUT/entry-$s.sh \
    VMMB_LAB_WORK=$BUILD/lab/guests-work-$s BUILD=$BUILD bash tests/lab/run-lab.sh >"$OUT/lab-$s.tap" 2>&1 &
  pids+=($!)
  # The next lab starts once this one's QEMU has: the first fetches the kernel into the
  # shared cache, installs QEMU and runs `make install` over the shared build tree, which
  # two at once would race on (a binary relinked by one while the other copied it).
  while kill -0 "$!" 2>/dev/null && [ ! -e "$BUILD/lab/guests-work-$s/console.log" ]; do sleep 1; done
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
# A test no lab took (every lab died early) is a failure, not a silent gap.
for f in "$QUEUE"/*; do
  [ -e "$f" ] && echo "not ok - lab: ${f##*/[0-9][0-9][0-9]-}: run by a lab (no lab took it from the queue)" && rc=1
done
# which lab ran what
for f in "$OUT"/claimed/*; do [ -e "$f" ] && echo "# ${f##*/[0-9][0-9][0-9]-}: $(cat "$f")"; done
# their checks, one lab after the other (TAP, counted by run-all.sh)
for ((i = 1; i <= shards; i++)); do [ -f "$OUT/lab-$i.tap" ] && cat "$OUT/lab-$i.tap"; done
# the browser checks the labs left to this host (tests/lab/deferred-browser.sh)
if [ -d "$OUT/deferred" ]; then
  bash tests/lab/deferred-browser.sh "$OUT/deferred" || rc=1
fi
echo "# guest-tests.sh: the lab ran the integration tests in $(( $(date +%s) - start )) s; logs in $OUT"
exit $rc
