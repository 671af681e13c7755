#!/bin/bash
# qmp-conform from-trace: a session recorded by qmp-refd --trace (three
# monitors open at once, a job, events, errors, garbage and partial writes,
# quit) becomes a case that PASSes against a fresh qmp-refd and FAILs
# against a server that answers otherwise; broken traces are exit 2 with a
# sentence; the limits (10 monitors at once, 16 MiB per server message) at
# N and N+1.
CONFORM=$1 REFD=$2 CLIENT=$3 SHARED=${4:-}
. "$(dirname "$0")/lib.sh"

expect_rc 0 "$CONFORM" --help; contains "$T/out" "qmp-conform from-trace TRACE [--id ID]"
expect_rc 0 "$CONFORM" from-trace --help; contains "$T/out" "usage: qmp-conform from-trace"

# --- record ------------------------------------------------------------
start_refd "$T/s0" --clock manual --trace "$T/rec.trace"
cat > "$T/a" <<'EOF'
{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "src", "size": 1048576}, "id": "a1"}
{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "dst", "size": 1048576}, "id": "a2"}
.sleep 300
{"execute": "blockdev-mirror", "arguments": {"job-id": "job0", "device": "src", "target": "dst", "sync": "full"}, "id": "m"}
{"execute": "x-clock-step", "arguments": {"ms": 100}, "id": "step1"}
{"execute": "job-complete", "arguments": {"id": "job0"}, "id": "c"}
{"execute": "x-clock-step", "arguments": {"ms": 100}, "id": "step2"}
{"execute": "query-jobs", "id": "q"}
{"execute": "no-such-command", "id": "bad"}
.sleep 300
{"execute": "quit"}
EOF
cat > "$T/b" <<'EOF'
{"execute": "query-status", "id": "b1"}
.raw "{\"execute\": \"query-na"
.sleep 50
.raw "me\", \"id\": \"b2\"}\n}}\u00ff\n"
.sleep 400
.close
EOF
printf '{"execute": "query-version"}\n.sleep 3000\n' > "$T/c"
"$CLIENT" --adapter "$T/s0" "$T/a" > "$T/a.out" & A=$!
sleep 0.1
"$CLIENT" --adapter "$T/s0" "$T/b" > "$T/b.out" & B=$!
"$CLIENT" --adapter "$T/s0" "$T/c" > "$T/c.out" & C=$!
# B and C connect in either order: which of m1 and m2 is B's?
has() { grep -qE -- "$2" "$1" || fail "$1 has no line matching '$2': $(head -c 600 "$1")"; }
wait "$A" || fail "client A failed: $(cat "$T/a.out")"
wait "$B"; wait "$C"; wait "$LAST_PID"

# --- convert -------------------------------------------------------------
expect_rc 0 "$CONFORM" from-trace "$T/rec.trace" --id rec-01 --title "three monitors" -o "$T/rec.qmpt"
contains "$T/err" "case rec-01"
F=$T/rec.qmpt
contains "$F" "# rec-01 three monitors"
contains "$F" "recorded by qmp-refd --trace (--profile qemu-7.2 --clock manual)"
contains "$F" "m1 connect raw"
contains "$F" "m2 connect raw"
has "$F" '^m[12] -\+ \{"execute": "query-na$'          # a partial write stays partial
has "$F" '^m[12] -> \}\}\\x\{FF\}$'                    # garbage, byte for byte
contains "$F" "<- {\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}"
contains "$F" '"CommandNotFound"'
contains "$F" '"event": "BLOCK_JOB_COMPLETED", "timestamp": "$timestamp"'
contains "$F" '"len": "$number", "offset": "$number"'
contains "$F" '"version": {"package": "$string", "qemu": "$object"}'
has "$F" '^m[12] close$'                                # B closed: the client's close
contains "$F" "m0 eof"                                 # quit: the server closed
has "$F" '^m[12] eof$'                                  # and closed C
expect_rc 0 "$CONFORM" list --suite "$F"; contains "$T/out" "1 cases"
expect_rc 0 "$CONFORM" from-trace "$T/rec.trace"      # stdout, default id
contains "$T/out" "# trace-01 Replay of the session recorded in rec.trace"
ok "a qmp-refd trace converts: monitors, partial writes, garbage, patterns, eof/close"

# --- replay ------------------------------------------------------------
EXEC="$REFD --clock manual --socket {socket} --socket {socket1} --socket {socket2}"
expect_rc 0 "$CONFORM" server --exec "$EXEC" --suite "$F"
contains "$T/out" "PASS 1"
ok "the case PASSes against a fresh qmp-refd (whole, 1-byte and random writes)"
# the case can fail: without the manual clock there is no x-clock-step
expect_rc 1 "$CONFORM" server --exec "$REFD --socket {socket} --socket {socket1} --socket {socket2}" --suite "$F"
contains "$T/out" "FAIL 1"
contains "$T/out" "x-clock-step has not been found"
ok "and FAILs against a server that answers otherwise"

