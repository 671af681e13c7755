"""What the fake QMP servers of these tests share: reading requests."""
import json


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
