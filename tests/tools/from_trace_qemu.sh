#!/bin/bash
# qmp-conform from-trace on a real QEMU session: recorded through qmp-proxy
# in front of qemu-system-x86_64 -machine none (two connections in turn, an
# error, garbage, a partial write, a node QEMU names "#block" + random
# digits, quit), converted, and replayed against a fresh QEMU: PASS.
CONFORM=$1 PROXY=$2 CLIENT=$3
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
QEMU="qemu-system-x86_64 -machine none -nodefaults -display none -chardev socket,id=m0,path={socket},server=on,wait=off -mon chardev=m0,mode=control"
"$PROXY" --listen "$T/q.sock" --exec "$QEMU" --trace "$T/q.trace" --quiet & PX=$!
PIDS="$PIDS $PX"
wait_sock "$T/q.sock"
cat > "$T/one" <<'SCRIPT'
{"execute": "query-status", "id": 1}
{"execute": "no-such-command", "id": {"an": ["object", "id"]}}
.raw "{\"execute\": \"query-na"
.sleep 50
.raw "me\", \"id\": \"b2\"}\n}}\u00ff\n"
{"execute": "blockdev-add", "arguments": {"driver": "raw", "node-name": "r0", "file": {"driver": "null-co", "size": 1048576}}, "id": "add"}
{"execute": "query-named-block-nodes", "id": "nodes"}
.close
SCRIPT
printf '{"execute": "query-version"}\n{"execute": "quit"}\n' > "$T/two"
expect_rc 0 "$CLIENT" --adapter "$T/q.sock" "$T/one"
expect_rc 0 "$CLIENT" --adapter "$T/q.sock" "$T/two"
for _ in $(seq 1 100); do kill -0 "$PX" 2>/dev/null || break; sleep 0.05; done
kill "$PX" 2>/dev/null; wait "$PX"

expect_rc 0 "$CONFORM" from-trace "$T/q.trace" --id qemu-01 -o "$T/q.qmpt"
F=$T/q.qmpt
[ "$(grep -c '^connect raw' "$F")" = 2 ] || fail "two connections in turn should share m0: $(cat "$F")"
contains "$F" '"node-name": "$re:^#block[0-9]+$"'
contains "$F" '"package": "$string"'
contains "$F" '-> }}\x{FF}'
contains "$F" "stray '\\uFFFD'"
contains "$F" '"event": "SHUTDOWN", "timestamp": "$timestamp"'
ok "a QEMU session recorded by qmp-proxy converts (#block names, versions, timestamps as patterns)"
expect_rc 0 "$CONFORM" server --exec "$QEMU" --suite "$F"
contains "$T/out" "PASS 1"
ok "the case PASSes against a fresh QEMU"
