#!/usr/bin/env python3
"""Write raw seed inputs for every harness into OUT/<harness>/.

Sources, all written or recorded by this project:
  - the QEMU 7.2 sessions recorded by the project (../shared/corpus/qemu-7.2,
    read in place): client bytes, server bytes, single messages, and whole
    sessions encoded as engine-harness programs;
  - the conformance cases (conformance/cases/*.qmpt): their send lines, and
    the files themselves for the case harness;
  - the hand-written edge cases below (spec qemu-qmp.md sections 1, 2, 7).

The raw seeds are not committed: tools/fuzz-campaign seed merges them with
libFuzzer -merge=1 into corpus/<harness>/, which keeps only inputs that add
coverage and names them by the SHA-1 of their content.

usage: make-seeds.py OUT [--shared DIR]
"""
import argparse
import glob
import hashlib
import json
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

EDGE = [
    b'{"execute":"qmp_capabilities"}', b'{"execute": "query-version", "id": 1}',
    b"{'execute':'query-name','id':'a\\'b\"c'}", b'{"execute":"x","arguments":{},"id":null}',
    b'{"exec-oob":"migrate-pause","id":[]}', b'{"execute":"a","exec-oob":"b"}',
    b'{"execute":1}', b'{"arguments":[]}', b'{"id":{"z":1,"a":2}}', b'{"execute":""}',
    b'"\\u0000x"', b'"\xc0\x80"', b'"\\uD83D\\uDE00"', b'"\\uD800"', b'"\\uDC00\\uD800"',
    b'"\\uFDD0"', b'"\\uFFFE"', b'"\xef\xbf\xbf"', b'"\\u12345"', b'"\\u12"', b'"\\x"',
    b'"\\\'"', b"'\\\"'", b'"\xf4\x90\x80\x80"', b'"\xed\xa0\x80"', b'"\xc1\xbf"',
    b'"\xf8\x88\x80\x80\x80"', b'"\x7f"', b'"a\tb"', b'"\xfe"', b'\xff', b'\x01', b'\x1b{}',
    b'0e1', b'-0E+2', b'0.0e1', b'1e400', b'-1e400', b'18446744073709551615',
    b'18446744073709551616', b'-9223372036854775808', b'-9223372036854775809',
    b'9223372036854775808', b'5e-324', b'1e-400', b'-0', b'-0.0', b'0.1', b'1E2', b'1e+2',
    b'00', b'01', b'1.', b'1e', b'-', b'+1', b'.5', b'0x10', b'1 2', b'{}{}', b'}', b']',
    b'{]', b'[1,]', b'{"a":1,}', b'{1:2}', b'{"a" 1}', b'{"a":1 "b":2}', b'[1 2]',
    b'nul', b'truer', b'true', b'false', b'null', b'%d', b'{"a":%p}', b'NaN', b'Infinity',
    b'{"a":1,"a":2}', b'{"a":{"b":[1,{"c":null}]}}', b'[[[[[[[[[]]]]]]]]]',
    b'{"execute":"query-version"}\r\n{"execute":"query-name"}\n', b'  \t\r\n',
    b'\xef\xbb\xbf{}', b'{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, '
    b'"package": ""}, "capabilities": ["oob"]}}',
    b'{"return": {}, "id": 1}', b'{"id": 2, "error": {"class": "GenericError", "desc": "x"}}',
    b'{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}',
    b'{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "JOB_STATUS_CHANGE", '
    b'"data": {"status": "created", "id": "j0"}}',
    b'[' * 1024 + b']' * 1024, b'[' * 1025 + b']' * 1025, b'{"a":' * 40 + b'1' + b'}' * 40,
]

# Commands the engine seeds use (job life cycles of spec section 4.10).
NEG = b'{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}\n'
JOBS = [
    b'{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"src","size":1048576}}\n',
    b'{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"dst","size":1048576}}\n',
    b'{"execute":"blockdev-mirror","arguments":{"job-id":"j0","device":"src","target":"dst",'
    b'"sync":"full"},"id":"m"}\n',
    b'{"execute":"query-jobs","id":"q"}\n',
    b'{"execute":"job-complete","arguments":{"id":"j0"},"id":"c"}\n',
    b'{"execute":"blockdev-backup","arguments":{"job-id":"j1","device":"src","target":"dst",'
    b'"sync":"full","auto-finalize":false,"auto-dismiss":false},"id":"b"}\n',
    b'{"execute":"job-pause","arguments":{"id":"j1"},"id":1}\n',
    b'{"execute":"job-resume","arguments":{"id":"j1"},"id":2}\n',
    b'{"execute":"job-finalize","arguments":{"id":"j1"},"id":3}\n',
    b'{"execute":"job-dismiss","arguments":{"id":"j1"},"id":4}\n',
    b'{"execute":"job-cancel","arguments":{"id":"j0"},"id":5}\n',
    b'{"execute":"block-job-cancel","arguments":{"device":"j0"},"id":6}\n',
    b'{"execute":"query-block-jobs","id":7}\n',
]
EXT = [
    b'{"execute":"qmp_capabilities","arguments":{"enable":["oob","async"]}}\n',
    b'{"execute":"x-delay","arguments":{"ms":50,"result":{"a":1}},"id":"d1"}\n',
    b'{"execute":"x-delay","arguments":{"ms":10,"error":"boom"},"id":"d2"}\n',
    b'{"execute":"x-query-pending","id":"p"}\n', b'{"execute":"x-cancel","arguments":{"id":"d1"},"id":"x"}\n',
    b'{"execute":"x-query-monitor","id":"mon"}\n', b'{"execute":"screendump","arguments":{"filename":"/dev/null"},"id":"s"}\n',
]


