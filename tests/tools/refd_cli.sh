#!/bin/bash
# qmp-refd end to end: usage errors, socket mode, profiles, manual clock,
# stdio, trace + replay, quit and signals, limits, a busy socket path.
REFD=$1 CLIENT=$2
. "$(dirname "$0")/lib.sh"

expect_rc 0 "$REFD" --help; contains "$T/out" "usage: qmp-refd"
expect_rc 2 "$REFD"; contains "$T/err" "nothing to serve"
expect_rc 2 "$REFD" --socket "$T/x" --profile nope
contains "$T/err" "--profile must be qemu-7.2 or extended, not 'nope'"
contains "$T/err" "Try 'qmp-refd --help'"
[ "$(wc -l < "$T/err")" -le 2 ] || fail "a usage error buries its message: $(cat "$T/err")"
expect_rc 2 "$REFD" --socket "$T/x" --clock sometimes
contains "$T/err" "--clock must be real or manual, not 'sometimes'"
for m in 999 0800 rw 01777 ''; do
    expect_rc 2 "$REFD" --socket "$T/x" --socket-mode "$m"
    contains "$T/err" "--socket-mode must be octal permission bits from 0 to 0777"
done
[ -e "$T/x" ] && fail "a refused --socket-mode left a socket file"
for a in 127.0.0.1:99999 127.0.0.1:65536 5555x 127.0.0.1: : 127.0.0.1:http; do
    expect_rc 2 "$REFD" --tcp "$a"
    contains "$T/err" "bad address '$a': expected HOST:PORT or PORT, PORT a number from 0 to 65535"
done
expect_rc 2 "$REFD" --socket "$T/x" --max-monitors 4097
contains "$T/err" "--max-monitors must be a number from 1 to 4096, not '4097'"
expect_rc 2 "$REFD" --socket "$T/x" --out-bytes 10
contains "$T/err" "--out-bytes must be a number from 1024 to 1073741824, not '10'"
expect_rc 2 "$REFD" --socket "$T/x" --time-scale 0
expect_rc 2 "$REFD" --socket /nonexistent-dir/q.sock; contains "$T/err" "cannot listen"
expect_rc 2 "$REFD" --socket "$T/x" --out-bytes 4096 --reply-bytes 8192
contains "$T/err" "--out-bytes (4096) must be at least --reply-bytes (8192)"
ok "usage errors exit 2 with a message"

S=$T/a.sock
start_refd "$S" --trace "$T/a.trace"
[ "$(stat -c %a "$S")" = 600 ] || fail "socket mode is $(stat -c %a "$S")"
ok "socket created with mode 0600"
expect_rc 2 "$REFD" --socket "$S"; contains "$T/err" "in use by a running server"
ok "a socket in use is refused"
expect_rc 0 "$CLIENT" -s "$S" query-status; contains "$T/out" '"running": true'
expect_rc 0 "$CLIENT" -s "$S" -c x-clock-step; contains "$T/out" "CommandNotFound"
ok "real clock: commands answered, no x-clock-step"
expect_rc 1 "$CLIENT" -s "$S" --caps async -c query-status
contains "$T/err" "does not accept value 'async'"
ok "qemu-7.2 profile: async is not a capability"
expect_rc 0 "$CLIENT" -s "$S" quit; contains "$T/out" '"reason": "host-qmp-quit"'
wait "$LAST_PID"; rc=$?
[ "$rc" = 0 ] || fail "qmp-refd exited $rc after quit"
[ -e "$S" ] && fail "socket file left after quit"
ok "quit: SHUTDOWN event, exit 0, socket removed"
expect_rc 0 "$REFD" --replay "$T/a.trace"; contains "$T/err" "identical"
ok "replay of the trace is identical"
sed 's/query-status/query-stXtus/' "$T/a.trace" > "$T/bad.trace"
expect_rc 1 "$REFD" --replay "$T/bad.trace"; contains "$T/err" "differs"
ok "a tampered trace does not replay"

