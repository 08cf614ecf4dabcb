#!/usr/bin/env bash
# Installs the Debian packages vmmbench builds and tests with, once, for every make
# target that needs them. Not root: print the exact apt-get line and stop.
set -eu
PKGS="gcc make pkg-config libc6-dev libsqlite3-dev sqlite3 libinih-dev libcmocka-dev
      libhwloc-dev libnuma-dev libpfm4-dev gnuplot-nox git libgsl-dev chromium
      clang libclang-rt-14-dev slurm-wlm munge"
# Extra packages a caller needs beyond the build's (the lab passes qemu-system-x86).
PKGS="$PKGS $*"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "vmmbench: missing Debian packages:$missing" >&2
  echo "fix: run as root:  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
echo "vmmbench: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
