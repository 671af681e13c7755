#!/usr/bin/env node
/*
 * Minimal reproductions of qemu-qmp 0.5.0's defects (D1..D10 in
 * docs/notes/adapter-npm-qemu-qmp.md), without qmp-conform: each scenario
 * is a tiny fake QMP server on a unix socket and a few lines of library
 * use, run in its own node process (several of them kill it).
 *
 *   repro.js            run every scenario, one line of result each
 *   repro.js NAME       run one (its output is the observation)
 *
 * Uses the package installed by ./setup (QMPK_NPM_QEMU_QMP_DIR).
 */
'use strict';

const child = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const GREETING = '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}\r\n';

/* name: [what a correct client does, server(conn, step), user(qmp, say)] */
const scenarios = {
  'D1-greeting-in-two-reads': [
    'takes the greeting when its second half arrives',
    (c) => { c.write(GREETING.slice(0, 40)); setTimeout(() => c.write(GREETING.slice(40)), 100); },
    (q, say) => say('connected, version ' + JSON.stringify(q.version))],
  'D1-greeting-and-event-in-one-read': [
    'takes the greeting, then reports the event',
    (c) => c.write(GREETING + '{"event": "RESUME", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n'),
    (q, say) => say('connected')],
  'D2-return-0': [
    'calls back with 0',
    (c, on) => on('qom-get', () => c.write('{"return": 0}\r\n')),
    (q, say) => q.execute('qom-get', {path: '/machine', property: 'n'},
                          (err, v) => say(`callback: err=${err} value=${JSON.stringify(v)}`))],
  'D3-event-data': [
    'gives the event\'s data and timestamp to the listener',
    (c, on) => on('query-status', () => c.write(
      '{"event": "BLOCK_JOB_COMPLETED", "data": {"device": "j0", "len": 42, "offset": 42}, ' +
      '"timestamp": {"seconds": 1, "microseconds": 2}}\r\n{"return": {}}\r\n')),
    (q, say) => {
      q.on('block_job_completed', (...args) => say('listener got ' + JSON.stringify(args)));
      q.execute('query-status', () => {});
    }],
  'D4-refused-negotiation': [
    'reports the refusal to connect()\'s callback and sends nothing more',
    (c, on, sent) => on('qmp_capabilities', () => {
      c.write('{"error": {"class": "GenericError", "desc": "Capability oob not available"}}\r\n');
      setTimeout(() => sent(), 100);
    }),
    (q, say) => {
      say('connect callback: ok (before any reply to qmp_capabilities)');
      q.on('error', (e) => say('error event: ' + e.message));
      q.execute('query-status', (err) => say('query-status callback: ' + err));
    }],
  'D5-error-class': [
    'gives the error class (CommandNotFound) to the callback',
    (c, on) => on('x-nope', () => c.write('{"error": {"class": "CommandNotFound", "desc": "The command x-nope has not been found"}}\r\n')),
    (q, say) => q.execute('x-nope', (err) => say(`callback: message=${JSON.stringify(err.message)} class=${err.class}`))],
  'D6-replies-out-of-order': [
    'pairs replies by id (or has a way to send an id at all)',
    (c, on) => on('query-name', () => c.write('{"return": {"name": "vm"}}\r\n{"return": {"status": "running"}}\r\n')),
    (q, say) => {
      q.execute('query-status', (e, v) => say('query-status got ' + JSON.stringify(v)));
      q.execute('query-name', (e, v) => say('query-name got ' + JSON.stringify(v)));
    }],
  'D7-pretty-printed-reply': [
    'takes a reply over several lines',
    (c, on) => on('query-status', () => c.write('{\r\n    "return": {\r\n        "status": "running"\r\n    }\r\n}\r\n')),
    (q, say) => q.execute('query-status', (e, v) => say('callback: ' + JSON.stringify(v)))],
  'D7-reply-without-line-end': [
    'takes a reply that no line end follows',
    (c, on) => on('query-status', () => c.write('{"return": {"status": "running"}}')),
    (q, say) => q.execute('query-status', (e, v) => say('callback: ' + JSON.stringify(v)))],
  'D8-truncated-reply-then-close': [
    'reports an error (connection lost) to the pending callback',
    (c, on) => on('query-status', () => c.end('{"return": {"status": "runn')),
    (q, say) => {
      q.on('error', (e) => say('error event: ' + e.message));
      q.execute('query-status', (e, v) => say('callback: ' + e + ' ' + JSON.stringify(v)));
    }],
  'D8-blank-line': [
    'skips a blank line between messages',
    (c, on) => on('query-status', () => c.write('\r\n{"return": {"status": "running"}}\r\n')),
    (q, say) => {
      q.on('finish', () => say('the library ended (half-closed) the connection'));
      q.execute('query-status', (e, v) => say('callback: ' + JSON.stringify(v)));
    }],
  'D9-u64-number': [
    'keeps 18446744073709551615',
    (c, on) => on('query-balloon', () => c.write('{"return": {"actual": 18446744073709551615}}\r\n')),
    (q, say) => q.execute('query-balloon', (e, v) => say('callback: actual=' + String(v.actual)))],
  'D10-event-named-CLOSE': [
    'reports an event named CLOSE like any other',
    (c, on) => on('query-status', () => c.write('{"event": "CLOSE", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n{"return": {}}\r\n')),
    (q, say) => {
      q.on('finish', () => say('the library ended (half-closed) the connection'));
      q.execute('query-status', (e, v) => say('callback: ' + JSON.stringify(v)));
    }],
  'D11-non-json-line': [
    'reports the stray line (or ignores it) and calls back with the reply',
    (c, on) => on('query-status', () => c.write('qemu-system-x86_64: warning: something\r\n{"return": {}}\r\n')),
    (q, say) => q.execute('query-status', (e, v) => say('callback: ' + JSON.stringify(v)))],
  'D11-inf-in-reply': [
    'survives QEMU\'s own "inf" output',
    (c, on) => {
      on('qom-get', () => c.write('{"return": inf}\r\n'));
      on('query-status', () => c.write('{"return": {}}\r\n'));
    },
    (q, say) => q.execute('qom-get', {path: '/machine', property: 'd'}, (e, v) => say('callback: ' + e + ' ' + v))],
  'D10-event-named-DATA': [
    'reports an event named DATA like any other',
    (c, on) => {
      on('query-status', () => c.write('{"event": "DATA", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n{"return": {}}\r\n'));
      on('query-name', () => c.write('{"return": {"name": "vm"}}\r\n'));
    },
    (q, say) => q.execute('query-status', (e, v) => {
      say('query-status callback: ' + JSON.stringify(v));
      q.execute('query-name', (e2, v2) => say('query-name callback: ' + JSON.stringify(v2)));
    })],
};