# --- broken traces: one sentence, exit 2 ---------------------------------
head -c 0 /dev/null > "$T/empty.trace"
expect_rc 2 "$CONFORM" from-trace "$T/empty.trace"; contains "$T/err" "nothing to replay"
expect_rc 2 "$CONFORM" from-trace "$T/none.trace"; contains "$T/err" "cannot read trace file"
{ head -n 5 "$T/rec.trace"; sed -n 6p "$T/rec.trace" | head -c 40; } > "$T/cut.trace"
expect_rc 2 "$CONFORM" from-trace "$T/cut.trace"; contains "$T/err" "cut.trace:6: the line ends inside a JSON value (a truncated trace?)"
{ head -n 3 "$T/rec.trace"; echo 'this is no trace line'; } > "$T/junk.trace"
expect_rc 2 "$CONFORM" from-trace "$T/junk.trace"; contains "$T/err" "junk.trace:4:"
printf '%s\n' '{"t": 0, "mon": 0, "dir": "connect"}' \
    '{"t": 0, "mon": 0, "dir": "out", "data": "{\"QMP\": {\"version\": "}' > "$T/half.trace"
expect_rc 2 "$CONFORM" from-trace "$T/half.trace"
contains "$T/err" "ends in the middle of a server message on connection 0"
printf '%s\n' "$(cat "$T/half.trace")" '{"t": 1, "mon": 0, "dir": "close", "by": "server"}' > "$T/half2.trace"
expect_rc 2 "$CONFORM" from-trace "$T/half2.trace"
contains "$T/err" "half2.trace:3: connection 0 closed in the middle of a server message"
printf '%s\n' '{"t": 0, "mon": 0, "dir": "out", "data": "{\"return\": {}}\r\n}{\r\n"}' > "$T/garbage.trace"
expect_rc 2 "$CONFORM" from-trace "$T/garbage.trace"
contains "$T/err" "garbage.trace:1: connection 0: the server sent bytes that are not JSON"
printf '%s\n' '{"t": 0, "mon": 0, "dir": "in", "len": 12}' > "$T/blind.trace"
expect_rc 2 "$CONFORM" from-trace "$T/blind.trace"; contains "$T/err" "without their 'data'"
printf '%s\n' '{"t": 0, "mon": 0, "dir": "sideways"}' > "$T/dir.trace"
expect_rc 2 "$CONFORM" from-trace "$T/dir.trace"; contains "$T/err" "a 'dir' of in, out"
for a in "" "--id" "$T/rec.trace --frob" "$T/rec.trace $T/rec.trace"; do
    # shellcheck disable=SC2086
    expect_rc 2 "$CONFORM" from-trace $a
    contains "$T/err" "usage: qmp-conform from-trace"
done
for id in "bad id-1" "x" "-x"; do
    expect_rc 2 "$CONFORM" from-trace --id "$id" "$T/rec.trace"; contains "$T/err" "--id must be SECTION-NN"
done
ok "empty, missing, cut, junk, half-message, non-JSON and data-less traces: exit 2 with the reason"

# --- limits: CF_MAX_MONITORS (10) connections open at once ----------------
greet='"data": "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, \"capabilities\": []}}\r\n"'
mk() {
    for i in $(seq 1 "$1"); do
        echo "{\"t\": 0, \"mon\": $((i + 100)), \"dir\": \"connect\"}"
        echo "{\"t\": 0, \"mon\": $((i + 100)), \"dir\": \"out\", $greet}"
    done
}
mk 10 > "$T/ten.trace"; mk 11 > "$T/eleven.trace"
expect_rc 0 "$CONFORM" from-trace "$T/ten.trace" -o "$T/ten.qmpt"
contains "$T/ten.qmpt" "m9 connect raw"
contains "$T/ten.qmpt" "monitors m0..m9 need --exec {socket} to {socket9}"
expect_rc 2 "$CONFORM" from-trace "$T/eleven.trace"
contains "$T/err" "eleven.trace:21: connection 111 would be the 11th open at once; a case has at most 10 monitors (m0..m9)"
# a closed connection frees its monitor: 11 in turn fit in one
{ mk 10; echo '{"t": 1, "mon": 101, "dir": "close"}'; mk 11 | tail -n 2; } > "$T/reuse.trace"
expect_rc 0 "$CONFORM" from-trace "$T/reuse.trace" -o "$T/reuse.qmpt"
[ "$(grep -c '^m0 connect raw' "$T/reuse.qmpt")" = 2 ] || fail "monitor m0 not reused: $(cat "$T/reuse.qmpt")"
contains "$T/reuse.qmpt" "m0 close"
ok "10 connections at once are m0..m9, an 11th is exit 2, a closed monitor is reused"

