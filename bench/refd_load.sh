#!/bin/bash
# Round trips per second over unix sockets, 1 and 64 clients, qmp-refd
# against QEMU 7.2's own monitor in the same run.
#   bench/refd_load.sh BUILD_DIR [SECONDS]
# BUILD_DIR holds tools/qmp-refd/qmp-refd and tests/tools/refd_load.
# QEMU serves one client per monitor socket, so it gets 64 monitors.
set -eu
B=$1 SECS=${2:-5}
REFD=$B/tools/qmp-refd/qmp-refd LOAD=$B/tests/tools/refd_load
D=$(mktemp -d /tmp/refd-load.XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$D"' EXIT
wait_sock() { for _ in $(seq 1 500); do [ -S "$1" ] && return 0; sleep 0.01; done; return 1; }
rate() { "$LOAD" -t "$SECS" "$@" | sed 's/.*= \([0-9]*\) round.*/\1/'; }

"$REFD" --socket "$D/refd.sock" --quiet --max-monitors 128 & PIDS="$PIDS $!"
wait_sock "$D/refd.sock"; sleep 0.1
r1=$(rate -c 1 "$D/refd.sock")
r64=$(rate -c 64 "$D/refd.sock")

q1=- q64=- qv="not installed"
if command -v qemu-system-x86_64 >/dev/null; then
    args=() socks=()
    for i in $(seq 0 63); do
        args+=(-chardev "socket,id=m$i,path=$D/q$i.sock,server=on,wait=off" -mon "chardev=m$i,mode=control")
        socks+=("$D/q$i.sock")
    done
    qemu-system-x86_64 -machine none -nodefaults -display none "${args[@]}" 2>/dev/null & PIDS="$PIDS $!"
    wait_sock "$D/q63.sock"; sleep 0.2
    qv=$(qemu-system-x86_64 --version | head -1)
    q1=$(rate -c 1 "${socks[0]}")
    # a fresh connection per run: QEMU greets one client per socket at a time
    q64=$(rate -c 64 "${socks[@]}")
fi
ratio() { [ "$2" = - ] && echo - || awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f×", a / b }'; }
echo "| clients | qmp-refd (round trips/s) | QEMU (round trips/s) | ratio |"
echo "|---:|---:|---:|---:|"
echo "| 1 | $r1 | $q1 | $(ratio "$r1" "$q1") |"
echo "| 64 | $r64 | $q64 | $(ratio "$r64" "$q64") |"
echo
echo "QEMU: $qv (-machine none, 64 socket monitors); $SECS s per run after 10% warm-up; command query-status."
