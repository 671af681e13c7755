#!/usr/bin/env python3
"""A deliberately naive QMP client behind the conformance adapter contract
(docs/notes/trace-and-adapter.md §2), used to show that the client suite
fails clients for the reasons its cases name.  Its defects, on purpose:

- frames by CRLF lines (LF-only and pretty-printed messages are lost);
- takes the next non-event message as the reply of the command it just
  sent, ids ignored (foreign ids are accepted, nothing is pipelined);
- reads a falsy "return" ({}, 0, "", false) as "no result" (null).

usage: naive_adapter.py SOCKET SCRIPT
"""
import json
import socket
import sys


class Naive:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.buf = b""

    def message(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                emit({"type": "client-error", "error": "connection closed"})
                sys.exit(1)
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return json.loads(line)

    def reply(self, command, seq, name):
        while True:
            msg = self.message()
            if "event" in msg:
                emit({"type": "event", "event": msg["event"], "msg": msg})
                continue
            if "error" not in msg and not msg.get("return"):
                msg["return"] = None
            rec = {"type": "error" if "error" in msg else "return",
                   "seq": seq, "command": name}
            if "id" in command:
                rec["id"] = command["id"]
            rec["msg"] = msg
            emit(rec)
            return


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    client = Naive(sys.argv[1])
    emit({"type": "greeting", "msg": client.message()})
    client.sock.sendall(b'{"execute": "qmp_capabilities"}\n')
    client.reply({}, 0, "qmp_capabilities")
    seq = 0
    with open(sys.argv[2], encoding="utf-8") as script:
        for line in script:
            line = line.strip().lstrip("&")
            if not line or line.startswith((".", "#")):
                continue
            seq += 1
            command = json.loads(line)
            client.sock.sendall((line + "\n").encode())
            name = command.get("execute", command.get("exec-oob"))
            client.reply(command, seq, name)


if __name__ == "__main__":
    main()
