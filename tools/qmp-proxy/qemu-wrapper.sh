#!/bin/sh
# qemu-wrapper.sh: put qmp-proxy in front of a real QEMU that someone else
# starts, e.g. libvirt.  Point the domain's <emulator> at this script (or a
# copy with QMP_PROXY_* set inside); it rewrites the QMP monitor chardev so
# that QEMU listens on a private socket, starts qmp-proxy on the socket (or
# the pre-opened fd) the caller gave, then execs QEMU in its own place, so
# the caller still sees QEMU's pid.  Every session is recorded as a trace
# that qmp-cat, qmp-lint and qmp-conform read.
#
#   QMP_PROXY_QEMU      the real binary (default /usr/bin/qemu-system-x86_64)
#   QMP_PROXY           the qmp-proxy binary (default: qmp-proxy on PATH)
#   QMP_PROXY_DIR       where traces and the private socket go (default /tmp)
#   QMP_PROXY_ARGS      extra qmp-proxy options, e.g. "--split 1 --inject-between"
#   QMP_PROXY_MONITOR   chardev id of the monitor (default charmonitor, libvirt's)
set -euf
QEMU=${QMP_PROXY_QEMU:-/usr/bin/qemu-system-x86_64}
PROXY=${QMP_PROXY:-qmp-proxy}
DIR=${QMP_PROXY_DIR:-/tmp}
MON=${QMP_PROXY_MONITOR:-charmonitor}
PRIV=$DIR/qmp-proxy-$$.sock
listen=""

# Rewrite "-chardev socket,id=MON,path=P|fd=N,…" to QEMU's private path
# (in this shell, not a subshell: it also sets $listen).
rewrite() {
    old_ifs=$IFS; IFS=,; out=""
    for kv in $1; do
        case $kv in
        path=*) listen="--listen ${kv#path=}"; kv="path=$PRIV" ;;
        fd=*) listen="--listen-fd ${kv#fd=}"; kv="path=$PRIV" ;;
        esac
        out=${out:+$out,}$kv
    done
    IFS=$old_ifs
}

n=$#; i=0; prev=""
while [ $i -lt $n ]; do
    a=$1; shift; i=$((i + 1))
    if [ "$prev" = -chardev ]; then
        case ",$a," in *",id=$MON,"*) rewrite "$a"; a=$out ;; esac
    fi
    set -- "$@" "$a"; prev=$a
done

if [ -n "$listen" ]; then
    # shellcheck disable=SC2086  # word splitting of the option strings is wanted
    "$PROXY" $listen --connect "$PRIV" --trace "$DIR/qmp-proxy-$$.trace" \
        --watch-pid $$ --quiet ${QMP_PROXY_ARGS:-} &
fi
exec "$QEMU" "$@"