start_refd "$S" --profile extended --clock manual --clock-start 100 --trace "$T/m.trace"
cat > "$T/m.script" <<'SCRIPT'
&{"execute": "x-delay", "arguments": {"ms": 500, "result": 42}, "id": "slow"}
{"execute": "x-query-monitor", "id": "q"}
{"execute": "x-clock-step", "arguments": {"ms": 600}, "id": "step"}
.wait
SCRIPT
expect_rc 0 "$CLIENT" --caps async --adapter "$S" "$T/m.script"
contains "$T/out" '"async"'
contains "$T/out" '"command": "x-delay", "id": "slow", "msg": {"return": 42'
ok "extended profile + manual clock: x-clock-step completes an async x-delay"
"$CLIENT" -s "$S" -j -c query-name -c '.sleep 3000' > "$T/sig.out" 2>&1 & W=$!
# negotiated (only negotiated monitors get events) before the signal
for _ in $(seq 1 250); do grep -qF '"msg": {"return": {}}' "$T/sig.out" && break; sleep 0.02; done
kill -TERM "$LAST_PID"; wait "$LAST_PID"; rc=$?
[ "$rc" = 0 ] || fail "qmp-refd exited $rc on SIGTERM"
[ -e "$S" ] && fail "socket file left after SIGTERM"
wait $W
contains "$T/sig.out" '"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-signal"}'
ok "SIGTERM: SHUTDOWN host-signal to clients, exit 0, socket removed"
expect_rc 0 "$REFD" --replay "$T/m.trace"
ok "manual-clock trace replays identically"

printf '{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}\n{"execute":"qmp_capabilities"}\n{"execute":"query-status"}\n' |
    "$REFD" --stdio --quiet > "$T/stdio.out" 2>"$T/stdio.err" || fail "stdio mode failed: $(cat "$T/stdio.err")"
contains "$T/stdio.out" '"capabilities": []'
contains "$T/stdio.out" "Capability oob not available"
contains "$T/stdio.out" '"status": "running"'
ok "stdio: greets without oob, serves, exits at EOF"

start_refd "$S" --max-monitors 2
"$CLIENT" -v -s "$S" -c '.sleep 3000' > "$T/a.out" & A=$!
"$CLIENT" -v -s "$S" -c '.sleep 3000' > "$T/b.out" & B=$!
# both greeted (so both hold a slot) before the third tries, however loaded
for _ in $(seq 1 200); do grep -q QMP "$T/a.out" && grep -q QMP "$T/b.out" && break; sleep 0.02; done
expect_rc 1 "$CLIENT" -s "$S" --timeout 2 query-status
contains "$T/err" "closed the connection before its greeting"
wait $A || fail "first monitor harmed by the refused one"
wait $B || fail "second monitor harmed by the refused one"
expect_rc 0 "$CLIENT" -s "$S" query-status
ok "a monitor beyond --max-monitors is refused; the others go on"
kill -INT "$LAST_PID"; wait "$LAST_PID" || fail "SIGINT exit status"

start_refd "$S" --profile extended --time-scale 1000
t0=$(date +%s%N)
expect_rc 0 "$CLIENT" -s "$S" -c '{"execute": "x-delay", "arguments": {"ms": 20000, "result": 1}}'
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 5000 ] || fail "--time-scale 1000: a 20 s delay took $(( (t1 - t0) / 1000000 )) ms"
contains "$T/out" '{"return": 1}'
ok "--time-scale 1000 runs a 20 s x-delay in $(( (t1 - t0) / 1000000 )) ms"
kill -TERM "$LAST_PID"; wait "$LAST_PID"

