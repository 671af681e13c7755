#!/usr/bin/env node
/*
 * Conformance adapter for the npm package qemu-qmp (0.5.0), implementing
 * the client adapter contract of docs/notes/trace-and-adapter.md §2:
 *
 *   adapter.js SOCKET SCRIPT
 *
 * The library is used the way its README shows: new QMP(), connect(path,
 * cb), execute(name[, args], cb) and on('<event name in lower case>').  It
 * does all the reading, framing and pairing; this file only turns script
 * lines into calls and prints what the library hands back.  What the
 * library cannot express is done as closely as its own code would
 * (docs/notes/adapter-npm-qemu-qmp.md, "Limitations"):
 *
 * - execute() cannot send an "id", "exec-oob" or "control": such script
 *   lines go through the library's own send path (the two statements of
 *   execute(): push the callback on qmp._commands, qmp.write(JSON)), so the
 *   library still pairs the reply.  Lines that execute() can express
 *   ({"execute", "arguments"} only, and NAME key=value) use execute().
 * - The library sends no line end after a command (execute() writes the
 *   bare JSON); so does this adapter, for every command.
 * - A callback gets (err, return value) only: "msg" in the output is
 *   rebuilt from that: {"return": value} or {"error": {"desc": message}}
 *   (the library drops "class"), plus the "id" of the command the library
 *   gave the reply to.
 * - Events are emitted as emit(name.toLowerCase(), NAME) with nothing else
 *   (data and timestamp are dropped): the adapter watches qmp.emit to see
 *   every one and prints {"event": NAME} as msg.
 * - The greeting is what connect() copies onto the object (version and
 *   capabilities).  The reply to the library's own qmp_capabilities has no
 *   callback; the adapter puts one in that queue slot to print seq 0.
 * - A reply the library cannot pair is reported by it only if it is an
 *   error (it emits "error" with that Error): printed as "unmatched".
 * - An exception thrown from the library's own event handlers cannot be
 *   caught by its user and ends a node process: the adapter prints it as a
 *   client-error and exits 134 (what a shell reports for SIGABRT), so
 *   qmp-conform judges it "crashed".
 *
 * Exit status: 0 every command answered; 1 timeout, early close, failed
 * negotiation, socket error (or an exception from this file: an adapter
 * bug); 2 usage, library missing or connection error; 134 the library threw.
 *
 * Environment: QMPK_NPM_QEMU_QMP_DIR (where ./setup installed the package),
 * QMPK_ADAPTER_TIMEOUT (seconds per wait, default 30), QMPK_ADAPTER_LINGER_MS
 * (keep printing events after the last reply, default 0).
 */
'use strict';

const fs = require('fs');
const path = require('path');
const os = require('os');

function out(obj) {
  fs.writeSync(1, JSON.stringify(obj) + '\n');
}

function clientError(text) {
  out({type: 'client-error', error: text});
}

let exiting = false;
function finish(code) {
  if (exiting)
    return;
  exiting = true;
  process.exit(code);
}

/* An exception thrown by the library inside its socket/stream handlers
 * reaches no user code: it ends the process.  Report where it came from;
 * one whose top-most frame is this file is an adapter bug (exit 1). */
process.on('uncaughtException', (e) => {
  const stack = e && e.stack ? String(e.stack) : String(e);
  const frames = stack.split('\n').slice(1).map((s) => s.trim());
  const file = frames.map((f) => /\((\/[^()]+)\)$/.exec(f) || /^at (\/\S+)$/.exec(f))
                     .find((m) => m);
  const where = file ? file[1] : 'unknown';
  const inLibrary = /[\/]node_modules[\/]/.test(where);
  const what = `${e && e.name ? e.name : 'Error'}: ${e && e.message !== undefined ? e.message : e}`;
  clientError(inLibrary
    ? `uncaught exception thrown by the client library: ${what} (at ${where.replace(/^.*[\/]node_modules[\/]/, '')})`
    : `adapter bug: uncaught exception: ${what} (at ${where})`);
  fs.writeSync(2, 'adapter: uncaught exception: ' + stack + '\n');
  exiting = true;
  process.exit(inLibrary ? 134 : 1);
});

if (process.argv.length !== 4) {
  process.stderr.write('usage: adapter.js SOCKET SCRIPT\n');
  process.exit(2);
}
const socketPath = process.argv[2];
const scriptPath = process.argv[3];
const TIMEOUT_MS = (Number(process.env.QMPK_ADAPTER_TIMEOUT) || 30) * 1000;
const LINGER_MS = Number(process.env.QMPK_ADAPTER_LINGER_MS) || 0;

