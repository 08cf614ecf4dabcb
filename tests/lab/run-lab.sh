#!/usr/bin/env bash
# The two-node lab: a real two-node NUMA host with SVM-based KVM, inside QEMU (software
# emulation, -cpu max,+svm), booting Debian's stock kernel with a busybox initramfs that
# carries this build's vmm-min, vmmbench, guest kernel and their libraries. The
# placement checks of tests/lab/lab-tests.sh run inside; their results come back on the
# serial console and are printed here as "ok - lab: ..." lines (TAP, like tests/lib.sh).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
CACHE=${VMMB_LAB_CACHE:-$BUILD/lab/cache}
WORK=${VMMB_LAB_WORK:-$BUILD/lab/work}
TIMEOUT=${VMMB_LAB_TIMEOUT:-280}
# Options for callers that run other things inside (tests/lab/guest-tests.sh):
# VMMB_LAB_MEM: the lab's RAM in MiB, split evenly over its two nodes;
# VMMB_LAB_MODULES: more kernel modules for the initramfs, in the order they load
# (the script inside loads them, listed in /lib/modules/extra.list);
# VMMB_LAB_QEMU_ARGS: more QEMU arguments (e.g. -virtfs shares); VMMB_LAB_WORK: its work
# directory (default $BUILD/lab/work).
MEM=${VMMB_LAB_MEM:-1024}
# VMMB_LAB_NAME: the name its checks carry ("lab: ...", the default; "lab2: ..." for the
# second of tests/lab/guest-tests.sh's labs).
L=${VMMB_LAB_NAME:-lab}
mkdir -p "$CACHE" "$WORK"
rm -f "$WORK/console.log" # (its appearance tells guest-tests.sh that QEMU has started)

if ! ./mk/ensure-deps.sh qemu-system-x86 cpio >"$WORK/deps.log" 2>&1; then
  skip "two-node lab" "QEMU (qemu-system-x86) could not be installed: $(tail -1 "$WORK/deps.log")"
  t_summary; exit
fi

# Debian's stock kernel and busybox, fetched once into the cache.
fetch() { # PACKAGE -> path of its .deb
  local deb
  deb=$(ls "$CACHE/$1"_*.deb 2>/dev/null | head -1)
  if [ -z "$deb" ]; then
    (cd "$CACHE" && apt-get download "$1" >/dev/null 2>&1) ||
      { apt-get update -qq >/dev/null 2>&1 && (cd "$CACHE" && apt-get download "$1" >/dev/null 2>&1); }
    deb=$(ls "$CACHE/$1"_*.deb 2>/dev/null | head -1)
  fi
  echo "$deb"
}
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
kdeb=$(fetch "${kpkg:-linux-image-amd64}")
bdeb=$(fetch busybox-static)
if [ -z "$kdeb" ] || [ -z "$bdeb" ]; then
  skip "two-node lab" "could not download the Debian kernel ($kpkg) or busybox-static"
  t_summary; exit
fi

rm -rf "$WORK/root" "$WORK/k" "$WORK/bb"
dpkg -x "$kdeb" "$WORK/k" && dpkg -x "$bdeb" "$WORK/bb"
R=$WORK/root
mkdir -p "$R/bin" "$R/lib/modules" "$R/lab" "$R/opt/vmmb"
cp "$WORK/bb/bin/busybox" "$R/bin/busybox"
for m in irqbypass ccp kvm kvm-amd ${VMMB_LAB_MODULES:-}; do
  cp "$(find "$WORK/k/lib/modules" -name "$m.ko" | head -1)" "$R/lib/modules/"
done
echo "${VMMB_LAB_MODULES:-}" >"$R/lib/modules/extra.list"
make -s install DESTDIR="$R" PREFIX=/opt/vmmb BUILD="$BUILD" >"$WORK/install.log" 2>&1 ||
  { fail "$L: install vmmbench into the initramfs" "$(cat "$WORK/install.log")"; t_summary; exit; }
