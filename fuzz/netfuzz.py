#!/usr/bin/env python3
"""netfuzz: mutate QMP client transcripts and play them against a live server.

usage: tools/fuzz-campaign net [--qemu | --connect SOCKET] [-t SECONDS]
                               [--seed N] [--out DIR] [--lib LIBQMPKIT_PARSER]

Transcripts are the client side of the conformance cases (conformance/cases,
send lines decoded) and of the QEMU 7.2 sessions the project recorded
(../shared/corpus/qemu-7.2, read in place).  Each round takes one, applies
message-level mutations (drop, duplicate, swap, splice from another
transcript, new id of any JSON type, new command name, dictionary tokens)
and byte-level ones (bit flips, resync bytes, truncation, inserted bytes),
sends it on a fresh connection in random chunks, then a resync byte and a
sentinel command, and reads until the sentinel's reply.

The bytes sent are also fed to qmpkit's own parser in the QEMU dialect
(libqmpkit_parser.so through ctypes), which predicts the reply sequence.
Oracles, each a violation with its minimal transcript:
  crash        the server died from a signal, or closed without 'quit'
  bad-json     a server line is not one JSON object ending in CRLF (the
               documented "inf" echo of an overflowing number excepted)
  envelope     a server message is not a greeting, return, error or event
  reply-count  replies (events aside) differ in number from the requests
               and errors qmpkit's parser framed
  id           a reply carries an id no request had, or an id'd request
               did not get exactly one reply with that id
  error-text   a parse error's desc differs from qmpkit's QEMU text
A violation is minimized (delta debugging over messages, then bytes, on
fresh connections) and written to OUT/<kind>-<n>.txt with the hex and
text of the transcript and what the server answered.

--qemu starts qemu-system-x86_64 -machine none (seccomp sandbox, no disks)
on a private socket and restarts it whenever it exits.  Commands that touch
files, processes or the network are never sent (DENY below).
"""
import argparse
import ctypes
import glob
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get('QMPK_SHARED_DIR', os.path.join(os.path.dirname(ROOT), 'shared'))
SENTINEL = b'\x01{"execute": "query-name", "id": "__sentinel__"}\n'
DENY = [b'migrate', b'exec:', b'screendump', b'dump', b'human-monitor', b'create',
        b'drive-', b'chardev', b'netdev', b'object-add', b'device_add', b'getfd',
        b'add-fd', b'filename', b'file', b'snapshot', b'memsave', b'pmemsave',
        b'quit', b'system_', b'cpu', b'balloon', b'qom-set', b'set_password',
        b'expire', b'loadvm', b'savevm', b'xen', b'trace', b'dirty', b'calc',
        b'inject', b'guest', b'nbd', b'vnc', b'display', b'send-key', b'input-',
        b'x-', b'yank', b'cont', b'stop', b'/']
NAMES = [b'qmp_capabilities', b'query-version', b'query-name', b'query-status',
         b'query-commands', b'query-jobs', b'query-block-jobs', b'query-kvm',
         b'job-pause', b'job-resume', b'job-cancel', b'job-dismiss', b'block-job-cancel',
         b'query-named-block-nodes', b'query-iothreads', b'no-such-command', b'']
IDS = [b'1', b'-0', b'1.0', b'1e2', b'null', b'true', b'[]', b'{}', b'""', b'"x"',
       b'{"z": 1, "a": [2]}', b'18446744073709551616', b'-9223372036854775809',
       b'"\\u00e9\\ud83d\\ude00"', b"'sq'", b'0.1', b'[[[]]]']
TOKENS = [b'{', b'}', b'[', b']', b',', b':', b'"', b"'", b'\\', b'\\u', b'\\uD800',
          b'\xff', b'\xfe', b'\x01', b'\x00', b'\t', b'\r\n', b'%d', b'0e1', b'-', b'1.',
          b'nul', b'true', b'\xc0\x80', b'\xed\xa0\x80', b'\xf4\x90\x80\x80',
          b'"id"', b'"arguments"', b'"exec-oob"', b'"execute"', b'[' * 1030]


# --------------------------------------------------------------------------
# qmpkit's parser through ctypes (the QEMU-dialect prediction)

class StreamCfg(ctypes.Structure):
    _fields_ = [('dialect', ctypes.c_int), ('buf', ctypes.c_void_p),
                ('buf_size', ctypes.c_size_t), ('tok', ctypes.c_void_p),
                ('tok_count', ctypes.c_uint), ('max_depth', ctypes.c_uint32),
                ('max_tokens', ctypes.c_uint32), ('max_token_size', ctypes.c_uint64)]