const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
const libDir = process.env.QMPK_NPM_QEMU_QMP_DIR || path.join(cacheHome, 'qmpkit', 'npm-qemu-qmp');
let QMP;
try {
  QMP = require(require.resolve('qemu-qmp', {paths: [libDir]}));
} catch (e) {
  process.stderr.write(`adapter: cannot load qemu-qmp from ${libDir} (run conformance/adapters/npm-qemu-qmp/setup): ${e.message}\n`);
  process.exit(2);
}

let script;
try {
  script = fs.readFileSync(scriptPath, 'utf8').split('\n');
} catch (e) {
  process.stderr.write(`adapter: cannot read script: ${e.message}\n`);
  process.exit(2);
}

/* ------------------------------------------------------------------ */
/* State, and waits that end when a condition holds (checked after every
 * callback, event and close) or time out. */

const pending = [];         /* commands sent and not yet answered, in order */
let seq = 0;
let closed = false;         /* the connection is gone */
let greeted = false;
const eventCount = new Map();   /* NAME -> arrivals not yet consumed by .wait-event */
let waiters = [];

function kick() {
  const still = [];
  for (const w of waiters) {
    if (w.cond()) {
      clearTimeout(w.timer);
      w.resolve();
    } else {
      still.push(w);
    }
  }
  waiters = still;
}

function until(cond, ms, onTimeout) {
  return new Promise((resolve) => {
    if (cond())
      return resolve();
    const w = {cond, resolve};
    w.timer = setTimeout(() => {
      clientError(onTimeout());
      finish(1);
    }, ms);
    waiters.push(w);
  });
}

function unanswered() {
  return `${pending.length} command(s) unanswered after ${TIMEOUT_MS / 1000} s` +
         (pending.length ? `, oldest: ${pending[0].name}` : '');
}

/* ------------------------------------------------------------------ */
/* The library. */

const qmp = new QMP();

/* Every QMP event reaches the user as emit(lower-case name, NAME) and
 * nothing else; watch emit to see all of them (there is no catch-all). */
const libraryEmit = qmp.emit;
qmp.emit = function (name, ...args) {
  if (typeof name === 'string' && args.length === 1 && typeof args[0] === 'string' &&
      args[0].toLowerCase() === name) {
    const ev = args[0];
    out({type: 'event', event: ev, msg: {event: ev}});
    eventCount.set(ev, (eventCount.get(ev) || 0) + 1);
    kick();
  }
  return libraryEmit.call(this, name, ...args);
};

/* What a callback got, as a contract record. */
function report(cmd, err, ret) {
  const rec = {type: err ? 'error' : 'return', seq: cmd.seq, command: cmd.name};
  if (cmd.hasId)
    rec.id = cmd.id;
  const msg = err ? {error: {desc: err.message}} : {return: ret};
  if (cmd.hasId)
    msg.id = cmd.id;
  rec.msg = msg;
  out(rec);
}

function callbackFor(cmd) {
  return function (err, ret) {
    const i = pending.indexOf(cmd);
    if (i >= 0)
      pending.splice(i, 1);
    report(cmd, err, ret);
    if (cmd.seq === 0 && err) {
      clientError(`negotiation failed: ${err.message}`);
      finish(1);
    }
    kick();
  };
}

qmp.connect(socketPath, function (err) {
  if (err) {
    clientError(`cannot connect to ${socketPath}: ${err.message}`);
    finish(2);
    return;
  }
  greeted = true;
  out({type: 'greeting', msg: {QMP: {version: qmp.version, capabilities: qmp.capabilities}}});
  /* connect() has just sent qmp_capabilities with no callback; give that
   * queue slot one, so the negotiation's result can be printed as seq 0. */
  const neg = {seq: 0, name: 'qmp_capabilities', hasId: false};
  if (Array.isArray(qmp._commands) && qmp._commands.length === 1 && qmp._commands[0] === undefined) {
    qmp._commands[0] = callbackFor(neg);
    pending.push(neg);
  }
  /* As in the library's README: the commands are issued from connect()'s
   * callback, which runs when the greeting arrives. */
  run().catch((e) => {
    clientError(`adapter error: ${e && e.stack ? e.stack : e}`);
    finish(1);
  });
});

/* connect() removes every "error" listener once connected; a user must
 * add one afterwards, or a socket error or an unpaired error reply throws. */
qmp.once('connect', () => {
  qmp.on('error', (e) => {
    if (e && e.code) {          /* a socket error */
      clientError(`socket error: ${e.message}`);
      finish(1);
      return;
    }
    /* the library's report of an error reply that had no callback */
    out({type: 'unmatched', msg: {error: {desc: e && e.message}}});
  });
});

qmp.on('close', () => {
  closed = true;
  if (!greeted) {
    clientError('the server closed the connection before the greeting');
    finish(1);
  } else if (pending.length) {
    clientError(`the server closed the connection with ${pending.length} command(s) unanswered`);
    finish(1);
  }
  kick();
});

const greetingTimer = setTimeout(() => {
  if (!greeted) {
    clientError(`no greeting from the server within ${TIMEOUT_MS / 1000} s`);
    finish(1);
  }
}, TIMEOUT_MS);

