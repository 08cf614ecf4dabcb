#!/usr/bin/env bash
# vmmb-lab-seconds: 125 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# vmmb-test: parallel (it checks what runs and what is refused, not figures: tests/run-all.sh runs it beside another such test)
# The sanitized build (build/asan: vmm-min, vmmbench and the native workload library
# under ASan+UBSan) run over hostile guests and virtio on this host's /dev/kvm: every
# hostile guest through vmmbench (each run in its own child, stored), the virtio devices
# and hostile virtio drivers on every notification path, native workloads, and the tap
# test (tests/integration/test_virtio_tap.sh against the sanitized tree). Each run must
# end as it does unsanitized and no sanitizer may report anything. The sanitized unit and
# integration C programs run from tests/run-all.sh.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
SAN=$BUILD/asan
VB=$SAN/bin/vmmbench
VM=$SAN/bin/vmm-min
HOSTILE=$SAN/tests/guest/hostile-guest.elf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Reports go to a log per process (log_path), so a report in a child vmmbench forks, or
# one a caller swallows, is still found; any report fails the check it belongs to.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=$TMP/san
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$TMP/san
# clean NAME: no sanitizer wrote a report since the last call.
clean() {
  local logs
  logs=$(cat "$TMP"/san.* 2>/dev/null)
  if [ -z "$logs" ] && ! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' <<<"$OUT"; then pass "$1: no sanitizer report"
  else fail "$1: no sanitizer report" "$(head -c 3000 <<<"$logs$OUT")"; fi
  rm -f "$TMP"/san.*
}

for f in "$VB" "$VM" "$SAN/lib/libnative.a" "$HOSTILE"; do
  [ -e "$f" ] || { fail "sanitized tree built" "$f missing: make $f"; t_summary; exit; }
done
nm "$SAN/lib/libnative.a" 2>/dev/null | grep -q '__asan_report' && pass "the native workload library is built with ASan" \
  || fail "the native workload library is built with ASan" "no __asan_report references in $SAN/lib/libnative.a"
nm "$VM" 2>/dev/null | grep -q '__asan_report\|__asan_init' && ldd "$VM" | grep -q libasan && pass "vmm-min is built with ASan" \
  || fail "vmm-min is built with ASan" "$(ldd "$VM")"
expect_exit "sanitized vmmbench --help" 0 "$VB" --help
clean "vmmbench --help"

need_kvm
# ---- every hostile guest through vmmbench: runs fail, the harness goes on ----
DB=$TMP/hostile.db
H="hang probe-hang triple-fault ud console-flood bad-result-ptr corrupt-result huge-count wild-port wild-mmio halt"
# shellcheck disable=SC2086
expect_exit "hostile guests under the sanitized vmmbench: runs fail, harness goes on" 1 \
  "$VB" run $H --kernel "$HOSTILE" --timeout "$(lasting 2 5)" --reps 1 --db "$DB"
clean "vmmbench over hostile guests"
st=$(sqlite3 "$DB" "SELECT group_concat(workload || '=' || status, ' ') FROM (SELECT * FROM runs ORDER BY id)" 2>&1)
want="hang=timeout probe-hang=unsupported triple-fault=guest-crash ud=guest-crash console-flood=guest-error bad-result-ptr=guest-error corrupt-result=guest-error huge-count=guest-error wild-port=guest-crash wild-mmio=guest-crash halt=guest-crash"
[ "$st" = "$want" ] && pass "each hostile run stored with its status, as unsanitized" || fail "each hostile run stored with its status" "$st"

# ---- virtio devices and hostile virtio drivers on every notification path ----
for notify in exit ioeventfd poll; do
  expect_exit "virtio-blk verify on a ram disk, --notify $notify" 0 "$VM" --workload virtio-blk --blk ram:16M \
    --notify "$notify" --param op=4 --param qd=8 --param iters=200 --param batches=2
  expect_out "virtio-blk $notify: iops measured" "^  iops +n=2 "
  clean "virtio-blk $notify"
  expect_exit "virtio-net echo over loop, --notify $notify" 0 "$VM" --workload virtio-net --net loop \
    --notify "$notify" --param mode=2 --param iters=200 --param batches=2
  clean "virtio-net $notify"
  # The hostile drivers count each refusal of the device (a chain that loops, a buffer
  # outside guest memory; a queue size or ring address out of range): the run is ok only
  # when the VMM refused them all and lived.
  for wl in "virtio-bad-chains virtio_err_chain_loop virtio_err_buf_addr" \
            "virtio-bad-setup virtio_err_queue_size virtio_err_notify_before_ready"; do
    set -- $wl
    expect_exit "$1, --notify $notify: every bad request refused, run ok" 0 \
      "$VM" --kernel "$HOSTILE" --workload "$1" --blk ram:1M --notify "$notify" --timeout 30
    expect_out "$1, --notify $notify: $2 counted" "^  $2 +n=1 +median=[1-9]"
    expect_out "$1, --notify $notify: $3 counted" "^  $3 +n=1 +median=[1-9]"
    clean "$1 $notify"
  done
done

# ---- native workloads: libnative.a under ASan ----
expect_exit "native tlb chase, sanitized" 0 "$VM" --native --workload tlb --param min=1M --param max=4M --param iters=20000 --param batches=2
expect_out "native tlb reports its points" "\[size=4194304\]  latency "
clean "native tlb"
expect_exit "native bw on 2 threads, sanitized" 0 "$VM" --native --workload bw --vcpus 2 --mem 64M --param array=4M --param ntimes=2
expect_out "native bw reports triad on 2 threads" "\[kernel=triad vcpus=2\]  bandwidth"
clean "native bw"
expect_exit "guest numa-matrix and contention, sanitized VMM" 0 "$VM" --workload contention --vcpus 2 --mem 64M --param size=2M --param iters=5000 --param batches=2
clean "guest contention"

# ---- the tap test against the sanitized tree ----
if [ "$(id -u)" -eq 0 ] && [ -e /dev/net/tun ] && command -v ip >/dev/null; then
  BUILD=$SAN bash tests/integration/test_virtio_tap.sh >"$TMP/tap.log" 2>&1
  sed -n -e 's/^ok - /ok - sanitized: /p' -e 's/^not ok - /not ok - sanitized: /p' -e 's/^\(    .*\)/\1/p' "$TMP/tap.log"
  T_FAIL=$((T_FAIL + $(grep -c '^not ok - ' "$TMP/tap.log")))
  OUT=""; clean "the tap test"
else
  skip "the tap test against the sanitized tree" "needs root, /dev/net/tun and ip"
fi
t_summary