def digest(data):
    return hashlib.sha1(data).hexdigest()


def put(out, harness, data):
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, digest(data)), 'wb') as f:
        f.write(data)


# Engine-harness programs (fuzz_engine.c): one opcode byte, op in the low
# 3 bits, argument in the high 5.
def e_connect():
    return b'\x00'


def e_send(mon, data):
    return bytes([1 | (mon << 3)]) + struct.pack('<H', len(data)) + data


def e_advance(ms):
    return bytes([2, max(0, min(255, ms - 1))])


def e_disconnect(mon):
    return bytes([3 | (mon << 3)])


def e_observe():
    return b'\x06'


def engine_program(header, sends):
    """sends: list of (monitor label, bytes) in order; monitors by first use."""
    mons, prog = {}, bytes([header])
    for conn, data in sends:
        if conn not in mons:
            mons[conn] = len(mons)
            prog += e_connect()
        if data is None:
            prog += e_disconnect(mons.pop(conn))
            continue
        prog += e_send(mons[conn], data[:65535])
        prog += e_advance(20)
    return prog + e_observe()


def session_seeds(out, shared):
    for path in sorted(glob.glob(os.path.join(shared, 'corpus/qemu-7.2/sessions/*.jsonl'))):
        client, server, sends = {}, {}, []
        for line in open(path, encoding='utf-8'):
            ev = json.loads(line)
            conn, data = ev.get('conn', ''), ev.get('data', '').encode('latin-1')
            if ev['dir'] == 'send':
                client[conn] = client.get(conn, b'') + data
                sends.append((conn, data))
                put(out, 'message', b'\x00' + data)
            elif ev['dir'] == 'recv':
                server[conn] = server.get(conn, b'') + data
                if len(data) < 8192:
                    put(out, 'message', b'\x01' + data)
                    put(out, 'differential', data)
            elif ev['dir'] in ('close', 'eof'):
                sends.append((conn, None))
        for conn, data in client.items():
            put(out, 'stream', b'\x00\x01' + data)
            put(out, 'stream', b'\x3e\x06' + data)
        for conn, data in server.items():
            if len(data) < 65536:
                put(out, 'stream', b'\x00\x02' + data)
        if sends and len(sends) < 200:
            put(out, 'engine', engine_program(0, sends))
            put(out, 'engine', engine_program(1, sends))


def case_seeds(out):
    for path in sorted(glob.glob(os.path.join(ROOT, 'conformance/cases/*.qmpt'))):
        text = open(path, 'rb').read()
        put(out, 'case', text)
        sends = []
        for line in text.split(b'\n'):
            if line.startswith(b'-> ') or line.startswith(b'-+ '):
                sends.append(line[3:] + b'\n')
        for s in sends:
            put(out, 'message', b'\x00' + s)
            put(out, 'differential', s)
        if sends:
            put(out, 'stream', b'\x00\x03' + b''.join(sends))
        for case in case_blocks(text):
            for profile in (0, 1):
                put(out, 'engine', engine_program(profile, case_sends(case)))


def case_blocks(text):
    """The cases of a .qmpt file: from one '# ID title' line to the next."""
    cases = []
    for line in text.split(b'\n'):
        if line.startswith(b'# '):
            cases.append([])
        elif cases:
            cases[-1].append(line)
    return cases


def case_sends(lines):
    """One case's send lines as (monitor, bytes), each monitor negotiated
    first unless the case starts raw: one engine program per case, so that
    a whole file's program is not cut at the harness's max_len (8192) after
    its first cases."""
    raw = any(l.startswith(b'start:') and b'raw' in l for l in lines)
    sends, seen = [], set()
    for line in lines:
        mon = b''
        if re.match(rb'm[0-9] ', line):
            mon, line = line[:2], line[3:]
        if not (line.startswith(b'-> ') or line.startswith(b'-+ ')):
            continue
        if mon not in seen and not raw:
            sends.append((mon, NEG))
        seen.add(mon)
        sends.append((mon, line[3:] + (b'\n' if line.startswith(b'-> ') else b'')))
    return sends


def edge_seeds(out):
    for e in EDGE:
        # byte 1: bit 2 is the dialect (QEMU, RFC), bit 3 the resync tail
        put(out, 'stream', b'\x00\x01' + e)
        put(out, 'stream', b'\x00\x05' + e)
        put(out, 'stream', b'\x00\x08' + e)
        put(out, 'stream', b'\x95\x02' + e)
        put(out, 'message', b'\x00' + e)
        put(out, 'message', b'\x01' + e)
        put(out, 'differential', e)
    for profile in (0, 1):
        prog = bytes([profile]) + e_connect() + e_send(0, NEG)
        for c in JOBS + (EXT if profile else []):
            prog += e_send(0, c) + e_advance(30)
        prog += e_connect() + e_send(1, NEG) + e_advance(255) + e_observe()
        prog += e_disconnect(0) + e_advance(255)
        put(out, 'engine', prog)
    put(out, 'case', b'# 9.9-01 A minimal case\nrequirement: MUST "x"\nspec: none\n'
                     b'-> {"execute": "query-name", "id": 1}\n<- {"return": {}, "id": 1}\n'
                     b'-> \\x{FF}\\*3{[}\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out')
    ap.add_argument('--shared', default=os.path.join(os.path.dirname(ROOT), 'shared'))
    a = ap.parse_args()
    edge_seeds(a.out)
    case_seeds(a.out)
    if os.path.isdir(os.path.join(a.shared, 'corpus/qemu-7.2')):
        session_seeds(a.out, a.shared)
    for h in sorted(os.listdir(a.out)):
        print('%-13s %5d raw seeds' % (h, len(os.listdir(os.path.join(a.out, h)))))


if __name__ == '__main__':
    main()
