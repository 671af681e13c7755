#!/bin/bash
# qmp-proxy reads server messages as a client must (qt_server_envelope):
# replies with members QEMU 7.2 does not send are still replies, so
# --inject-between puts its event before each of them.
PROXY=$1 CLIENT=$2 FAKE=$3
. "$(dirname "$0")/lib.sh"
{
    printf '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}, "x-new": 1}\n'
    printf '{"return": {}, "x-new": 1}\n'
    printf '{"return": {"status": "running"}, "id": 1, "x-new": {"a": 1}}\n'
    printf '{"error": {"class": "GenericError", "desc": "no", "x-hint": "h"}, "id": 2}\n'
} > "$T/script"
"$FAKE" "$T/s" "$T/script" & PIDS="$PIDS $!"
wait_sock "$T/s"
"$PROXY" --listen "$T/p" --connect "$T/s" --inject-between --once --quiet \
    --trace "$T/t" & PX=$!; PIDS="$PIDS $PX"
wait_sock "$T/p"
printf '{"execute": "query-status", "id": 1}\n{"execute": "x", "id": 2}\n' > "$T/cmds"
expect_rc 0 "$CLIENT" --adapter "$T/p" "$T/cmds"
n=$(grep -c '"event": "X_PROXY_INJECTED"' "$T/out")
[ "$n" = 3 ] || fail "wanted 3 injected events (before each of the 3 replies), got $n: $(cat "$T/out")"
contains "$T/out" '"type": "return", "seq": 1, "command": "query-status", "id": 1, "msg": {"return": {"status": "running"}, "id": 1, "x-new": {"a": 1}}'
contains "$T/out" '"type": "error", "seq": 2'
wait "$PX"
ok "replies with unknown members are replies to qmp-proxy (--inject-between), relayed unchanged"
