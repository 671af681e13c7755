#!/bin/bash
# Every tool under valgrind: no memory errors, no leaks, no fd left open.
REFD=$1 CLIENT=$2 CAT=$3 PROXY=$4
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --track-fds=yes"

S=$T/v.sock
$VG --log-file="$T/refd.vg" "$REFD" --socket "$S" --quiet --profile extended --trace "$T/v.trace" & R=$!; PIDS="$PIDS $R"
for _ in $(seq 1 1000); do [ -S "$S" ] && break; sleep 0.02; done
[ -S "$S" ] || fail "qmp-refd under valgrind did not start"
printf 'query-status\n&{"execute": "x-delay", "arguments": {"ms": 30}, "id": 1}\n.raw "\\u00ff{\\"a\\n"\n.wait\nstop\ncont\n' > "$T/s"
$VG --log-file="$T/client.vg" "$CLIENT" --caps async --adapter "$S" "$T/s" > "$T/client.out" ||
    fail "qmp-client under valgrind: $(cat "$T/client.vg")"
P=$T/p.sock
$VG --log-file="$T/proxy.vg" "$PROXY" --listen "$P" --connect "$S" --split 3 --inject-between --hold-oob 20 --once --quiet & X=$!
for _ in $(seq 1 1000); do [ -S "$P" ] && break; sleep 0.02; done
"$CLIENT" --caps oob -s "$P" -c query-status -c '{"exec-oob": "query-yank", "id": "o"}' > /dev/null || fail "client via proxy"
wait $X || fail "qmp-proxy under valgrind: $(cat "$T/proxy.vg")"
"$CLIENT" -s "$S" quit > /dev/null
wait $R || fail "qmp-refd under valgrind: $(cat "$T/refd.vg")"
$VG --log-file="$T/cat.vg" "$CAT" --indent "$T/v.trace" > /dev/null || fail "qmp-cat under valgrind: $(cat "$T/cat.vg")"
$VG --log-file="$T/replay.vg" "$REFD" --replay "$T/v.trace" --quiet || fail "replay under valgrind: $(cat "$T/replay.vg")"
# fds the tool opened and did not close (inherited ones are the shell's)
for f in "$T"/*.vg; do
    awk '/Open (file descriptor|AF_UNIX socket|AF_INET)/ { open = $0; next }
         open != "" { if ($0 !~ /inherited from parent/) { print open; bad = 1 } open = "" }
         END { exit bad }' "$f" || fail "$(basename "$f") leaks fds: $(cat "$f")"
    grep -v -e 'FILE DESCRIPTORS' -e 'Open ' -e 'inherited from parent' -e '^==[0-9]*== *$' "$f" |
        grep -q . && fail "$(basename "$f"): $(cat "$f")"
done
echo "ok - qmp-refd, qmp-client, qmp-proxy, qmp-cat and replay are valgrind-clean"
