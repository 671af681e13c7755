#!/bin/bash
# qmp-proxy: --exec, traces both directions, holds OOB replies, coalesces.
REFD=$1 CLIENT=$2 PROXY=$3 CAT=$4 LINT=${5:-}
. "$(dirname "$0")/lib.sh"

expect_rc 0 "$PROXY" --help; contains "$T/out" "usage: qmp-proxy"
expect_rc 2 "$PROXY" --listen "$T/p"; contains "$T/err" "one of --connect"
expect_rc 2 "$PROXY" --listen "$T/p" --exec "true"; contains "$T/err" "{socket}"
expect_rc 1 "$PROXY" --listen "$T/p" --exec "true {socket}"; contains "$T/err" "exited before"
for o in --split --delay --hold-oob --coalesce --split-delay; do
    expect_rc 2 "$PROXY" --listen "$T/p" --connect "$T/none" $o abc
    contains "$T/err" "$o must be a number from 0 to"
done
expect_rc 2 "$PROXY" --listen "$T/p" --connect "$T/none" --delay -5
contains "$T/err" "not '-5'"
[ -e "$T/p" ] && fail "a usage error left a listening socket"
ok "usage errors exit 2, a server that never starts exits 1"

P=$T/p.sock
"$PROXY" --listen "$P" --exec "'$REFD' --quiet --profile extended --socket {socket}" \
    --hold-oob 300 --coalesce 20 --trace "$T/p.trace" --quiet & PX=$!; PIDS="$PIDS $PX"
wait_sock "$P"
sleep 0.2
cat > "$T/s" <<'SCRIPT'
&{"execute": "x-delay", "arguments": {"ms": 100}, "id": "inband"}
&{"exec-oob": "query-yank", "id": "oob"}
&{"execute": "query-status", "id": "status"}
.wait
SCRIPT
expect_rc 0 "$CLIENT" --caps oob --adapter "$P" "$T/s"
# the held OOB reply arrives after the in-band ones it would have overtaken
last=$(grep -o '"id": "[a-z]*", "msg"' "$T/out" | tail -1)
[ "$last" = '"id": "oob", "msg"' ] || fail "OOB reply not held back: $(cat "$T/out")"
ok "--exec starts the server; --hold-oob lets later replies overtake OOB ones"

kill "$PX"; wait "$PX"
expect_rc 0 "$CAT" --no-times "$T/p.trace"
contains "$T/out" '0 -> #2 {"execute": "x-delay"'
contains "$T/out" '0 <- greeting'
contains "$T/out" '0 -- close'
ok "the proxy trace reads back with qmp-cat; server stopped with the proxy"

if [ -n "$LINT" ]; then
    # the held-OOB trace: OOB replies may come late, nothing else is wrong
    expect_rc 0 "$LINT" --format trace "$T/p.trace"
    contains "$T/err" "0 problems"
    # LF-only line ends and an event injected before negotiation are what
    # qmp-lint exists to catch, in a proxy trace as in any other
    P2=$T/p2.sock
    "$PROXY" --listen "$P2" --exec "'$REFD' --quiet --socket {socket}" --lf \
        --inject-negotiation --trace "$T/p2.trace" --quiet & PX=$!; PIDS="$PIDS $PX"
    wait_sock "$P2"
    expect_rc 0 "$CLIENT" -s "$P2" query-status
    kill "$PX"; wait "$PX"
    expect_rc 1 "$LINT" --format trace "$T/p2.trace"
    contains "$T/out" "server message not followed by CRLF"
    contains "$T/out" "event before capabilities negotiation completed"
    ok "proxy traces read by qmp-lint: clean when unperturbed, LF ends and early events flagged"
fi
# a signal at any moment of an idle proxy's life ends it and removes its socket
for i in 1 2 3 4 5 6 7 8; do
    "$PROXY" --listen "$T/sig.sock" --connect "$T/none.sock" --quiet & PX=$!
    [ "$i" -gt 4 ] && wait_sock "$T/sig.sock"
    sleep "0.0$i"
    kill -TERM "$PX"
    for _ in $(seq 1 100); do kill -0 "$PX" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$PX" 2>/dev/null && { kill -KILL "$PX"; fail "qmp-proxy ignored SIGTERM (attempt $i)"; }
    wait "$PX"
    [ -e "$T/sig.sock" ] && fail "socket left after SIGTERM (attempt $i)"
done
ok "SIGTERM ends an idle qmp-proxy and removes its socket"
echo "all qmp-proxy checks passed"
