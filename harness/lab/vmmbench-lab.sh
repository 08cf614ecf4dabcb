#!/usr/bin/env bash
# The launcher behind `vmmbench lab` (harness/cli/cmd_lab.c validates the options and
# calls it): boots an emulated N-node NUMA host with SVM-based KVM under QEMU TCG
# (-cpu max,+svm), Debian's stock kernel with a busybox initramfs (init, beside this
# file), runs COMMAND there in this host's own root (read-only over virtio-9p, so the
# same programs, configs and files), streams its stdout and stderr here and exits with
# its status.
#
# usage: vmmbench-lab.sh --nodes N --cpus N --mem MIB --timeout S --dir DIR --bin DIR
#                        -- COMMAND...
#   DIR  an empty folder of the caller's, shared read-write with the lab (run.env,
#        in.db: the database the command starts from, out.db: what it left; console.log)
#   BIN  put first on the lab's PATH (the folder of the calling vmmbench)
# Exit: COMMAND's status; 124 the lab timed out; 125 the lab could not start (QEMU or
# cpio missing, the kernel download failed, the lab did not boot).
# Environment: VMMB_LAB_CACHE (where the Debian packages are kept; default
# ~/.cache/vmmbench/lab), VMMB_LAB_BOOT_SECONDS (the time the boot and shutdown get on
# top of --timeout, default 300).
set -u
HERE=$(cd "$(dirname "$0")" && pwd -P)
say() { echo "vmmbench lab: $*" >&2; }
no_start() { say "$*"; exit 125; }

NODES=2 CPUS=2 MEM=2048 TIMEOUT=3600 DIR="" BIN=""
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) NODES=$2; shift 2 ;;
    --cpus) CPUS=$2; shift 2 ;;
    --mem) MEM=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --) shift; break ;;
    *) say "launcher: unknown option '$1' (it is called by \`vmmbench lab\`)"; exit 2 ;;
  esac
