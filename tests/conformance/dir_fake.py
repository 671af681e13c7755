#!/usr/bin/env python3
"""A QMP server that reports what a case's {dir} substitution gave it
(conformance/README.md, "Transcript"), for tests/conformance/dir_check.sh.

usage: dir_fake.py SOCKET DIR LOG

DIR is the --exec template's {dir}, or "-" when the test connects to a
fixed socket (--connect: the runner's own directory then).  For
x-dir-check {"path": P, "file": F} it creates the file F, a
subdirectory tree and a symbolic link to the directory "outside" beside LOG
in P (so that the runner must remove what a case left behind, links
unfollowed), appends P to LOG and replies
whether P is DIR, is a directory, is private (mode 0700) and F was made
inside it.
"""
import json
import os
import stat
import sys

from fake_qmp import requests, serve_unix

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},
                                "package": ""}, "capabilities": []}}
COMMANDS = ["qmp_capabilities", "query-commands", "query-version", "x-dir-check"]


def check(args, exec_dir, log):
    path, made = args.get("path", ""), args.get("file", "")
    with open(log, "a") as f:
        f.write(path + "\n")
    exists = os.path.isdir(path)
    private = exists and stat.S_IMODE(os.stat(path).st_mode) == 0o700
    inside = os.path.dirname(made) == path
    if exists and inside:
        with open(made, "w") as f:
            f.write("left behind by the case\n")
        # a tree, and a link out of the directory that must not be followed
        os.makedirs(os.path.join(path, "sub", "deeper"))
        with open(os.path.join(path, "sub", "deeper", "f"), "w") as f:
            f.write("left behind\n")
        os.symlink(os.path.join(os.path.dirname(log), "outside"),
                   os.path.join(path, "link"))
    return {"same": exec_dir == "-" or path == exec_dir, "exists": exists,
            "private": private, "made": exists and inside}


def serve(conn, exec_dir, log):
    conn.sendall(json.dumps(GREETING).encode() + b"\r\n")
    for req in requests(conn):
        cmd = req.get("execute", "")
        if cmd == "query-commands":
            ret = [{"name": c} for c in COMMANDS]
        elif cmd == "query-version":
            ret = GREETING["QMP"]["version"]
        elif cmd == "x-dir-check":
            ret = check(req.get("arguments", {}), exec_dir, log)
        else:
            ret = {}
        r = {"return": ret}
        if "id" in req:
            r["id"] = req["id"]
        conn.sendall(json.dumps(r).encode() + b"\r\n")


def main():
    path, exec_dir, log = sys.argv[1:4]
    serve_unix(path, lambda conn, _n: serve(conn, exec_dir, log))


if __name__ == "__main__":
    main()
