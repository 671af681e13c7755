#!/bin/sh
# diff_check.sh QMP_CONFORM PYTHON3 FAKE CASE_FILE
# `qmp-conform server --diff` against two diff_fake.py servers:
#  1. they differ only in values that vary between correct servers (QEMU
#     micro version, package, job offset and len, generated node name,
#     timestamps): no difference reported, exit 0;
#  2. they also differ in the run state: that one difference is reported
#     (the status line, and only it), exit 1.
set -u
qc=$1 py=$2 fake=$3 case=$4
status=0
fail() { echo "diff_check: $*"; status=1; }

out=$("$qc" server --diff "$py $fake 0 'Debian 1:7.2+dfsg-7' 1048576 '#block098' running {socket}" \
                         "$py $fake 22 '' 2097152 '#block004' running {socket}" \
                         --suite "$case" 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || fail "masked values only: exit $rc, expected 0"
echo "$out" | grep -q '^diff: 0 of 1 cases differ$' || fail "masked values only: a difference was reported"

out=$("$qc" server --diff "$py $fake 0 'Debian 1:7.2+dfsg-7' 1048576 '#block098' running {socket}" \
                         "$py $fake 22 '' 2097152 '#block004' paused {socket}" \
                         --suite "$case" 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 1 ] || fail "real difference: exit $rc, expected 1"
echo "$out" | grep -q '^diff: 1 of 1 cases differ$' || fail "real difference: not counted"
echo "$out" | grep -q '^  + B .*"status": "paused"' || fail "real difference: the paused status is not shown"
[ "$(echo "$out" | grep -c '^  - A ')" -eq 1 ] || fail "real difference: expected exactly one differing line"
exit $status
