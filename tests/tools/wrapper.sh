#!/bin/bash
# tools/qmp-proxy/qemu-wrapper.sh in front of the real QEMU, started the way
# libvirt starts it (monitor chardev id=charmonitor on a socket path).
PROXY=$1 CLIENT=$2 CAT=$3 WRAPPER=$4
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
export QMP_PROXY=$PROXY QMP_PROXY_DIR=$T QMP_PROXY_QEMU=$(command -v qemu-system-x86_64)
export QMP_PROXY_ARGS="--split 5 --inject-between"
"$WRAPPER" -machine none -nodefaults -display none \
    -chardev "socket,id=charmonitor,path=$T/monitor.sock,server=on,wait=off" \
    -mon chardev=charmonitor,id=monitor,mode=control 2>"$T/qemu.err" & Q=$!
PIDS="$PIDS $Q"
wait_sock "$T/monitor.sock"
expect_rc 0 "$CLIENT" -s "$T/monitor.sock" -j query-status
contains "$T/out" '"package": "Debian'
contains "$T/out" '"event": "X_PROXY_INJECTED"'
contains "$T/out" '"command": "query-status", "msg": {"return": {"status": "running"'
expect_rc 0 "$CLIENT" -s "$T/monitor.sock" quit
wait $Q
sleep 0.5
trace=$(ls "$T"/qmp-proxy-*.trace)
expect_rc 0 "$CAT" --no-times "$trace"
contains "$T/out" '-> #2 {"execute": "query-status"}'
ok "the wrapper puts qmp-proxy in front of QEMU; the session is traced"
pgrep -f "watch-pid $Q" >/dev/null && fail "qmp-proxy outlived QEMU"
ok "qmp-proxy exits with QEMU"