class Msg(ctypes.Structure):
    _fields_ = [('json', ctypes.c_void_p), ('len', ctypes.c_size_t), ('tok', ctypes.c_void_p),
                ('ntok', ctypes.c_int), ('offset', ctypes.c_uint64), ('index', ctypes.c_uint64),
                ('dialect', ctypes.c_int)]


class Err(ctypes.Structure):
    _fields_ = [('code', ctypes.c_int), ('offset', ctypes.c_uint64), ('index', ctypes.c_uint64),
                ('arg', ctypes.c_void_p), ('arg_len', ctypes.c_size_t),
                ('arg_is_json', ctypes.c_bool)]


class Writer(ctypes.Structure):
    _fields_ = [('buf', ctypes.c_void_p), ('cap', ctypes.c_size_t), ('len', ctypes.c_size_t),
                ('overflow', ctypes.c_bool), ('pad', ctypes.c_char * 4096)]


class Qmpkit:
    BUF = 1 << 22
    OUT = 1 << 23

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.buf = ctypes.create_string_buffer(self.BUF)
        self.tok = ctypes.create_string_buffer(20 * (1 << 18))
        self.stream = ctypes.create_string_buffer(1 << 16)
        self.out = ctypes.create_string_buffer(self.OUT)
        L = self.lib
        L.qmpk_stream_feed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                       ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(Msg),
                                       ctypes.POINTER(Err)]
        L.qmpk_error_format.argtypes = [ctypes.POINTER(Err), ctypes.c_void_p, ctypes.c_size_t]
        L.qmpk_error_format.restype = ctypes.c_size_t
        L.qmpk_type.argtypes = [ctypes.POINTER(Msg), ctypes.c_int]
        L.qmpk_get.argtypes = [ctypes.POINTER(Msg), ctypes.c_int, ctypes.c_char_p]
        L.qmpk_w_init.argtypes = [ctypes.POINTER(Writer), ctypes.c_void_p, ctypes.c_size_t]
        L.qmpk_w_error_desc.argtypes = [ctypes.POINTER(Writer), ctypes.POINTER(Err)]
        L.qmpk_w_value.argtypes = [ctypes.POINTER(Writer), ctypes.POINTER(Msg), ctypes.c_int,
                                   ctypes.c_int]

    def predict(self, data):
        """[('error', desc) | ('value', is_object, id_json_or_None)] for data."""
        cfg = StreamCfg(0, ctypes.addressof(self.buf), self.BUF, ctypes.addressof(self.tok),
                        1 << 18, 0, 0, 0)
        assert self.lib.qmpk_stream_init(self.stream, ctypes.byref(cfg)) == 0
        items, off = [], 0
        m, e, used = Msg(), Err(), ctypes.c_size_t()
        while off < len(data):
            r = self.lib.qmpk_stream_feed(self.stream, data[off:], len(data) - off,
                                          ctypes.byref(used), ctypes.byref(m), ctypes.byref(e))
            off += used.value
            if r == 1:
                obj = self.lib.qmpk_type(ctypes.byref(m), 0) == 1
                idt = self.lib.qmpk_get(ctypes.byref(m), 0, b'id') if obj else -1
                idj = None
                if idt >= 0:
                    w = Writer()
                    self.lib.qmpk_w_init(ctypes.byref(w), ctypes.addressof(self.out), self.OUT)
                    self.lib.qmpk_w_value(ctypes.byref(w), ctypes.byref(m), idt, 0)
                    idj = None if w.overflow else self.out.raw[:w.len]
                    if w.overflow:
                        items.append(('value', obj, b'"__too_long__"'))
                        continue
                items.append(('value', obj, idj))
            elif r == 2:
                # the desc as QEMU's writer prints it (qmpk_w_error_desc)
                w = Writer()
                self.lib.qmpk_w_init(ctypes.byref(w), ctypes.addressof(self.out), self.OUT)
                self.lib.qmpk_w_error_desc(ctypes.byref(w), ctypes.byref(e))
                desc = None if w.overflow else json.loads(self.out.raw[:w.len])
                items.append(('error', e.code, desc))
        return items


# --------------------------------------------------------------------------
# transcripts

