#!/bin/sh
# dir_check.sh QMP_CONFORM PYTHON3 FAKE CASE_FILE
# {dir} in a case's send lines (conformance/README.md): under a $TMPDIR
# holding '"', '\' and a space (JSON-escaped, or the message breaks), each
# run of the case at each chunking gets its own private directory, the
# --exec template's {dir}; with --connect one the runner makes; every one is
# gone afterwards with the files, tree and link the case made in it (the
# link's target, outside, stays).  A case that uses {dir} without
# 'isolation: process' does not load.
set -u
qc=$1 py=$2 fake=$3 case=$4
top=$(mktemp -d "${TMPDIR:-/tmp}/dir-check.XXXXXX") || exit 2
trap 'rm -rf "$top"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
tmp="$top/t\"q\\b s"
mkdir "$tmp" "$top/outside" && : >"$top/outside/keep" || exit 2
status=0
fail() { echo "dir_check: $*"; status=1; }

# --exec: the template's {dir} is the case's
TMPDIR=$tmp "$qc" server --exec "$py $fake '{socket}' '{dir}' '$top/exec.log'" \
    --suite "$case" >"$top/out" 2>&1
rc=$?
cat "$top/out"
[ "$rc" -eq 0 ] || fail "--exec: exit status $rc, expected 0"
grep -q 'PASS 1$' "$top/out" || fail "--exec: the case did not pass"
[ "$(wc -l <"$top/exec.log")" -eq 3 ] || fail "--exec: expected one check per chunking"
[ "$(sort -u "$top/exec.log" | wc -l)" -eq 3 ] || fail "--exec: a directory was reused"

# --connect: a server started here; the runner makes and removes the dir
sock="$top/c.sock"
"$py" "$fake" "$sock" - "$top/connect.log" &
pid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
TMPDIR=$tmp "$qc" server --connect "$sock" --suite "$case" >"$top/out" 2>&1
rc=$?
cat "$top/out"
[ "$rc" -eq 0 ] || fail "--connect: exit status $rc, expected 0"
[ "$(sort -u "$top/connect.log" | wc -l)" -eq 3 ] || fail "--connect: expected 3 directories"

while read -r d; do
    case $d in
    "$tmp"/qmp-conform.*) ;;
    *) fail "not under \$TMPDIR: $d" ;;
    esac
    [ -e "$d" ] && fail "left behind: $d"
done <<LIST
$(cat "$top/exec.log" "$top/connect.log")
LIST
[ -f "$top/outside/keep" ] || fail "a link out of {dir} was followed: outside/keep is gone"
left=$(ls -A "$tmp")
[ -z "$left" ] || fail "left in \$TMPDIR: $left"

# {dir} needs a fresh process per run
sed '/^isolation:/d' "$case" >"$top/shared.qmpt"
out=$("$qc" list --suite "$top/shared.qmpt" 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 2 ] || fail "a {dir} case without isolation: process loaded (exit $rc)"
echo "$out" | grep -q "needs 'isolation: process'" || fail "no clear load error"
exit $status
