#!/usr/bin/env bash
# vmmb-lab-seconds: 22 (what it took in the lab, tests/lab/guest-tests.sh queues the longest first by it)
# vmmb-test: parallel (it checks what runs and what is refused, not figures: tests/run-all.sh runs it beside another such test)
# What a user without privileges meets, as user nobody: the dependency installer prints
# the exact apt-get line and stops, and vmm-min refuses a /dev/kvm closed to it, naming
# the fix. nobody runs copies in a tree it can read (tests/lib.sh other_user_tree): the
# checkout may sit under a directory only its owner can enter (test_private_checkout.sh
# runs this test from such a checkout). The tap refusals are in test_virtio_tap.sh.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${BUILD:-build}

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
  skip "ensure-deps as non-root" "needs root and setpriv to become another user"
  skip "no permission on /dev/kvm" "needs root and setpriv to become another user"
  t_summary; exit
fi
NB=$(other_user_tree "$BUILD") && cp mk/ensure-deps.sh "$NB/bin/" || { fail "a copy of the build for nobody"; t_summary; exit; }
trap 'rm -rf "$NB"' EXIT
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

expect_exit "ensure-deps as non-root with a package missing stops" 1 nobody "$NB/bin/ensure-deps.sh" vmmbench-no-such-package
expect_out "it prints the exact apt-get line" "apt-get update && apt-get install -y vmmbench-no-such-package"

# Denied unless /dev/kvm is open to everyone (the last mode digit).
need_kvm
if [ $(( 0$(stat -c %a /dev/kvm 2>/dev/null) & 6 )) -eq 0 ]; then
  expect_exit "no permission on /dev/kvm" 4 nobody "$NB/bin/vmm-min" --workload null
  expect_out "permission error gives the fix" "no permission to open /dev/kvm.*usermod"
else
  skip "no permission on /dev/kvm" "needs a /dev/kvm closed to other users"
fi
t_summary