# --- limits: FT_MSG_BYTES (16 MiB) per server message; the values in one
# message are bounded by QEMU's 2^21 lexer tokens (at most 2^20 values) ---
python3 - "$T" <<'PY'
import json, sys
d = sys.argv[1]
def out(name, m):
    with open(f"{d}/{name}.trace", "w") as f:
        f.write(json.dumps({"t": 0, "mon": 0, "dir": "out", "data": m + "\r\n"}) + "\n")
def nbytes(n):
    return '{"return": "' + "A" * (n - 14) + '"}'
def nvalues(n):   # the object, its key, the array and n - 3 numbers
    return '{"return": [' + ",".join(["1"] * (n - 3)) + "]}"
out("bytes_n", nbytes(16 << 20)); out("bytes_n1", nbytes((16 << 20) + 1))
out("values_n", nvalues(1 << 20)); out("values_n1", nvalues((1 << 20) + 1))
PY
expect_rc 0 "$CONFORM" from-trace "$T/bytes_n.trace" -o "$T/bytes_n.qmpt"
expect_rc 0 "$CONFORM" list --suite "$T/bytes_n.qmpt"; contains "$T/out" "1 cases"
expect_rc 2 "$CONFORM" from-trace "$T/bytes_n1.trace"
contains "$T/err" "bytes_n1.trace:1: connection 0: a server message of more than 16777216 bytes (from byte 16777216 of its output)"
expect_rc 0 "$CONFORM" from-trace "$T/values_n.trace" -o "$T/values_n.qmpt"
expect_rc 2 "$CONFORM" from-trace "$T/values_n1.trace"
contains "$T/err" "the server sent a message beyond QEMU's JSON limits (JSON token count limit exceeded"
rm -f "$T"/bytes_n* "$T"/values_n*
ok "a 16 MiB server message converts, one byte more is exit 2; 2^20 values convert, one more is QEMU's limit"

# --- bytes a case line cannot hold as they are ---------------------------
# \x{41} and \*3{ would be escapes, \\ passes through, a final space, CR,
# TAB, NUL and 8-bit bytes; server strings that look like patterns
cat > "$T/bytes.trace" <<'EOF'
{"t": 0, "mon": 0, "dir": "in", "data": "a\\x{41} b\\*3{c} d\\\\x{42} \\ e\r\n\t\u0000\u0080\u00ff end \n{\"x\": 1} "}
{"t": 0, "mon": 0, "dir": "out", "data": "{\"return\": {\"s\": \"$int\", \"t\": \"$$x\", \"node-name\": \"#block123\", \"u\": \"\\u00e9\\\\x{41}\"}}\r\n"}
EOF
expect_rc 0 "$CONFORM" from-trace "$T/bytes.trace" -o "$T/bytes.qmpt"
contains "$T/bytes.qmpt" '-> a\x{5C}x{41} b\x{5C}*3{c} d\\x{42} \ e\x{0D}'
contains "$T/bytes.qmpt" '-> \x{09 00 80 FF} end\x{20}'
contains "$T/bytes.qmpt" '-+ {"x": 1}\x{20}'
contains "$T/bytes.qmpt" '"s": "$$int"'
contains "$T/bytes.qmpt" '"t": "$$$x"'
contains "$T/bytes.qmpt" '"node-name": "$re:^#block[0-9]+$"'
contains "$T/bytes.qmpt" '"u": "\u00E9\\x{41}"'
ok "escapes, control and 8-bit bytes, a final space and pattern-like strings round-trip"

# --- the QEMU recordings of the shared corpus (read in place) ------------
if [ -n "$SHARED" ] && [ -f "$SHARED/corpus/qemu-7.2/sessions/s6_multi_monitor.jsonl" ]; then
    expect_rc 0 "$CONFORM" from-trace "$SHARED/corpus/qemu-7.2/sessions/s6_multi_monitor.jsonl" -o "$T/s6.qmpt"
    contains "$T/s6.qmpt" "m1 connect raw"
    expect_rc 0 "$CONFORM" list --suite "$T/s6.qmpt"; contains "$T/out" "1 cases"
    ok "a corpus recording (conn labels, send/recv/eof) converts and loads"
fi
echo "all from-trace checks passed"
