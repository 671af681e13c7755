#!/bin/sh
# startup_check.sh QMP_CONFORM PYTHON3 FAKE CASE_FILE MODE RC STARTS OUT_RE JSON_RE [NO_JSON_RE]
# Runs CASE_FILE against startup_fake.py in MODE; qmp-conform must exit RC
# after starting STARTS server processes, print a line matching OUT_RE, log
# a note matching JSON_RE in the case's JSON report ("-": not checked) and
# no note matching NO_JSON_RE.
set -u
qc=$1 py=$2 fake=$3 case=$4 mode=$5 rc_want=$6 starts_want=$7 out_re=$8 json_re=$9
no_json_re=${10:-}
dir=$(mktemp -d "${TMPDIR:-/tmp}/startup-check.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
"$qc" server --exec "$py $fake $mode $dir {socket}" --suite "$case" \
    --chunkings whole --json "$dir/json" >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
status=0
if [ "$rc" -ne "$rc_want" ]; then
    echo "startup_check: exit status $rc, expected $rc_want"; status=1
fi
if ! grep -Eq "$out_re" "$dir/out"; then
    echo "startup_check: no output line matches: $out_re"; status=1
fi
notes=$(cat "$dir"/json/cases/*.json 2>/dev/null)
if [ "$json_re" != "-" ] && ! printf '%s' "$notes" | grep -Eq "$json_re"; then
    echo "startup_check: the case log has no note matching: $json_re"; status=1
fi
if [ -n "$no_json_re" ] && printf '%s' "$notes" | grep -Eq "$no_json_re"; then
    echo "startup_check: the case log has a note matching: $no_json_re"; status=1
fi
starts=$(cat "$dir/starts")
echo "startup_check: $starts server process(es) started"
if [ "$starts" -ne "$starts_want" ]; then
    echo "startup_check: expected $starts_want"; status=1
fi
exit $status
