# Runs inside `vmmbench lab`, under the host's bash in the host's root (read-only, over
# virtio-9p), started by the lab's init. Settings come from run.env in the exchange
# folder (/run/vmmbench-lab, the host's side of it is the launcher's work folder):
# CMD (the command), CWD, BIN (the folder of the vmmbench that called the lab, first on
# PATH), TIMEOUT (s), OUT_TTY/ERR_TTY (1: the caller's stream is a terminal), TERM_NAME.
# The command's database (VMMB_DB) lives on the lab's tmpfs, starting as a copy of the
# caller's (in.db); when it changed it goes back as out.db (with its -wal, should the
# command have been stopped), and the caller merges it into its --db.
set -u
IO=/run/vmmbench-lab
. "$IO/run.env"
say() { echo "VMMB-LAB: $*" >/dev/ttyS0; }
export PATH="$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export HOME=/root LANG=C.UTF-8 TERM=${TERM_NAME:-dumb}
D=/tmp/vmmbench-lab
mkdir -p "$D"
export VMMB_DB=$D/lab.db
[ -f "$IO/in.db" ] && cp "$IO/in.db" "$VMMB_DB"

# A stream the caller has on a terminal gets the serial port itself (progress lines look
# as they would); otherwise a pipe, so the command sees what it would see at home.
out=/dev/ttyS1 err=/dev/ttyS2
if [ "${OUT_TTY:-0}" != 1 ]; then mkfifo "$D/out"; cat "$D/out" >/dev/ttyS1 & out=$D/out; fi
if [ "${ERR_TTY:-0}" != 1 ]; then mkfifo "$D/err"; cat "$D/err" >/dev/ttyS2 & err=$D/err; fi
start=$SECONDS
if ! cd "$CWD" 2>/dev/null; then
  echo "vmmbench lab: the lab cannot enter $CWD (it sees this host's files read-only over virtio-9p, with its own /tmp, /run and /dev/shm)" >"$err"
  : >"$out"
  rc=125
else
  # timeout: the command's own process group ends with it (its children too).
  timeout --kill-after=10 "$TIMEOUT" "${CMD[@]}" </dev/null >"$out" 2>"$err"
  rc=$?
fi
# The pipes' readers end when the command's side closes; a child the command left behind
# may hold them open, so wait a little, not for ever.
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -z "$(jobs -pr)" ] && break; sleep 0.5; done

if [ -f "$VMMB_DB" ] && { [ -f "$VMMB_DB-wal" ] || ! cmp -s "$VMMB_DB" "$IO/in.db" 2>/dev/null; }; then
  cp "$VMMB_DB" "$IO/out.db" && { [ ! -f "$VMMB_DB-wal" ] || cp "$VMMB_DB-wal" "$IO/out.db-wal"; } ||
    say "error: the lab's database could not be copied out"
fi
# (timeout's 124, or 137 when the command ignored its TERM; only once the time is up, so
# a command that exits 124 on its own is not taken for a timeout)
if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
  say "timed out after $((SECONDS - start)) s"
fi
say "status $rc"
sync