def decode_case_line(text):
    """Decode \\x{HH ..} and \\*N{TEXT} of a case send line (conformance/README)."""
    out, i = b'', 0
    while i < len(text):
        if text.startswith(b'\\x{', i):
            j = text.index(b'}', i)
            out += bytes(int(h, 16) for h in text[i + 3:j].split())
            i = j + 1
        elif text.startswith(b'\\*', i) and re.match(rb'\\\*\d+\{', text[i:]):
            m = re.match(rb'\\\*(\d+)\{', text[i:])
            depth, j = 0, i + m.end()
            while j < len(text):
                if text[j:j + 1] == b'{':
                    depth += 1
                elif text[j:j + 1] == b'}':
                    if depth == 0:
                        break
                    depth -= 1
                j += 1
            out += decode_case_line(text[i + m.end():j]) * min(int(m.group(1)), 4096)
            i = j + 1
        else:
            out += text[i:i + 1]
            i += 1
    return out


def load_transcripts():
    ts = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'conformance/cases/*.qmpt'))):
        cur = None
        for line in open(path, 'rb').read().split(b'\n'):
            if line.startswith(b'# '):
                cur = []
                ts.append(cur)
            elif cur is not None and line.startswith(b'-> '):
                cur.append(decode_case_line(line[3:]) + b'\n')
            elif cur is not None and line.startswith(b'-+ '):
                cur.append(decode_case_line(line[3:]))
    for path in sorted(glob.glob(os.path.join(SHARED, 'corpus/qemu-7.2/sessions/*.jsonl'))):
        per = {}
        for line in open(path, encoding='utf-8'):
            ev = json.loads(line)
            if ev['dir'] == 'send' and 'data' in ev:
                per.setdefault(ev.get('conn', ''), []).append(ev['data'].encode('latin-1'))
        ts.extend(per.values())
    return [t for t in ts if t and not denied(b''.join(t))]


def denied(data):
    low = data.lower()
    return any(d in low for d in DENY)


def mutate(rng, t, pool):
    t = list(t)
    for _ in range(rng.randint(1, 4)):
        k = rng.randrange(9)
        i = rng.randrange(len(t)) if t else 0
        if k == 0 and len(t) > 1:
            del t[i]
        elif k == 1 and t:
            t.insert(i, t[i])
        elif k == 2 and len(t) > 1:
            j = rng.randrange(len(t))
            t[i], t[j] = t[j], t[i]
        elif k == 3:
            other = rng.choice(pool)
            t.insert(i, rng.choice(other))
        elif k == 4 and t:
            t[i] = re.sub(rb'("id"\s*:\s*)("[^"]*"|[-0-9.eE+]+|null|true|false|\[\]|\{\})',
                          lambda m: m.group(1) + rng.choice(IDS), t[i], count=1)
            if b'"id"' not in t[i] and t[i].rstrip().endswith(b'}'):
                body = t[i].rstrip()
                t[i] = body[:-1] + b', "id": ' + rng.choice(IDS) + b'}\n'
        elif k == 5 and t:
            t[i] = re.sub(rb'("execute"\s*:\s*)"[^"]*"',
                          lambda m: m.group(1) + b'"' + rng.choice(NAMES) + b'"', t[i], count=1)
        elif k == 6 and t:
            p = rng.randrange(len(t[i]) + 1)
            t[i] = t[i][:p] + rng.choice(TOKENS) + t[i][p:]
        elif k == 7 and t and t[i]:
            b = bytearray(t[i])
            for _ in range(rng.randint(1, 3)):
                p = rng.randrange(len(b))
                b[p] = rng.choice([b[p] ^ (1 << rng.randrange(8)), rng.randrange(256)])
            t[i] = bytes(b)
        elif k == 8 and t and t[i]:
            t[i] = t[i][:rng.randrange(len(t[i]))]
    return t


# --------------------------------------------------------------------------
# the server

class Qemu:
    def __init__(self, workdir):
        self.dir = workdir
        self.sock = os.path.join(workdir, 'qmp.sock')
        self.proc = None
        self.stderr = os.path.join(workdir, 'qemu.stderr')

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.proc = subprocess.Popen(
            ['qemu-system-x86_64', '-machine', 'none', '-nodefaults', '-display', 'none',
             '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
             '-chardev', 'socket,id=m0,path=%s,server=on,wait=off' % self.sock,
             '-mon', 'chardev=m0,mode=control'],
            cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.stderr, 'ab'))
        for _ in range(200):
            if os.path.exists(self.sock):
                return
            time.sleep(0.02)
        raise RuntimeError('qemu did not create its socket')

    def path(self):
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        return self.sock

    def died(self):
        """None while alive, else the exit code (negative: signal)."""
        if self.proc is None:
            return None
        time.sleep(0.05)
        return self.proc.poll()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(5)


