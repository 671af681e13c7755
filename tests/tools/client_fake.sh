#!/bin/bash
# qmp-client against a scripted server that does what real servers and
# networks may do: events before the greeting and between commands and
# replies, replies out of order and several per write, a 1 MiB reply, an
# unknown id, every message split into 1-7 byte writes.
CLIENT=$1 FAKE=$2
. "$(dirname "$0")/lib.sh"
big=$(head -c 1048576 /dev/zero | tr '\0' 'x')
ev() { printf '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "%s"}' "$1"; }
{
    ev EARLY; printf '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob", "async"]}}\n'
    ev DURING; printf '{"return": {}}\n'
    ev MID; printf '\n'
    printf '{"return": "B", "id": 2}{"return": {"huge": "%s"}, "id": 1.0}\n' "$big"
    printf '{"return": 0, "id": 99}'; ev LATE; printf '{"error": {"class": "GenericError", "desc": "C failed"}}\n'
} > "$T/script"
"$FAKE" "$T/s" "$T/script" & PIDS="$PIDS $!"
wait_sock "$T/s"
printf '&{"execute": "a", "id": 1}\n&{"execute": "b", "id": 2}\n&{"execute": "c"}\n.wait\n' > "$T/cmds"
expect_rc 0 "$CLIENT" --caps async --adapter "$T/s" "$T/cmds"
order=$(grep -o '"type": "[a-z]*"\|"event": "[A-Z]*"\|"seq": [0-9]' "$T/out" | tr '\n' ' ')
want='"type": "event" "event": "EARLY" "event": "EARLY" "type": "greeting" "type": "event" "event": "DURING" "event": "DURING" "type": "return" "seq": 0 "type": "event" "event": "MID" "event": "MID" "type": "return" "seq": 2 "type": "return" "seq": 1 "type": "unmatched" "type": "event" "event": "LATE" "event": "LATE" "type": "error" "seq": 3 '
[ "$order" = "$want" ] || fail "wrong order or pairing: $order"
contains "$T/out" '"command": "a", "id": 1, "msg": {"return": {"huge": "xxxx'
[ "$(grep '"command": "a"' "$T/out" | wc -c)" -gt 1048576 ] || fail "1 MiB reply truncated"
ok "events anywhere, out-of-order replies (id 1.0 pairs with 1), 1 MiB reply, unknown id, 1-7 byte writes"
