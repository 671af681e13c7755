#!/bin/sh
# cli_errors.sh QMP_CONFORM CASES_DIR
# A user's mistakes: each must exit 2 with a message that names the mistake
# (stderr), never run zero cases and report success.
set -u
qc=$1 cases=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/cli-errors.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
printf '# 1.1-01 bad\nrequirement: MUST x\n-> {"execute": "query-status"}\n<- {"return": \n' > "$dir/bad.qmpt"
pass=0 fail=0
expect() {  # NAME REGEX ARGS...
    name=$1 re=$2
    shift 2
    out=$(timeout 60 "$qc" "$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 2 ] && printf '%s\n' "$out" | grep -Eq -- "$re"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: exit $rc, wanted 2 and /$re/; output:"
        printf '%s\n' "$out" | head -5
    fi
}
one="--suite $cases --cases 1.1-01"
expect "no arguments" '^usage: qmp-conform'
expect "unknown command" "unknown command 'bogus'" bogus
expect "server without a target" 'needs --connect PATH or --exec CMD' server
expect "unknown flag" 'unknown argument --bogus' server --bogus
expect "flag without its value" '--junit needs a value' server --exec 'true {socket}' --junit
expect "both targets" 'give --connect or --exec, not both' server --connect "$dir/s" --exec 'true {socket}'
expect "unknown profile" 'unknown profile bogus' server --exec 'true {socket}' --profile bogus
expect "unknown chunking" '--chunkings takes whole,byte,random' server --exec 'true {socket}' --chunkings bogus
expect "--diff with one command" '--diff needs two commands' server --diff 'true {socket}'
expect "socket that does not exist" "connect $dir/nope.sock: No such file or directory" \
    server --connect "$dir/nope.sock" $one
expect "missing --exec binary" 'exit status 127: command not found\): sh: .*/no/such/qemu: not found' \
    server --exec "$dir/no/such/qemu {socket}" $one
expect "--exec that exits at once" 'server exited before creating .*m0.sock \(exit status 3\): unknown option --x \| see --help' \
    server --exec "sh -c 'echo unknown option --x >&2; echo see --help >&2; exit 3' {socket}" $one
expect "--exec that crashes at once" 'server exited before creating .*\(died of signal 11\)' \
    server --exec "sh -c 'kill -SEGV \$\$' {socket}" $one
expect "--exec without {socket}" 'has no \{socket\} placeholder' server --exec 'true' $one
expect "malformed case file" 'bad.qmpt:4: expected JSON' server --exec 'true {socket}' --suite "$dir/bad.qmpt"
expect "malformed case file (list)" 'bad.qmpt:4: expected JSON' list --suite "$dir/bad.qmpt"
# CF_DECODED_MAX_BYTES (64 MiB: the 67108849 x, the y and the 14 bytes of
# the pattern) at N: loads; at N+1, and for nested
# repetitions asking for 4 GiB, a clear error before anything is allocated
printf '# 1.1-01 big\nrequirement: MUST x\n-> \\*67108849{x}\n-> y\n<- {"return": {}}\n' > "$dir/n.qmpt"
printf '# 1.1-01 big\nrequirement: MUST x\n-> \\*67108849{x}\n-> yz\n<- {"return": {}}\n' > "$dir/n1.qmpt"
printf '# 1.1-01 bomb\nrequirement: MUST x\n-> \\*65536{\\*65536{x}}\n' > "$dir/bomb.qmpt"
if timeout 60 "$qc" list --suite "$dir/n.qmpt" > /dev/null 2>&1; then
    pass=$((pass + 1))
else
    fail=$((fail + 1))
    echo "FAIL a suite decoding to exactly CF_DECODED_MAX_BYTES did not load"
fi
expect "suite decoding past its bound" "n1.qmpt:5: the line decodes to more than the 13 bytes left of the suite's bound \\(CF_DECODED_MAX_BYTES, 64 MiB\\)" \
    list --suite "$dir/n1.qmpt"
expect "nested repetition bomb" "bomb.qmpt:3: .\\*65536\\{...\\} decodes to more than the 67108864 bytes left" \
    list --suite "$dir/bomb.qmpt"
expect "suite that does not exist" "$dir/none: No such file or directory" server --exec 'true {socket}' --suite "$dir/none"
expect "--cases matching nothing" "--cases 'zzz\*' matches no case" server --exec 'true {socket}' --suite "$cases" --cases 'zzz*'
expect "--cases matching nothing (client)" "--cases 'zzz\*' matches no case" client --exec 'true {socket} {script}' --cases 'zzz*'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
