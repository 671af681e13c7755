#!/usr/bin/env bash
# qmp-lint's behaviour and exit codes, checked on the real binary.
set -u
lint=$1
shared=${2:-}
pass=0 fail=0

# expect NAME WANT_RC WANT_STDOUT -- ARGS... (stdin from $input)
expect() {
    local name=$1 want_rc=$2 want_out=$3
    shift 4
    local out rc
    out=$(printf '%b' "$input" | "$lint" "$@" 2>/dev/null)
    rc=$?
    if [ "$rc" = "$want_rc" ] && [ "$out" = "$want_out" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        printf 'FAIL %s\n  rc %s (want %s)\n  got:\n%s\n  want:\n%s\n' "$name" "$rc" "$want_rc" "$out" "$want_out"
    fi
}

input='{"execute":"qmp_capabilities","id":1}\r\n{"return": {}, "id": 1}\r\n'
expect "a clean exchange exits 0 and prints kinds" 0 \
'{"offset": 0, "index": 0, "kind": "command"}
{"offset": 39, "index": 1, "kind": "return"}' -- --json

input='{"return": {}, "id": 7}\n'
expect "a reply with an unknown id is a problem" 1 \
'{"offset": 0, "index": 0, "kind": "return"}
{"offset": 0, "index": 0, "error": "reply id matches no earlier command"}' -- --json

input='{"execute":"x","id":1.0}{"return": 5, "id": 1}'
expect "ids match semantically" 0 \
'{"offset": 0, "index": 0, "kind": "command"}
{"offset": 24, "index": 1, "kind": "return"}' -- --json

input='[1]\n{"execute":"x","bogus":1}'
expect "values that are no QMP message carry their envelope problem" 1 \
'{"offset": 0, "index": 0, "kind": "value"}
{"offset": 0, "index": 0, "error": "QMP input must be a JSON object"}
{"offset": 4, "index": 1, "kind": "value"}
{"offset": 19, "index": 1, "error": "QMP input member '"'"'bogus'"'"' is unexpected"}' -- --json

input='\xff{]\n{"a":'
expect "JSON errors have QEMU's text and an open message is incomplete" 1 \
'{"offset": 0, "index": 0, "error": "JSON parse error, stray '"'"'\uFFFD'"'"'"}
{"offset": 2, "index": 1, "error": "JSON parse error, expecting value"}
{"offset": 9, "index": 2, "error": "incomplete"}' -- --json

input="{'execute':'x'}"
expect "single quotes are QEMU dialect" 0 '{"offset": 0, "index": 0, "kind": "command"}' -- --json
expect "and stray in the RFC dialect" 1 \
'{"offset": 1, "index": 0, "error": "JSON parse error, stray '"'"''"'"''"'"'"}
{"offset": 10, "index": 1, "error": "JSON parse error, expecting value"}
{"offset": 11, "index": 2, "error": "JSON parse error, stray '"'"''"'"''"'"'"}
{"offset": 14, "index": 3, "error": "JSON parse error, expecting value"}' -- --json --dialect rfc
input='{"exec-oob":"migrate-pause"}'
expect "exec-oob is unexpected until OOB is negotiated" 1 \
'{"offset": 0, "index": 0, "kind": "value"}
{"offset": 1, "index": 0, "error": "QMP input member '"'"'exec-oob'"'"' is unexpected"}' -- --json
input='{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}{"exec-oob":"migrate-pause"}'
expect "and a command after negotiating it" 0 \
'{"offset": 0, "index": 0, "kind": "command"}
{"offset": 61, "index": 1, "kind": "oob-command"}' -- --json

input='{}'
expect "human output names the file, offset, index and error" 1 \
"<stdin>:0: message 0: QMP input lacks member 'execute' (QMPK_E_LACKS_EXECUTE)" --
input=''
expect "an unknown option is a usage error" 2 '' -- --frobnicate
expect "a missing file is an I/O error" 2 '' -- /nonexistent/file
expect "a bad dialect is a usage error" 2 '' -- --dialect json5

# --format trace: both directions of each monitor (files written here)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/greet" <<'TRACE'
{"t": 0, "mon": 0, "dir": "out", "data": "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"}
TRACE
cat > "$tmp/caps" <<'TRACE'
{"t": 0, "mon": 0, "dir": "in", "data": "{\"execute\":\"qmp_capabilities\"}"}
{"t": 0, "mon": 0, "dir": "out", "data": "{\"return\": {}}\r\n"}
TRACE
cat "$tmp/greet" "$tmp/caps" - > "$tmp/overtake" <<'TRACE'
{"t": 0, "mon": 0, "dir": "in", "data": "{\"execute\":\"a\",\"id\":1}{\"execute\":\"b\",\"id\":2}"}
{"t": 0, "mon": 0, "dir": "out", "data": "{\"return\": {}, \"id\": 2}\r\n{\"return\": {}, \"id\": 1}\r\n"}
TRACE
cat "$tmp/greet" - "$tmp/caps" > "$tmp/early-event" <<'TRACE'
{"t": 0, "mon": 0, "dir": "out", "data": "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}\r\n"}
TRACE
cat "$tmp/greet" - > "$tmp/lf" <<'TRACE'
{"t": 0, "mon": 0, "dir": "in", "data": "{\"execute\":\"qmp_capabilities\"}"}
{"t": 0, "mon": 0, "dir": "out", "data": "{\"return\": {}}\n"}
TRACE
cat "$tmp/greet" "$tmp/caps" > "$tmp/clean"
input=''
expect "trace: an in-band reply that overtakes another without OOB is a problem" 1 \
"$tmp/overtake: monitor 0 out:126: message 2: reply overtakes an earlier in-band request without OOB" -- --format trace "$tmp/overtake"
expect "trace: an event before negotiation is a problem" 1 \
"$tmp/early-event: monitor 0 out:110: message 1: event before capabilities negotiation completed" -- --format trace "$tmp/early-event"
expect "trace: a server message without CRLF is a problem" 1 \
"$tmp/lf: monitor 0 out:124: message 1: server message not followed by CRLF" -- --format trace "$tmp/lf"
expect "trace: a clean negotiation is clean" 0 \
'{"offset": 0, "index": 0, "mon": 0, "dir": "out", "kind": "greeting"}
{"offset": 0, "index": 0, "mon": 0, "dir": "in", "kind": "command"}
{"offset": 110, "index": 1, "mon": 0, "dir": "out", "kind": "return"}' -- --format trace --json "$tmp/clean"

# A client must ignore members it does not know (qmp-spec.rst's
# compatibility rules): a reply, an error and an event with members QEMU 7.2
# does not send are still a reply, an error and an event, paired and clean.
cat "$tmp/greet" - > "$tmp/extra" <<'TRACE'
{"t": 0, "mon": 0, "dir": "in", "data": "{\"execute\":\"qmp_capabilities\",\"id\":1}{\"execute\":\"x\",\"id\":2}"}
{"t": 0, "mon": 0, "dir": "out", "data": "{\"return\": {}, \"id\": 1, \"x-new\": true}\r\n{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2, \"nanoseconds\": 3}, \"event\": \"STOP\", \"x-new\": 1}\r\n{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\", \"x-hint\": \"h\"}, \"id\": 2}\r\n"}
TRACE
expect "trace: unknown members in server messages are read as a client reads them" 0 \
'{"offset": 0, "index": 0, "mon": 0, "dir": "out", "kind": "greeting"}
{"offset": 0, "index": 0, "mon": 0, "dir": "in", "kind": "command"}
{"offset": 37, "index": 1, "mon": 0, "dir": "in", "kind": "command"}
{"offset": 110, "index": 1, "mon": 0, "dir": "out", "kind": "return"}
{"offset": 150, "index": 2, "mon": 0, "dir": "out", "kind": "event"}
{"offset": 247, "index": 3, "mon": 0, "dir": "out", "kind": "error"}' -- --format trace --json "$tmp/extra"

if [ -n "$shared" ] && [ -d "$shared/corpus/qemu-7.2/sessions" ]; then
    for s in s4_oob_overtake s6_multi_monitor s5_mirror_manual s3_split_1byte; do
        input=''
        expect "QEMU's recorded $s is clean" 0 '' -- --format trace "$shared/corpus/qemu-7.2/sessions/$s.jsonl"
    done
    input=''
    expect "QEMU's inf in s2_float_ids is found" 1 \
"$shared/corpus/qemu-7.2/sessions/s2_float_ids.jsonl: monitor 0 out:485: message 5: JSON parse error, invalid keyword 'inf' (QMPK_E_INVALID_KEYWORD)" \
        -- --format trace "$shared/corpus/qemu-7.2/sessions/s2_float_ids.jsonl"
fi

if [ -n "$shared" ] && [ -d "$shared/corpus/libvirt-replies" ]; then
    for f in "$shared"/corpus/libvirt-replies/caps_*.replies; do
        input=''
        expect "libvirt's $(basename "$f") is clean" 0 '' -- --format replies "$f"
    done
    for f in "$shared"/corpus/qemu-7.2/payloads/*.json; do
        input=''
        expect "payload $(basename "$f") is clean" 0 '' -- "$f"
    done
else
    echo "SKIP corpus files (../shared/corpus not found)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