class Fixed:
    def __init__(self, path):
        self.sock = path

    def path(self):
        return self.sock

    def died(self):
        return None

    def stop(self):
        pass


def play(server, chunks, rng, timeout=3.0):
    """Send the transcript; return (lines received, eof, timed_out)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(server.path())
    data = b''.join(chunks) + SENTINEL
    got, eof, deadline = b'', False, time.time() + timeout
    pos = 0
    while pos < len(data):
        n = rng.choice([1, 2, 7, 64, 4096, len(data)])
        try:
            s.sendall(data[pos:pos + n])
        except OSError:
            eof = True
            break
        pos += n
        r, _, _ = select.select([s], [], [], 0)
        if r:
            b = s.recv(1 << 20)
            if not b:
                eof = True
                break
            got += b
    while not eof and b'"__sentinel__"' not in got and time.time() < deadline:
        r, _, _ = select.select([s], [], [], 0.05)
        if r:
            b = s.recv(1 << 20)
            if not b:
                eof = True
                break
            got += b
    s.close()
    timed_out = not eof and b'"__sentinel__"' not in got
    return got, eof, timed_out


def jeq(a, b):
    """JSON value equality as qmpk_equal() defines it (1 == 1.0, true != 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(jeq(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(jeq(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def check(qk, data, got, eof, timed_out, died):
    """The first violation as (kind, detail), or None."""
    if died is not None and died != 0:
        return ('crash', 'server exited with %d' % died)
    if eof:
        return ('crash', 'server closed the connection')
    if timed_out:
        return ('hang', 'no reply to the sentinel within the timeout')
    lines = got.split(b'\r\n')
    if lines[-1] != b'':
        return ('bad-json', 'output does not end in CRLF')
    msgs = []
    for ln in lines[:-1]:
        try:
            v = json.loads(ln, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
        except RecursionError:
            return None         # nested deeper than Python's json can follow
        except ValueError:
            if re.search(rb'-?inf\b', ln):
                return None     # documented: QEMU echoes overflowing numbers as inf
            return ('bad-json', 'line %r' % ln[:200])
        if not isinstance(v, dict) or not (set(v) & {'QMP', 'return', 'error', 'event'}):
            return ('envelope', 'message %r' % ln[:200])
        msgs.append(v)
    replies = [m for m in msgs if 'return' in m or 'error' in m]
    pred = qk.predict(data + SENTINEL)
    if len(replies) != len(pred):
        return ('reply-count', '%d replies, qmpkit framed %d items: %r' % (
            len(replies), len(pred), [p[0] for p in pred][:20]))
    want_ids = []
    for p in pred:
        if p[0] == 'value' and p[2] == b'"__too_long__"':
            return None         # an id larger than the prediction buffer
        if p[0] == 'value' and p[2] is not None:
            try:
                want_ids.append(json.loads(p[2]))
            except (ValueError, RecursionError):
                return None     # an inf id: not comparable
    have_ids = [r['id'] for r in replies if 'id' in r]
    for w in want_ids:
        for k, h in enumerate(have_ids):
            if jeq(h, w):
                del have_ids[k]
                break
        else:
            return ('id', 'no reply with id %r' % (w,))
    if have_ids:
        return ('id', 'replies with ids nobody sent: %r' % (have_ids[:5],))
    # parse errors: in order, with QEMU's exact text
    errs = [p[2] for p in pred if p[0] == 'error']
    got_errs = [r['error']['desc'] for r in replies
                if 'id' not in r and 'error' in r and r['error']['desc'].startswith('JSON ')]
    if len(got_errs) != len(errs):
        return ('reply-count', '%d JSON errors from the server, qmpkit %d: %r vs %r' % (
            len(got_errs), len(errs), got_errs[:5], errs[:5]))
    for a, b in zip(got_errs, errs):
        if b is not None and a != b:
            return ('error-text', 'server %r, qmpkit %r' % (a, b))
    return None


def run_once(server, qk, chunks, rng, timeout=None):
    data = b''.join(chunks)
    if timeout is None:     # a loaded machine needs longer for big inputs
        timeout = 3.0 + len(data) / 100000.0
    got, eof, timed_out = play(server, chunks, rng, timeout)
    return check(qk, data, got, eof, timed_out, server.died()), got


def minimize(server, qk, chunks, kind, seed, budget):
    """Delta debugging: drop messages, then bytes, keeping the violation,
    for at most budget seconds (a hang costs a timeout per try)."""
    stop = time.time() + budget

    def same(c):
        if time.time() > stop:
            return False
        for attempt in range(2):
            v, _ = run_once(server, qk, c, random.Random(seed + attempt))
            if v is None or v[0] != kind:
                return False
        return True
    cur = list(chunks)
    i = 0
    while i < len(cur):
        cand = cur[:i] + cur[i + 1:]
        if cand and same(cand):
            cur = cand
        else:
            i += 1
    data = b''.join(cur)
    step = max(1, len(data) // 2)
    while step >= 1 and len(data) > 1:
        i, changed = 0, False
        while i < len(data):
            cand = data[:i] + data[i + step:]
            if cand and same([cand]):
                data, changed = cand, True
            else:
                i += step
        if not changed:
            step //= 2
    return [data]


def report(out, n, kind, detail, chunks, got):
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, '%s-%03d.txt' % (kind, n))
    data = b''.join(chunks)
    with open(path, 'w') as f:
        f.write('kind: %s\ndetail: %s\n' % (kind, detail))
        f.write('transcript (hex): %s\n' % data.hex())
        f.write('transcript (text): %r\n' % data)
        f.write('then: %r\n' % SENTINEL)
        f.write('server replied:\n%s\n' % got.decode('latin-1'))
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--qemu', action='store_true', help='fuzz a private qemu-system-x86_64')
    ap.add_argument('--connect', help='unix socket of a running server (qmp-refd)')
    ap.add_argument('-t', '--time', type=int, default=300)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', default=os.path.join(ROOT, 'build-fuzz', 'findings', 'net'))
    ap.add_argument('--lib', default=os.path.join(ROOT, 'build-fuzz', 'plain', 'parser',
                                                  'libqmpkit_parser.so'))
    ap.add_argument('--max-findings', type=int, default=20)
    ap.add_argument('--min-time', type=int, default=300,
                    help='seconds of minimization per violation')
    ap.add_argument('--pace', type=float, default=0.0,
                    help='seconds to sleep between rounds (share the CPU)')
    a = ap.parse_args()
    sys.setrecursionlimit(10000)
    if not os.path.exists(a.lib):
        sys.exit('netfuzz: %s missing: run tools/fuzz-campaign build --engine plain' % a.lib)
    qk = Qmpkit(a.lib)
    ts = load_transcripts()
    work = tempfile.mkdtemp(prefix='qmpk-netfuzz-')
    server = Qemu(work) if a.qemu or not a.connect else Fixed(a.connect)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    rng = random.Random(a.seed)
    start, rounds, found, kinds = time.time(), 0, 0, {}
    last = start
    try:
        while time.time() - start < a.time and found < a.max_findings:
            base = rng.choice(ts)
            chunks = mutate(rng, base, ts)
            if denied(b''.join(chunks)) or len(b''.join(chunks)) > 1 << 18:
                continue
            seed = rng.randrange(1 << 30)
            v, got = run_once(server, qk, chunks, random.Random(seed))
            rounds += 1
            time.sleep(a.pace)
            if v is not None:
                # a live server's state drifts: count it only if it repeats
                # (a hang must last 30 s)
                v2, _ = run_once(server, qk, chunks, random.Random(seed),
                                 30.0 if v[0] == 'hang' else None)
                if v2 is not None and v2[0] == v[0]:
                    report(a.out, found + 1, v[0] + '-raw', v[1], chunks, got)
                    small = minimize(server, qk, chunks, v[0], seed, a.min_time)
                    v3, got3 = run_once(server, qk, small, random.Random(seed))
                    found += 1
                    kinds[v[0]] = kinds.get(v[0], 0) + 1
                    path = report(a.out, found, v[0], (v3 or v)[1], small, got3)
                    print('netfuzz: %s: %s -> %s' % (v[0], v[1][:120], path), flush=True)
            if time.time() - last >= 30:
                last = time.time()
                print('netfuzz: %5ds rounds %d (%.1f/s) violations %d %r' % (
                    time.time() - start, rounds, rounds / (time.time() - start), found, kinds),
                    flush=True)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print('netfuzz: done: %d rounds in %ds, %d violations %r' % (
        rounds, time.time() - start, found, kinds))


if __name__ == '__main__':
    main()
