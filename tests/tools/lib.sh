# Shared helpers for the tools' shell tests (sourced).  Each test script
# gets the binaries as arguments and exits 0 pass, 1 fail, 77 skip.
set -u
T=$(mktemp -d /tmp/qmpk-tools-test.XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
# expect_rc WANT CMD...: run CMD, check its exit status
expect_rc() {
    local want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ "$rc" = "$want" ] || fail "exit $rc (wanted $want): $* -- stderr: $(head -c 400 "$T/err")"
}
# wait_sock PATH: until something listens there (5 s)
wait_sock() {
    for _ in $(seq 1 500); do
        [ -S "$1" ] && return 0
        sleep 0.01
    done
    fail "nothing listens on $1"
}
# start_refd SOCK ARGS...: qmp-refd in the background
start_refd() {
    local sock=$1; shift
    "$REFD" --socket "$sock" --quiet "$@" 2>>"$T/refd.err" &
    PIDS="$PIDS $!"
    LAST_PID=$!
    wait_sock "$sock"
    sleep 0.05
}
# contains FILE TEXT
contains() { grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 600 "$1")"; }
lacks() { ! grep -qF -- "$2" "$1" || fail "$1 has '$2'"; }
