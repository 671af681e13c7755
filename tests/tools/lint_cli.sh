#!/bin/bash
# qmp-lint exit codes over several files: an unreadable file is exit 2
# whatever the order, and the summary says it was not checked.
LINT=$1
. "$(dirname "$0")/lib.sh"

printf '{"a":}' > "$T/bad.json"
printf '{"execute": "query-status"}\r\n' > "$T/good.json"
expect_rc 0 "$LINT" "$T/good.json"; contains "$T/err" "1 messages, 0 problems"
lacks "$T/err" "not checked"
expect_rc 1 "$LINT" "$T/good.json" "$T/bad.json"
for order in "$T/none.json $T/bad.json" "$T/bad.json $T/none.json"; do
    # shellcheck disable=SC2086
    expect_rc 2 "$LINT" $order
    contains "$T/err" "cannot open '$T/none.json'"
    contains "$T/err" "1 file not checked"
done
ok "an unreadable file is exit 2 in any position, problems in the others still reported"