# TCP only when asked, on 127.0.0.1 without a host.  Port 0 lets the kernel
# pick a free one (a fixed or random port can be taken by a parallel run);
# the message names it, so a user can connect.
"$REFD" --tcp 0 > /dev/null 2>"$T/tcp0.err" & P=$!; PIDS="$PIDS $P"
for _ in $(seq 1 100); do grep -q "listening on tcp" "$T/tcp0.err" && break; sleep 0.05; done
A0=$(sed -n 's/^qmp-refd: listening on tcp //p' "$T/tcp0.err")
case "$A0" in 127.0.0.1:0|127.0.0.1:) fail "--tcp 0 reports port 0: $A0";; 127.0.0.1:[0-9]*) ;;
    *) fail "--tcp 0: no bound address in '$(cat "$T/tcp0.err")'";; esac
expect_rc 0 "$CLIENT" -t "$A0" query-status; contains "$T/out" '"running": true'
if command -v ss >/dev/null; then
    ss -ltn | grep -qF " $A0 " || fail "not listening on $A0: $(ss -ltn | grep "${A0##*:}")"
fi
kill $P; wait $P
ok "TCP on 127.0.0.1 when asked"
ok "--tcp 0 reports the port it got ($A0) and serves on it"
[ "$(id -u)" = 0 ] || {
    mkdir "$T/ro"; chmod 500 "$T/ro"
    expect_rc 2 "$REFD" --socket "$T/ro/q.sock"; contains "$T/err" "Permission denied"
    ok "a socket directory without write permission is refused"; }
start_refd "$S" --socket-mode 0660
[ "$(stat -c %a "$S")" = 660 ] || fail "--socket-mode 0660 gave $(stat -c %a "$S")"
kill -TERM "$LAST_PID"; wait "$LAST_PID"
ok "--socket-mode 0660 is applied; bad modes, ports and sizes are refused with the option named"
# several listeners at once: two sockets and TCP, one engine (a node added
# through one is seen through the others), every socket file removed
"$REFD" --socket "$T/s1" --socket "$T/s2" --tcp 0 > /dev/null 2>"$T/multi.err" & P=$!; PIDS="$PIDS $P"
wait_sock "$T/s1"; wait_sock "$T/s2"
for _ in $(seq 1 100); do grep -q "listening on tcp" "$T/multi.err" && break; sleep 0.05; done
A0=$(sed -n 's/^qmp-refd: listening on tcp //p' "$T/multi.err")
expect_rc 0 "$CLIENT" -s "$T/s1" blockdev-add driver=null-co node-name=shared
expect_rc 0 "$CLIENT" -s "$T/s2" blockdev-add driver=null-co node-name=shared
contains "$T/out" "Duplicate nodes with node-name='shared'"
expect_rc 0 "$CLIENT" -t "$A0" blockdev-del node-name=shared; contains "$T/out" '{"return": {}}'
kill -INT $P; wait $P || fail "SIGINT exit status with three listeners"
[ -e "$T/s1" ] || [ -e "$T/s2" ] && fail "socket files left after SIGINT"
ok "--socket twice and --tcp serve one engine; SIGINT removes both socket files"

# --time-scale moves job progress too: a 1 GiB mirror at 64 MiB/s takes 16 s
# of engine time, well under a second at x1000
start_refd "$S" --time-scale 1000
cat > "$T/job.script" <<'SCRIPT'
blockdev-add driver=null-co node-name=src size=1073741824
blockdev-add driver=null-co node-name=dst size=1073741824
blockdev-mirror job-id=j device=src target=dst sync=full speed=67108864
.wait-event BLOCK_JOB_READY
SCRIPT
t0=$(date +%s%N)
expect_rc 0 "$CLIENT" -s "$S" --timeout 10 -f "$T/job.script"
t1=$(date +%s%N)
contains "$T/out" '"event": "BLOCK_JOB_READY"'
[ $(( (t1 - t0) / 1000000 )) -lt 8000 ] || fail "--time-scale 1000: a 16 s mirror took $(( (t1 - t0) / 1000000 )) ms"
kill -TERM "$LAST_PID"; wait "$LAST_PID"
ok "--time-scale 1000: a mirror that needs 16 s of engine time is ready in $(( (t1 - t0) / 1000000 )) ms"
echo "all qmp-refd checks passed"