cp tests/lab/init "$R/init" && chmod +x "$R/init"
# What runs inside: the placement checks, or another script (make bench: lab-bench.sh,
# which also needs the bare KVM_RUN loop).
cp "${VMMB_LAB_SCRIPT:-tests/lab/lab-tests.sh}" "$R/lab/lab-tests.sh"
# The placement checks also ride along, for a script that runs them in its own boot
# (tests/lab/guests-boot.sh: one boot for them and the integration tests).
cp tests/lab/lab-tests.sh "$R/lab/placement-tests.sh"
if [ -n "${VMMB_LAB_EXTRA_BINS:-}" ]; then
  for bin in $VMMB_LAB_EXTRA_BINS; do cp "$bin" "$R/opt/vmmb/bin/"; done
fi
# The binaries run as they are: their shared libraries and loader come along.
for bin in "$R"/opt/vmmb/bin/*; do
  ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib"
  done
done
cp "$BUILD/tests/guest/hostile-guest.elf" "$R/lab/" # hostile guests on SVM (bounded output)
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initrd.gz"

echo "# $L: booting $(basename "$kdeb") under QEMU TCG, 2 NUMA nodes, $MEM MiB, -cpu max,+svm"
# nowatchdog, nosoftlockup: an emulated CPU is a host thread that the host (2 cores,
# shared) can keep off-CPU for tens of seconds; the lockup detectors then report
# "soft lockup" for what is the emulator's slowness, not a hang. A real hang still ends
# at the per-test timeout (guests-run.sh) and at $TIMEOUT here.
start=$(date +%s)
# The QEMU monitor on $WORK/monitor.sock: to see what a lab that seems stuck is doing
# (e.g. "info registers -a", "sendkey alt-sysrq-l"; socat - UNIX-CONNECT:...).
# shellcheck disable=SC2086 # VMMB_LAB_QEMU_ARGS is a list of arguments
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=single -cpu max,+svm -smp 2 -m "$MEM"M \
  -object memory-backend-ram,id=m0,size=$((MEM / 2))M -object memory-backend-ram,id=m1,size=$((MEM / 2))M \
  -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 \
  -kernel "$(ls "$WORK"/k/boot/vmlinuz-*)" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 transparent_hugepage=madvise tsc=reliable clocksource=tsc nowatchdog nosoftlockup" \
  -nographic -no-reboot -nodefaults -serial stdio -monitor unix:"$WORK/monitor.sock",server=on,wait=off \
  ${VMMB_LAB_QEMU_ARGS:-} >"$WORK/console.log" 2>&1
rc=$?
echo "# $L: QEMU ended with status $rc after $(( $(date +%s) - start )) s; console in $WORK/console.log"
# Firmware escape sequences can precede a line on the serial console: cut them off.
tr -d '\r' <"$WORK/console.log" | sed -n 's/.*\(LAB: .*\)/\1/p' >"$WORK/results.txt"
grep '^LAB: booted' "$WORK/results.txt" | sed "s/^LAB: /# $L: /"
grep -q 'NUMA nodes, /dev/kvm present' "$WORK/results.txt" && grep -q '^LAB: booted: 2 NUMA' "$WORK/results.txt" \
  && pass "$L: two-node host with /dev/kvm booted" \
  || fail "$L: two-node host with /dev/kvm booted" "$(tail -30 "$WORK/console.log")"
while IFS= read -r line; do
  case "$line" in
    "LAB: ok - "*) pass "$L: ${line#LAB: ok - }" ;;
    "LAB: not ok - "*) fail "$L: ${line#LAB: not ok - }" ;;
    "LAB:    | "*) echo "    ${line#LAB:    | }" ;;
    "LAB: info - "*) echo "# $L: ${line#LAB: info - }" ;;
  esac
done <"$WORK/results.txt"
grep -q '^LAB: done' "$WORK/results.txt" && pass "$L: every check ran to the end" \
  || fail "$L: every check ran to the end" "$(tail -20 "$WORK/console.log")"
t_summary
