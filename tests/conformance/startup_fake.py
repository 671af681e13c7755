#!/usr/bin/env python3
"""A tiny QMP server that misbehaves the way QEMU 7.2 does when a client
races its start-up (docs/CONFORMANCE.md, "Startup race"), or the way a
broken server does in the middle of a case, so that qmp-conform's handling
of both can be tested deterministically.

usage: startup_fake.py MODE STATE_DIR SOCKET

STATE_DIR/starts counts the processes started so far; "first" modes
misbehave only in the first process.  Commands other than the runner's own
(qmp_capabilities, query-commands, query-version) are "case" commands.

MODE
  double-greeting-first  process 1 greets its first connection twice
  double-greeting:K      processes 1 to K do that
  crash-on-connection:N  process 1 dies of SIGSEGV when it accepts its Nth
                         connection (the warm-up makes 2 per socket)
  crash-first            process 1 dies of SIGSEGV on the first case command
  crash-always           every process does that
  crash-mid-case         dies of SIGSEGV on the second case command
  close-mid-case         closes the connection on the second case command
"""
import json
import os
import signal
import sys

from fake_qmp import requests, serve_unix

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},
                                "package": ""}, "capabilities": []}}
COMMANDS = ["qmp_capabilities", "query-commands", "query-version", "query-status"]


def count_start(state):
    path = os.path.join(state, "starts")
    try:
        with open(path) as f:
            n = int(f.read() or "0")
    except FileNotFoundError:
        n = 0
    n += 1
    with open(path, "w") as f:
        f.write(str(n))
    return n


def send(conn, obj):
    conn.sendall(json.dumps(obj).encode() + b"\r\n")


def reply(cmd, req):
    if cmd == "query-commands":
        ret = [{"name": c} for c in COMMANDS]
    elif cmd == "query-version":
        ret = GREETING["QMP"]["version"]
    elif cmd == "query-status":
        ret = {"running": True, "status": "running"}
    else:
        ret = {}
    r = {"return": ret}
    if "id" in req:
        r["id"] = req["id"]
    return r


def serve(conn, mode, start, first_conn, state):
    """One connection; state counts case commands across connections."""
    send(conn, GREETING)
    twice = 1 if mode == "double-greeting-first" else 0
    if mode.startswith("double-greeting:"):
        twice = int(mode.split(":")[1])
    if first_conn and start <= twice:
        send(conn, GREETING)
    for req in requests(conn):
        cmd = req.get("execute", "")
        if cmd not in ("qmp_capabilities", "query-commands", "query-version"):
            state["case"] += 1
            n = state["case"]
            crash = ((mode == "crash-always" and n == 1) or
                     (mode == "crash-first" and n == 1 and start == 1) or
                     (mode == "crash-mid-case" and n == 2))
            if crash:
                os.kill(os.getpid(), signal.SIGSEGV)
            if mode == "close-mid-case" and n == 2:
                return
        send(conn, reply(cmd, req))


def main():
    mode, state_dir, path = sys.argv[1:4]
    start = count_start(state_dir)
    signal.signal(signal.SIGSEGV, signal.SIG_DFL)
    state = {"case": 0}
    crash_at = int(mode.split(":")[1]) if mode.startswith("crash-on-connection:") else 0

    def one(conn, n):
        if start == 1 and n == crash_at:
            os.kill(os.getpid(), signal.SIGSEGV)
        serve(conn, mode, start, n == 1, state)

    serve_unix(path, one)


if __name__ == "__main__":
    main()