/* ------------------------------------------------------------------ */
/* The script. */

function scalarArgument(v) {
  try {
    return JSON.parse(v);
  } catch (e) {
    return v;
  }
}

/* Send one command; returns its pending entry, or null (untracked). */
function send(text) {
  if (closed) {
    clientError('the server closed the connection and the script is unfinished');
    finish(1);
    return null;
  }
  if (text[0] === '{' || text[0] === '[') {
    let obj;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      obj = undefined;
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      qmp.write(text);          /* not a command: sent, not waited for */
      return null;
    }
    const name = typeof obj.execute === 'string' ? obj.execute
               : typeof obj['exec-oob'] === 'string' ? obj['exec-oob'] : '?';
    const cmd = {seq: ++seq, name, hasId: 'id' in obj, id: obj.id};
    pending.push(cmd);
    const keys = Object.keys(obj);
    if (typeof obj.execute === 'string' && keys.every((k) => k === 'execute' || k === 'arguments')) {
      if (obj.arguments)
        qmp.execute(obj.execute, obj.arguments, callbackFor(cmd));
      else
        qmp.execute(obj.execute, callbackFor(cmd));
    } else {
      /* execute() has no id/exec-oob: do what it does, with the line's JSON */
      qmp._commands.push(callbackFor(cmd));
      qmp.write(text);
    }
    return cmd;
  }
  /* NAME key=value ... */
  const words = text.split(/[ \t]+/);
  const name = words.shift();
  const cmd = {seq: ++seq, name, hasId: false};
  pending.push(cmd);
  if (words.length) {
    const args = {};
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq < 0)
        args[w] = true;
      else
        args[w.slice(0, eq)] = scalarArgument(w.slice(eq + 1));
    }
    qmp.execute(name, args, callbackFor(cmd));
  } else {
    qmp.execute(name, callbackFor(cmd));
  }
  return cmd;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function closeAndExit(code) {
  const t = setTimeout(() => finish(code), 1000);
  t.unref();
  qmp.end(() => finish(code));
  if (qmp.destroyed)
    finish(code);
}

async function directive(line) {
  const m = /^(\.[a-z-]+)(?:[ \t]+(.*))?$/.exec(line);
  const name = m ? m[1] : line;
  const arg = m && m[2] !== undefined ? m[2].trim() : '';
  if (name === '.wait' && !arg) {
    await until(() => pending.length === 0, TIMEOUT_MS, unanswered);
  } else if (name === '.wait-event' && arg) {
    await until(() => (eventCount.get(arg) || 0) > 0, TIMEOUT_MS,
                () => `event ${arg} did not arrive within ${TIMEOUT_MS / 1000} s`);
    eventCount.set(arg, eventCount.get(arg) - 1);
  } else if (name === '.sleep' && arg) {
    await sleep(parseInt(arg, 10) || 0);
  } else if (name === '.raw' && arg) {
    let s;
    try {
      s = JSON.parse(arg);
    } catch (e) {
      s = undefined;
    }
    if (typeof s !== 'string') {
      clientError('.raw takes one JSON string whose code points are the bytes to send');
      finish(1);
      return;
    }
    const bytes = [...s].every((ch) => ch.codePointAt(0) <= 0xff)
      ? Buffer.from(s, 'latin1') : Buffer.from(s, 'utf8');
    qmp.write(bytes);
  } else if (name === '.caps') {
    /* qemu-qmp's connect() sends qmp_capabilities without arguments: the
     * library has no way to enable a capability */
    clientError(`unsupported script line '${line.slice(0, 40)}': qemu-qmp's connect() sends qmp_capabilities without "enable"; it cannot enable capabilities`);
    finish(1);
  } else if (name === '.close' && !arg) {
    closeAndExit(0);
    await new Promise(() => {});    /* the process ends there */
  } else {
    clientError(`unknown directive '${line.slice(0, 40)}' (known: .caps LIST, .wait, .wait-event NAME, .sleep MS, .raw "...", .close)`);
    finish(1);
  }
}

async function run() {
  clearTimeout(greetingTimer);
  for (let line of script) {
    line = line.replace(/^[ \t]+|[ \t\r]+$/g, '');
    if (!line || line[0] === '#')
      continue;
    let async = false;
    if (line[0] === '&') {
      async = true;
      line = line.slice(1).replace(/^[ \t]+/, '');
    }
    if (line[0] === '.') {
      await directive(line);
      continue;
    }
    const cmd = send(line);
    if (cmd && !async)
      await until(() => !pending.includes(cmd), TIMEOUT_MS, unanswered);
  }
  await until(() => pending.length === 0, TIMEOUT_MS, unanswered);
  if (LINGER_MS)
    await sleep(LINGER_MS);
  closeAndExit(0);
}
