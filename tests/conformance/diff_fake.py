#!/usr/bin/env python3
"""A QMP server whose variable values are chosen on the command line, so that
`qmp-conform server --diff` can be shown to mask them (versions, package,
job progress, generated node names, timestamps) and still report a real
difference (the run state).

usage: diff_fake.py MICRO PACKAGE OFFSET NODE STATUS SOCKET
"""
import json
import sys
import time

from fake_qmp import requests, serve_unix

COMMANDS = ["qmp_capabilities", "query-commands", "query-version",
            "query-status", "query-block-jobs"]


def main():
    micro, package, offset, node, status, path = sys.argv[1:7]
    version = {"qemu": {"micro": int(micro), "minor": 2, "major": 7},
               "package": package}
    replies = {
        "qmp_capabilities": {},
        "query-commands": [{"name": c} for c in COMMANDS],
        "query-version": version,
        "query-status": {"running": status == "running", "status": status},
        "query-block-jobs": [{"device": node, "type": "stream", "busy": False,
                              "offset": int(offset), "len": 2 * int(offset) + 1,
                              "speed": 0, "ready": False, "paused": False,
                              "io-status": "ok", "status": "running",
                              "auto-finalize": True, "auto-dismiss": True}],
    }
    serve_unix(path, lambda conn, _n: serve(conn, version, replies))


def send(conn, obj):
    conn.sendall(json.dumps(obj).encode() + b"\r\n")


def serve(conn, version, replies):
    send(conn, {"QMP": {"version": version, "capabilities": ["oob"]}})
    for req in requests(conn):
        cmd = req.get("execute", "")
        r = {"return": replies.get(cmd, {})}
        if "id" in req:
            r["id"] = req["id"]
        send(conn, r)
        if cmd == "query-block-jobs":
            now = time.time()
            send(conn, {"event": "JOB_STATUS_CHANGE",
                        "data": {"id": replies[cmd][0]["device"], "status": "running"},
                        "timestamp": {"seconds": int(now),
                                      "microseconds": int(now * 1e6) % 1000000}})


if __name__ == "__main__":
    main()
