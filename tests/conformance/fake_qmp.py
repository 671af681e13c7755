"""What the fake QMP servers of these tests share: a unix listener, reading requests."""
import json
import socket


def requests(conn):
    """Each JSON request of a newline-framed QMP stream, until EOF."""
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


def serve_unix(path, serve_one, backlog=8):
    """Accept on a unix socket at path, one client at a time, for ever:
    serve_one(conn, n) for the n-th connection (from 1), closed after it."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(backlog)
    n = 0
    while True:
        conn, _ = srv.accept()
        n += 1
        with conn:
            serve_one(conn, n)
