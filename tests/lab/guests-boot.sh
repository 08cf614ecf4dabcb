# Runs in the lab's initramfs (busybox sh), after REPO, BUILD, BUILD_ABS, OUT, VMMB_SCALE,
# GUEST_TIMEOUT, QUEUE, LAB_NAME and PLACEMENT (set by tests/lab/guest-tests.sh, which
# prepends them): runs the placement checks of tests/lab/lab-tests.sh first when
# PLACEMENT=1 (in this boot, not a second QEMU boot of their own), loads virtio and 9p,
# mounts the host's root read-only at /host with the repository and build tree
# read-write over their own paths, gives it the lab's own /proc, /sys,
# /dev, /tmp and /run, and runs tests/lab/guests-run.sh there under the host's bash.
# Kernel warnings (a soft lockup, an oops) go to the console log too.
dmesg -n 5
if [ "${PLACEMENT:-0}" = 1 ]; then
  echo "LAB:    | # lab-tests.sh: started"
  s=$(date +%s)
  sh /lab/placement-tests.sh
  echo "LAB:    | # lab-tests.sh: $(( $(date +%s) - s )) s"
fi
for m in $(cat /lib/modules/extra.list); do
  insmod /lib/modules/$m.ko || echo "LAB: insmod $m failed"
done
H=/host
O="trans=virtio,version=9p2000.L,msize=512000,cache=loose"
mkdir -p $H
if ! mount -t 9p -o "$O,ro" hostroot $H; then
  echo "LAB: not ok - the host's root mounted over virtio-9p"; exit 0
fi
mount -t 9p -o "$O" repo "$H$REPO" && mount -t 9p -o "$O" build "$H$BUILD_ABS" ||
  { echo "LAB: not ok - the repository and build tree mounted read-write"; exit 0; }
mount -t proc proc $H/proc
mount -t sysfs sysfs $H/sys
mount -t devtmpfs devtmpfs $H/dev
# What udev does on a Debian host: the tun device open to every user (devtmpfs: 0600).
chmod 0666 $H/dev/net/tun
mkdir -p $H/dev/pts $H/dev/shm
mount -t devpts devpts $H/dev/pts
mount -t tmpfs tmpfs $H/dev/shm
mount -t tmpfs tmpfs $H/tmp
mount -t tmpfs tmpfs $H/run
# hugetlbfs is not needed (vmm-min maps MAP_HUGETLB); the lab's THP is madvise.
chroot $H /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root TERM=dumb LANG=C.UTF-8 VMMB_SCALE="$VMMB_SCALE" GUEST_TIMEOUT="$GUEST_TIMEOUT" \
  QUEUE="$QUEUE" LAB_NAME="$LAB_NAME" GUEST_DEBUG="$GUEST_DEBUG" OUT="$OUT" BUILD="$BUILD" REPO="$REPO" \
  /bin/bash "$REPO/tests/lab/guests-run.sh"