done
[ $# -gt 0 ] && [ -d "$DIR" ] || { say "launcher: give --dir DIR and -- COMMAND"; exit 2; }

# ---- what the lab needs on this host: QEMU, cpio, and Debian's dpkg and apt ----
missing=""
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
command -v cpio >/dev/null || missing="$missing cpio"
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
  no_start "the lab fetches Debian's kernel with apt-get and dpkg, which this host lacks (it needs Debian or a derivative)"
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    no_start "QEMU is missing:$missing; fix: as root, apt-get install$missing"
  fi
  say "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086 # a list of packages
  { apt-get install -y -qq $missing || { apt-get update -qq && apt-get install -y -qq $missing; }; } \
    >"$DIR/apt.log" 2>&1 || no_start "could not install$missing: $(tail -1 "$DIR/apt.log"); fix: as root, apt-get install$missing"
fi

# ---- Debian's stock kernel and busybox, downloaded once into the cache ----
CACHE=${VMMB_LAB_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/vmmbench/lab}
mkdir -p "$CACHE" 2>/dev/null && [ -w "$CACHE" ] ||
  no_start "the download cache $CACHE cannot be written; fix: set VMMB_LAB_CACHE to a writable folder"
fetch() { # PACKAGE -> its .deb in the cache
  local deb
  deb=$(ls "$CACHE/$1"_*.deb 2>/dev/null | tail -1)
  if [ -z "$deb" ]; then
    (cd "$CACHE" && apt-get download "$1" >"$DIR/download.log" 2>&1) ||
      { apt-get update -qq >/dev/null 2>&1 && (cd "$CACHE" && apt-get download "$1" >"$DIR/download.log" 2>&1); }
    deb=$(ls "$CACHE/$1"_*.deb 2>/dev/null | tail -1)
  fi
  echo "$deb"
}
# linux-image-amd64 only depends on the versioned package that holds the kernel.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
if [ -n "$kpkg" ]; then kdeb=$(fetch "$kpkg")
else kdeb=$(ls "$CACHE"/linux-image-[0-9]*-amd64_*.deb 2>/dev/null | tail -1); fi
bdeb=$(fetch busybox-static)
if [ -z "$kdeb" ] || [ -z "$bdeb" ]; then
  no_start "could not download Debian's kernel (${kpkg:-linux-image-amd64}) and busybox-static into $CACHE: $(tail -1 "$DIR/download.log" 2>/dev/null); fix: check apt's sources and network (apt-get update), or put both .deb files there"
fi

# The kernel and the modules the lab loads, unpacked once per kernel package. In load
# order: KVM (see the design notes), then virtio and 9p for the shared folders.
MODULES="irqbypass ccp kvm kvm-amd virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"
K=$CACHE/unpacked-$(basename "$kdeb" .deb)
if [ ! -f "$K/vmlinuz" ]; then
  t=$(mktemp -d "$CACHE/.unpack.XXXXXX") || no_start "cannot unpack into $CACHE"
  if dpkg -x "$kdeb" "$t/x" 2>"$DIR/unpack.log"; then
    mkdir -p "$t/k/modules" && cp "$t"/x/boot/vmlinuz-* "$t/k/vmlinuz"
    for m in $MODULES; do
      f=$(find "$t/x/lib/modules" -name "$m.ko" | head -1)
      [ -n "$f" ] && cp "$f" "$t/k/modules/" # (missing: built into this kernel)
    done
    mv -T "$t/k" "$K" 2>/dev/null # (another lab may have won the race: theirs is the same)
  fi
  rm -rf "$t"
  [ -f "$K/vmlinuz" ] || no_start "could not unpack $kdeb: $(tail -1 "$DIR/unpack.log")"
fi

# ---- the initramfs: busybox, the modules, init ----
R=$DIR/initramfs
rm -rf "$R" "$DIR/bb"
dpkg -x "$bdeb" "$DIR/bb" || no_start "could not unpack $bdeb"
mkdir -p "$R/bin" "$R/lib/modules"
cp "$DIR/bb/bin/busybox" "$R/bin/" && cp "$HERE/init" "$R/init" && chmod +x "$R/init" ||
  no_start "could not build the initramfs in $DIR"
for m in $MODULES; do
  [ -f "$K/modules/$m.ko" ] && cp "$K/modules/$m.ko" "$R/lib/modules/" && echo "$m"
done >"$R/lib/modules/load.list"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$DIR/initrd.gz" || no_start "cpio failed"
rm -rf "$R" "$DIR/bb"

# ---- what runs inside ----
cp "$HERE/in-lab.sh" "$DIR/in-lab.sh"
{
  printf 'CMD=('; printf '%q ' "$@"; printf ')\n'
  printf 'CWD=%q\nBIN=%q\nTIMEOUT=%q\nTERM_NAME=%q\n' "$(pwd -P)" "$BIN" "$TIMEOUT" "${TERM:-dumb}"
  printf 'OUT_TTY=%s\nERR_TTY=%s\n' "$([ -t 1 ] && echo 1 || echo 0)" "$([ -t 2 ] && echo 1 || echo 0)"
} >"$DIR/run.env"

# NUMA: the memory split evenly, the CPUs in contiguous blocks, one socket each.
per=$((MEM / NODES))
numa=()
for ((i = 0; i < NODES; i++)); do
  lo=$((i * CPUS / NODES)) hi=$(((i + 1) * CPUS / NODES - 1))
  numa+=(-object "memory-backend-ram,id=m$i,size=${per}M" -numa "node,nodeid=$i,cpus=$lo-$hi,memdev=m$i")
done
for f in console.log stdout stderr; do : >"$DIR/$f"; done
say "booting a $NODES-node SVM host under QEMU TCG ($CPUS CPUs, $((per * NODES)) MiB, $(basename "$kdeb" .deb)); figures from it are functional only"
LIMIT=$((TIMEOUT + ${VMMB_LAB_BOOT_SECONDS:-300}))
# Single-threaded TCG, as the test lab (tests/lab/run-lab.sh) found: with one host thread
# per CPU both CPUs now and then looped for ever on code patched under them. The kernel
# flags are the test lab's too: a TSC clock (the HPET made every clock read an emulated
# MMIO access), no lockup detectors (the host may keep an emulated CPU off for long).
# --foreground: QEMU stays in this process group, so Ctrl-C and a caller's kill of the
# group reach it (the trap below covers a signal sent to this script alone).
timeout --foreground --kill-after=10 "$LIMIT" qemu-system-x86_64 -accel tcg,thread=single -cpu max,+svm \
  -smp "$CPUS,sockets=$CPUS,cores=1,threads=1" -m "$((per * NODES))M" "${numa[@]}" \
  -kernel "$K/vmlinuz" -initrd "$DIR/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 transparent_hugepage=madvise tsc=reliable clocksource=tsc nowatchdog nosoftlockup" \
  -nographic -no-reboot -nodefaults \
  -chardev file,id=con,path="$DIR/console.log",append=on -serial chardev:con \
  -chardev file,id=out,path="$DIR/stdout",append=on -serial chardev:out \
  -chardev file,id=err,path="$DIR/stderr",append=on -serial chardev:err \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$DIR",mount_tag=labio,security_model=none \
  </dev/null >"$DIR/qemu.log" 2>&1 &
qemu=$!
trap 'kill -TERM $qemu 2>/dev/null; wait $qemu; say "stopped"; exit 130' INT TERM HUP
# The command's streams, as they come (tail ends once QEMU has and the files are read).
tail -s 0.2 -n +1 -f --pid=$qemu "$DIR/stdout" &
t1=$!
tail -s 0.2 -n +1 -f --pid=$qemu "$DIR/stderr" >&2 &
t2=$!
wait $qemu
qrc=$?
wait $t1 $t2

lines=$(tr -d '\r' <"$DIR/console.log" | sed -n 's/.*VMMB-LAB: //p')
status=$(sed -n 's/^status \([0-9]*\)$/\1/p' <<<"$lines" | tail -1)
if grep -q '^timed out' <<<"$lines"; then
  say "the command did not finish within --timeout $TIMEOUT s in the lab and was stopped; fix: raise --timeout"
  exit 124
fi
if [ -z "$status" ]; then
  if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
    say "the lab did not finish within $LIMIT s (--timeout $TIMEOUT and $((LIMIT - TIMEOUT)) s to boot and shut down) and was stopped; its console ended:"
    tr -d '\r' <"$DIR/console.log" | tail -15 >&2
    exit 124
  fi
  say "the lab did not start (QEMU status $qrc); fix: see QEMU's and the lab's messages below"
  { tail -5 "$DIR/qemu.log"; tr -d '\r' <"$DIR/console.log" | tail -15; } >&2
  exit 125
fi
grep -q '/dev/kvm missing' <<<"$lines" && say "note: the lab had no /dev/kvm (kvm-amd did not load)"
grep '^error' <<<"$lines" | sed 's/^/vmmbench lab: /' >&2
exit "$status"