function libDir() {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return process.env.QMPK_NPM_QEMU_QMP_DIR || path.join(cache, 'qmpkit', 'npm-qemu-qmp');
}

function runOne(name) {
  const [, server, user] = scenarios[name];
  const QMP = require(require.resolve('qemu-qmp', {paths: [libDir()]}));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qemu-qmp-repro-'));
  const sock = path.join(dir, 's');
  const say = (s) => process.stdout.write(s + '\n');
  process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
  const srv = net.createServer((c) => {
    const handlers = {};
    const received = [];
    let buf = '';
    c.on('data', (d) => {
      buf += d;
      /* the library sends bare JSON objects back to back (no line end) */
      for (let m; (m = /^\s*(\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})/.exec(buf));) {
        buf = buf.slice(m[0].length);
        const cmd = JSON.parse(m[1]);
        received.push(m[1]);
        if (cmd.execute === 'qmp_capabilities' && !handlers.qmp_capabilities)
          c.write('{"return": {}}\r\n');
        else if (handlers[cmd.execute])
          handlers[cmd.execute]();
      }
    });
    c.on('error', () => {});
    const on = (cmd, fn) => { handlers[cmd] = fn; };
    const sent = () => say(`server received: ${received.join(' ')}`);
    if (name.startsWith('D1-'))     /* these send their own greeting */
      server(c, on, sent);
    else {
      c.write(GREETING);
      server(c, on, sent);
    }
  });
  srv.listen(sock, () => {
    const q = new QMP();
    q.connect(sock, (err) => {
      if (err)
        throw err;
      user(q, say);
    });
  });
  setTimeout(() => { say('(nothing more within 1 s)'); process.exit(0); }, 1000);
}

function runAll() {
  let out = '';
  for (const name of Object.keys(scenarios)) {
    const r = child.spawnSync(process.execPath, [__filename, name], {encoding: 'utf8'});
    const died = r.status !== 0;
    const thrown = /^(\w*Error[^\n]*)/m.exec(r.stderr || '');
    const at = /\(([^()]*node_modules[\\/][^()]*)\)/.exec(r.stderr || '');
    out += `${name}\n  a correct client ${scenarios[name][0]}\n`;
    for (const l of (r.stdout || '').trim().split('\n').filter((l) => l))
      out += `  qemu-qmp: ${l}\n`;
    if (died)
      out += `  qemu-qmp: the process died (exit ${r.status}): ${thrown ? thrown[1] : '?'}` +
             (at ? ` at ${at[1].replace(/^.*node_modules[\\/]/, '')}` : '') + '\n';
  }
  process.stdout.write(out);
}

if (process.argv[2]) {
  if (!scenarios[process.argv[2]]) {
    process.stderr.write(`unknown scenario; known: ${Object.keys(scenarios).join(' ')}\n`);
    process.exit(2);
  }
  runOne(process.argv[2]);
} else {
  runAll();
}
