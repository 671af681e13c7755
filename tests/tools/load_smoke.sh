#!/bin/bash
# One second of bench/refd_load against qmp-refd, 8 clients: the benchmark
# client keeps working and the server answers under load.
REFD=$1 LOAD=$2
. "$(dirname "$0")/lib.sh"
start_refd "$T/s"
"$LOAD" -c 8 -t 1 "$T/s" > "$T/out" || fail "refd_load: $(cat "$T/out")"
cat "$T/out"
grep -q 'round trips/s' "$T/out" || fail "no rate printed"
