#!/usr/bin/env bash
# vmmb-lab-seconds: 26 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# vmmb-test: parallel (it checks what runs and what is refused, not figures: tests/run-all.sh runs it beside another such test)
# virtio-net's tap backend on this host's real /dev/kvm: the guest pings the host kernel
# (workload virtio-net mode=3: ARP, then ICMP echo requests) through a tap device in a
# network namespace this test creates, on every notification path; the tap's own counters
# prove the frames went through the host stack. A host that does not answer fails the
# run with a clear reason; without permission a tap is refused before anything runs (as
# user nobody), and a tap created for that user is accepted. Uses only 198.18.0.0/24
# inside its namespace, and removes the namespace (and with it every tap) at the end.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}
VB=$(realpath "$BUILD/bin/vmmbench")
VM=$(realpath "$BUILD/bin/vmm-min")
NS=vmmbt-$$
TAP=vmmbt$$
TMP=$(mktemp -d)
cleanup() {
  ip netns del "$NS" 2>/dev/null
  ip link del "${TAP}n" 2>/dev/null
  rm -rf "$TMP" "${NB:-}"
}
trap cleanup EXIT

need=""
[ "$(id -u)" -eq 0 ] || need="root (CAP_NET_ADMIN and CAP_SYS_ADMIN, for taps and a network namespace)"
[ -e /dev/net/tun ] || need="/dev/net/tun (the tun module)"
command -v ip >/dev/null || need="the ip command (iproute2)"
if [ -n "$need" ]; then
  skip "virtio-net through a tap" "capability $need is not available"
  t_summary; exit
fi
if ! ip netns add "$NS" 2>"$TMP/ns.err"; then
  skip "virtio-net through a tap" "cannot create a network namespace: $(cat "$TMP/ns.err")"
  t_summary; exit
fi
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
in_ns ip tuntap add "$TAP" mode tap
in_ns ip addr add 198.18.0.1/24 dev "$TAP"
in_ns ip link set "$TAP" up
stat() { in_ns cat "/sys/class/net/$TAP/statistics/$1"; }

# ---- the permission refusal (no /dev/kvm needed: it comes first) ----
# nobody gets its own copy of the binaries and guest image (an installed tree in a
# directory it can read): the checkout may sit under a directory only its owner can
# enter (mktemp -d, CI work folders), and then nobody would be refused the guest image
# instead of the tap.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
NB=$(other_user_tree "$BUILD") || { fail "a copy of the build for nobody" "see above"; t_summary; exit; }
expect_exit "as nobody, a tap that needs creating is refused before anything runs" 2 \
  nobody "$NB/bin/vmm-min" --workload virtio-net --net "tap:${TAP}n" --param mode=3
expect_out "the refusal names the problem" "no permission to use tap device '${TAP}n'"
expect_out "the refusal names the fixes: root / CAP_NET_ADMIN, or a tap owned by the user" \
  "run as root or with CAP_NET_ADMIN.*ip tuntap add ${TAP}n mode tap user"
ip link show "${TAP}n" >/dev/null 2>&1 && fail "the refused check leaves no tap behind" \
  || pass "the refused check leaves no tap behind"
printf '[vm]\nname = tap-nobody\nmemory = 64M\nnet = tap:%sn\n' "$TAP" >"$NB/scratch/nobody.ini"
expect_exit "vmmbench refuses the same config as nobody before any run" 2 \
  nobody "$NB/bin/vmmbench" run virtio-net:mode=3 --config "$NB/scratch/nobody.ini" --db "$NB/scratch/nobody.db"
expect_out "vmmbench's refusal names the fix" "CAP_NET_ADMIN.*ip tuntap add"
[ ! -e "$NB/scratch/nobody.db" ] && pass "no database written for the refused plan" \
  || fail "no database written for the refused plan"
