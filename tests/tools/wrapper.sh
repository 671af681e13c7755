#!/bin/bash
# tools/qmp-proxy/qemu-wrapper.sh in front of the real QEMU, started the way
# libvirt starts it (monitor chardev id=charmonitor on a socket path).
PROXY=$1 CLIENT=$2 CAT=$3 WRAPPER=$4
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
export QMP_PROXY=$PROXY QMP_PROXY_DIR=$T QMP_PROXY_QEMU=$(command -v qemu-system-x86_64)
export QMP_PROXY_ARGS="--split 5 --inject-between"
start_qemu() {
    rm -f "$T"/qmp-proxy-*.trace "$T/monitor.sock"
    "$WRAPPER" -machine none -nodefaults -display none \
        -chardev "socket,id=charmonitor,path=$T/monitor.sock,server=on,wait=off" \
        -mon chardev=charmonitor,id=monitor,mode=control 2>"$T/qemu.err" & Q=$!
    PIDS="$PIDS $Q"
    wait_sock "$T/monitor.sock"
}
start_qemu
# QEMU 7.2 can crash (SIGSEGV) when a client connects while it is still
# starting (docs/CONFORMANCE.md, the start-up race).  As qmp-conform does, a
# crash before QEMU's first answer earns one rerun on a fresh QEMU; any
# other failure, or a second crash, fails the test.
if ! "$CLIENT" -s "$T/monitor.sock" -j query-status >"$T/out" 2>"$T/err"; then
    wait "$Q"
    qrc=$?
    [ "$qrc" -gt 128 ] || fail "qmp-client failed, QEMU exit $qrc -- stderr: $(head -c 400 "$T/err")"
    echo "# QEMU died of signal $((qrc - 128)) before its first answer (start-up race): one rerun"
    start_qemu
    expect_rc 0 "$CLIENT" -s "$T/monitor.sock" -j query-status
fi
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
