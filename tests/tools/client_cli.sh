#!/bin/bash
# qmp-client end to end against qmp-refd (and through qmp-proxy for the
# perturbations a client must survive): script forms, adapter output,
# pairing, timeouts, early close, exit codes.
REFD=$1 CLIENT=$2 PROXY=$3
. "$(dirname "$0")/lib.sh"

expect_rc 0 "$CLIENT" --help; contains "$T/out" "usage: qmp-client"
expect_rc 2 "$CLIENT" query-status; contains "$T/err" "exactly one of --socket"
expect_rc 2 "$CLIENT" -s "$T/none.sock" query-status; contains "$T/err" "cannot connect"
expect_rc 2 "$CLIENT" -s "$T/none.sock" -f "$T/no-script"; contains "$T/err" "cannot read script"
expect_rc 2 "$CLIENT" -s "$T/none.sock" --timeout abc query-status
contains "$T/err" "--timeout must be a number from 0.001 to 1000000, not 'abc'"
expect_rc 2 "$CLIENT" -s "$T/none.sock" --linger -1 query-status; contains "$T/err" "--linger must be"
expect_rc 2 "$CLIENT" -s "$T/none.sock" --max-message 1x query-status; contains "$T/err" "--max-message must be"
expect_rc 2 "$CLIENT" -t 127.0.0.1:99999 query-status; contains "$T/err" "PORT a number from 0 to 65535"
ok "usage and connection errors exit 2"

# README's way: the server started in the background just before the client;
# the client waits for the socket to appear instead of failing at once
"$CLIENT" -s "$T/late.sock" query-status > "$T/late.out" 2>&1 & L=$!
sleep 0.5
start_refd "$T/late.sock"
wait $L || fail "a client started before its server gave up: $(cat "$T/late.out")"
contains "$T/late.out" '"running": true'
kill -TERM "$LAST_PID"; wait "$LAST_PID"
ok "a client started 0.5 s before the server connects once the socket appears"

S=$T/r.sock
start_refd "$S" --profile extended --clock manual
cat > "$T/s1" <<'SCRIPT'
# comment and blank lines are skipped

query-version
{"execute": "query-name", "id": {"z": 1, "a": [1.0]}}
no-such-command a=1 b=text c=[1,2] d={"k":null}
&{"execute": "x-delay", "arguments": {"ms": 50, "result": "late"}, "id": 1}
&{"execute": "x-delay", "arguments": {"ms": 10, "result": "early"}, "id": 2}
{"execute": "x-clock-step", "arguments": {"ms": 100}, "id": 3}
.wait
.raw "\u00ff"
.sleep 100
SCRIPT
expect_rc 0 "$CLIENT" --caps async --adapter "$S" "$T/s1"
cp "$T/out" "$T/s1.out"
contains "$T/s1.out" '{"type": "greeting", "msg": {"QMP":'
contains "$T/s1.out" '"seq": 1, "command": "query-version"'
contains "$T/s1.out" '"seq": 2, "command": "query-name", "id": {"a": [1], "z": 1}'
contains "$T/s1.out" '"seq": 3, "command": "no-such-command", "msg": {"error": {"class": "CommandNotFound"'
contains "$T/s1.out" '"seq": 4, "command": "x-delay", "id": 1, "msg": {"return": "late"'
contains "$T/s1.out" '"seq": 5, "command": "x-delay", "id": 2, "msg": {"return": "early"'
contains "$T/s1.out" '{"type": "unmatched", "msg": {"error": {"class": "GenericError", "desc": "JSON parse error'
# the early reply overtook the late one and both were paired by id
grep -n '"x-delay"' "$T/s1.out" | head -1 | grep -q '"id": 2' || fail "replies not in completion order"
ok "adapter: every script form, out-of-order replies paired by id, unmatched replies"

printf 'query-status\n' | "$CLIENT" -s "$S" > "$T/stdin.out" || fail "stdin mode"
contains "$T/stdin.out" '{"return": {"status": "running"'
ok "commands from standard input"

expect_rc 0 "$CLIENT" -s "$S" --ids -j -c 'query-status' -c 'query-version'
contains "$T/out" '"seq": 2, "command": "query-version", "id": 2'
ok "--ids numbers key=value commands"

expect_rc 2 "$CLIENT" -s "$S" -c '.bogus'; contains "$T/err" "unknown directive '.bogus'"
expect_rc 1 "$CLIENT" -s "$S" --timeout 0.3 -c '.wait-event NEVER'
contains "$T/err" "event NEVER did not arrive"
expect_rc 1 "$CLIENT" -s "$S" --timeout 0.3 -c '{"execute": "x-delay", "arguments": {"ms": 100000}, "id": 9}'
contains "$T/err" "unanswered"
ok "bad directives exit 2, timeouts exit 1 with the reason"

# perturbed server stream: single-byte writes, LF ends, events injected
# between every command and its reply and during negotiation
P=$T/p.sock
"$PROXY" --listen "$P" --connect "$S" --split 1 --lf --inject-between \
    --inject-negotiation --trace "$T/p.trace" --quiet & PIDS="$PIDS $!"
wait_sock "$P"
expect_rc 0 "$CLIENT" --caps async --adapter "$P" "$T/s1"
grep -v X_PROXY_INJECTED "$T/out" > "$T/p.out"
n=$(grep -c X_PROXY_INJECTED "$T/out")
[ "$n" = 9 ] || fail "wanted 9 injected events (1 after the greeting, 1 per reply), got $n"
cmp -s <(sed 's/"seconds": [0-9]*, "microseconds": [0-9]*//' "$T/p.out") \
       <(sed 's/"seconds": [0-9]*, "microseconds": [0-9]*//' "$T/s1.out") ||
    fail "perturbed run differs: $(diff "$T/p.out" "$T/s1.out" | head -5)"
ok "split into bytes, LF endings, injected events: same pairing and results"

# a greeting that comes too late, a server that closes early
D=$T/d.sock
"$PROXY" --listen "$D" --connect "$S" --delay 2000 --quiet & PIDS="$PIDS $!"
wait_sock "$D"
expect_rc 1 "$CLIENT" -s "$D" --timeout 0.3 query-status; contains "$T/err" "no greeting"
expect_rc 1 "$CLIENT" -s "$S" -c quit -c query-status; contains "$T/err" "closed the connection"
ok "no greeting and early close exit 1"

# interactive on a terminal: prompt, NAME key=value and raw JSON, events as
# they come (util-linux 'script' gives the client a pty)
if command -v script >/dev/null; then
    start_refd "$T/i.sock"
    { sleep 0.3; printf 'query-status\n'; sleep 0.3
      printf '{"execute": "query-name", "id": 7}\n'; sleep 0.3
      printf 'blockdev-add driver=null-co node-name=n0 size=1024\n'; sleep 0.3
      printf 'stop\n'; sleep 0.3; } |
        timeout 20 script -qec "'$CLIENT' -s '$T/i.sock'" /dev/null | tr -d '\r' > "$T/i.out"
    contains "$T/i.out" '(QEMU) query-status'
    contains "$T/i.out" '"running": true'
    contains "$T/i.out" '{"return": {}, "id": 7}'
    contains "$T/i.out" '(QEMU) blockdev-add driver=null-co node-name=n0 size=1024'
    contains "$T/i.out" '"event": "STOP"'
    [ "$(grep -c '^{"return": {}}$' "$T/i.out")" = 2 ] || fail "interactive replies: $(cat "$T/i.out")"
    ok "interactive on a terminal: prompt, key=value and raw JSON, events"
fi

echo "all qmp-client checks passed"