# Created for nobody by root, the tap passes the check (what stops nobody next is /dev/kvm).
ip tuntap add "${TAP}n" mode tap user 65534
# Accepted means the run gets past the tap to the next thing it needs: /dev/kvm, which
# refuses nobody (exit 4) where it is closed to other users, and otherwise lets the run
# start (ending 0, or 1 for a guest-side failure). Never the tap refusal (exit 2), nor
# a file nobody cannot read.
OUT=$(nobody "$NB/bin/vmm-min" --workload virtio-net --net "tap:${TAP}n" --param iters=10 --param batches=1 2>&1); rc=$?
if [ ! -c /dev/kvm ]; then
  [ $rc -eq 4 ] && grep -q "KVM is not available" <<<"$OUT" \
    && pass "a tap owned by nobody is accepted for nobody: what stops it next is the missing KVM" \
    || fail "a tap owned by nobody is accepted for nobody: what stops it next is the missing KVM" "exit $rc: $OUT"
elif [ $(( 0$(stat -c %a /dev/kvm) & 6 )) -ne 6 ]; then
  [ $rc -eq 4 ] && grep -q "no permission to open /dev/kvm" <<<"$OUT" \
    && pass "a tap owned by nobody is accepted for nobody: what stops it next is /dev/kvm" \
    || fail "a tap owned by nobody is accepted for nobody: what stops it next is /dev/kvm" "exit $rc: $OUT"
else
  [ $rc -le 1 ] && ! grep -q "tap device\|Permission denied" <<<"$OUT" \
    && pass "a tap owned by nobody is accepted for nobody: the run starts" \
    || fail "a tap owned by nobody is accepted for nobody: the run starts" "exit $rc: $OUT"
fi
ip link del "${TAP}n"

need_kvm

# ---- ping the host kernel on every notification path ----
ITERS=100 BATCHES=3
for notify in exit ioeventfd poll; do
  rx0=$(stat rx_packets) tx0=$(stat tx_packets)
  expect_exit "ping through the tap, --notify $notify" 0 in_ns timeout 60 "$VM" \
    --workload virtio-net --net "tap:$TAP" --notify "$notify" --param mode=3 --param size=256 \
    --param iters=$ITERS --param batches=$BATCHES
  expect_out "$notify: every echo request's round trip is stored" "req_latency +n=$((ITERS * BATCHES)) "
  expect_out "$notify: packets/s derived" "^  iops +n=$BATCHES "
  echo "# $notify: $(grep -E '^  (req_latency|iops) ' <<<"$OUT" | tr -s ' ' | tr '\n' ';')"
  # ARP request, probe, warm-up and measured echo requests went into the host stack,
  # and as many replies came out of it.
  want=$((1 + 1 + ITERS * (BATCHES + 1)))
  rx=$(( $(stat rx_packets) - rx0 )) tx=$(( $(stat tx_packets) - tx0 ))
  [ "$rx" -ge "$want" ] && [ "$tx" -ge "$want" ] \
    && pass "$notify: the host's tap saw $rx frames in, $tx out (>= $want each)" \
    || fail "$notify: the host's tap saw the frames" "in $rx, out $tx, want >= $want"
done

# ---- the same from a config, through vmmbench ----
printf '[vm]\nname = tap-ioev\nmemory = 64M\nnet = tap:%s\nnotify = ioeventfd\n' "$TAP" >"$TMP/tap.ini"
expect_exit "vmmbench runs a tap config" 0 in_ns "$VB" run virtio-net:mode=3,iters=50,batches=2 \
  --config "$TMP/tap.ini" --reps 1 --db "$TMP/tap.db"
n=$(sqlite3 "$TMP/tap.db" "SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE s.metric = 'req_latency' AND r.status = 'ok' AND s.warmup = 0" 2>&1)
[ "$n" = 100 ] && pass "the tap config stored every round trip" || fail "the tap config stored every round trip" "$n"

# ---- a host side that does not answer: a clear failure, not a hang ----
in_ns ip addr flush dev "$TAP"
expect_exit "a tap without the host address fails the run" 1 in_ns timeout 60 "$VM" \
  --workload virtio-net --net "tap:$TAP" --param mode=3 --param iters=10 --param batches=1
expect_out "the failure says what to configure" "no ARP reply through the tap: on the host, ip addr add 198.18.0.<host>/24 dev TAP; ip link set TAP up"

t_summary
