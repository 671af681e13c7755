#!/bin/bash
# qmp-cat on qmp-refd traces, corpus recordings and raw streams.
REFD=$1 CLIENT=$2 CAT=$3 SHARED=$4
. "$(dirname "$0")/lib.sh"

expect_rc 0 "$CAT" --help; contains "$T/out" "usage: qmp-cat"
expect_rc 2 "$CAT" --format xml; contains "$T/err" "--format is auto, trace or raw"
expect_rc 2 "$CAT" "$T/missing"; contains "$T/err" "cannot read"
ok "usage and I/O errors exit 2"

S=$T/r.sock
start_refd "$S" --trace "$T/r.trace"
printf '{"execute": "query-name", "id": "n"}\n&{"execute": "stop", "id": 2}\n.wait\n{"execute":\n' > "$T/s"
"$CLIENT" --adapter "$S" "$T/s" > /dev/null 2>&1
"$CLIENT" -s "$S" quit > /dev/null
wait "$LAST_PID"
expect_rc 0 "$CAT" --no-times --color never "$T/r.trace"
cp "$T/out" "$T/plain"
contains "$T/plain" '-> #2 {"execute": "query-name", "id": "n"}'
contains "$T/plain" '<- =#2 {"return": {}, "id": "n"}'
contains "$T/plain" '<- *event* {"timestamp":'
contains "$T/plain" '"event": "STOP"'
contains "$T/plain" '++ connect'
ok "trace: commands and replies paired, events marked"

expect_rc 0 "$CAT" --json "$T/r.trace"
contains "$T/out" '"kind": "command", "pair": 2, "msg": {"execute": "query-name", "id": "n"}'
contains "$T/out" '"kind": "return", "pair": 2'
ok "--json"
expect_rc 0 "$CAT" --indent --no-times "$T/r.trace"
contains "$T/out" '    "return": {},'
ok "--indent"
expect_rc 0 "$CAT" --color always "$T/r.trace"
grep -q $'\033\\[33m' "$T/out" || fail "no colour"
ok "colours on request"

printf '{"QMP": {"version": {}, "capabilities": []}}\r\n{"return": {}, "id": 1}\r\n\xff{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n' > "$T/raw"
expect_rc 0 "$CAT" --no-times "$T/raw"
contains "$T/out" "<- greeting"
contains "$T/out" "parse-error JSON parse error, stray '\\xff'"
contains "$T/out" "<- *event*"
ok "raw streams, with errors shown"

printf '{"t": 0, "dir": "in", "data": "{}"}\nnot json\n' > "$T/bad.trace"
expect_rc 1 "$CAT" --format trace "$T/bad.trace"; contains "$T/err" "bad.trace:2"
ok "malformed trace lines exit 1 and name the line"

C=$SHARED/corpus/qemu-7.2/sessions
if [ -d "$C" ]; then
    n=0
    for f in "$C"/*.jsonl; do
        "$CAT" --indent "$f" > /dev/null 2>"$T/err" || fail "$f: $(cat "$T/err")"
        n=$((n + 1))
    done
    "$CAT" --no-times "$C/s6_multi_monitor.jsonl" > "$T/s6"
    contains "$T/s6" 'B -> #2 {"execute":"job-complete","arguments":{"id":"j"},"id":"fromB"}'
    ok "all $n corpus recordings print"
else
    echo "skip: no corpus at $C"
fi
echo "all qmp-cat checks passed"
