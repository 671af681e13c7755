#!/usr/bin/env node
/*
 * Compare a qmp-conform client run of the npm qemu-qmp adapter (--json DIR)
 * with the known verdicts (expected-verdicts.txt): every case, how the
 * adapter ended in its worst run (clean, error, hung, crashed), and every
 * chunking.  A change in either direction (a case that now passes, one that
 * now fails, or fails another way) is reported and exits 1.
 *
 *   check-verdicts.js EXPECTED JSONDIR            compare
 *   check-verdicts.js --self-test EXPECTED JSONDIR also prove that a flipped
 *                                                 expectation is caught
 *   check-verdicts.js --print JSONDIR             the run as an expectations table
 *
 * One tolerance, for timing only: qemu-qmp takes the first read() of the
 * connection as the whole greeting (docs/notes/adapter-npm-qemu-qmp.md,
 * D1).  qmp-conform writes the greeting of a "start: negotiated" case as
 * 1-byte or random pieces back to back, and node nearly always reads all of
 * it at once; when it does not, the library throws at qemu-qmp/index.js:51.
 * A 1-byte or random run that FAILs for exactly that reason where PASS is
 * expected is accepted (and said), as are the chunkings not run after it.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const CHUNKINGS = ['whole', '1-byte', 'random'];
const GREETING_THROW = '(at qemu-qmp/index.js:51:';

function usage() {
  process.stderr.write('usage: check-verdicts.js [--self-test] EXPECTED JSONDIR | --print JSONDIR\n');
  process.exit(2);
}

function loadRun(dir) {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const cases = new Map();
  for (const c of index.cases)
    cases.set(c.id, c);
  return {index, cases};
}

/* The adapter's stdout in one run of a case (from cases/ID.json). */
function runStdout(dir, id, chunking) {
  let detail;
  try {
    detail = JSON.parse(fs.readFileSync(path.join(dir, 'cases', id + '.json'), 'utf8'));
  } catch (e) {
    return '';
  }
  const run = (detail.runs || []).find((r) => r.chunking === chunking);
  if (!run)
    return '';
  return (run.log || []).filter((e) => e.dir === 'note' && /^adapter stdout/.test(e.data))
                        .map((e) => e.data).join('\n');
}

function loadExpected(file) {
  const exp = new Map();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const text = line.replace(/#.*/, '').trim();
    if (!text)
      return;
    const w = text.split(/\s+/);
    if (w.length !== 6)
      throw new Error(`${file}:${i + 1}: want ID VERDICT END WHOLE 1-BYTE RANDOM`);
    exp.set(w[0], {verdict: w[1], end: w[2], whole: w[3], '1-byte': w[4], random: w[5],
                   line: i + 1});
  });
  return exp;
}

function actualRow(c) {
  const ch = c.chunkings || {};
  return {verdict: c.verdict, end: c.end, whole: ch.whole || '-',
          '1-byte': ch['1-byte'] || '-', random: ch.random || '-'};
}

/* Mismatches between expectations and a run, and the tolerated ones. */
function compare(exp, run, dir) {
  const bad = [];
  const tolerated = [];
  for (const [id, e] of exp) {
    const c = run.cases.get(id);
    if (!c) {
      bad.push(`${id}: expected ${e.verdict}, but the run has no such case`);
      continue;
    }
    const a = actualRow(c);
    let excused = false;
    let diff = [];
    for (const k of CHUNKINGS) {
      if (a[k] === e[k])
        continue;
      if (excused && a[k] === '-')
        continue;
      if (k !== 'whole' && e[k] === 'PASS' && a[k] === 'FAIL' &&
          runStdout(dir, id, k).includes(GREETING_THROW)) {
        excused = true;
        tolerated.push(`${id}: ${k} FAIL tolerated: the greeting reached the library in pieces ` +
                       `(qemu-qmp/index.js:51, defect D1; timing-dependent)`);
        continue;
      }
      diff.push(`${k} ${e[k]} -> ${a[k]}`);
    }
    if (!excused && a.end !== e.end)
      diff.unshift(`end ${e.end} -> ${a.end}`);
    if (!excused && a.verdict !== e.verdict)
      diff.unshift(`verdict ${e.verdict} -> ${a.verdict}`);
    if (diff.length)
      bad.push(`${id}: ${diff.join(', ')}` + (c.reason ? `\n      now: ${c.reason}` : ''));
  }
  for (const id of run.cases.keys())
    if (!exp.has(id))
      bad.push(`${id}: not in the expectations (verdict ${run.cases.get(id).verdict}); add it`);
  return {bad, tolerated};
}

function printTable(run) {
  const pad = (s, n) => (s + ' '.repeat(n)).slice(0, Math.max(n, s.length));
  process.stdout.write('# id       verdict     end      whole       1-byte      random\n');
  for (const c of run.cases.values()) {
    const a = actualRow(c);
    process.stdout.write(`${pad(c.id, 10)} ${pad(a.verdict, 11)} ${pad(a.end, 8)} ${pad(a.whole, 11)} ` +
                         `${pad(a['1-byte'], 11)} ${a.random}\n`);
  }
}

function main(argv) {
  if (argv[0] === '--print' && argv.length === 2) {
    printTable(loadRun(argv[1]));
    return 0;
  }
  const selfTest = argv[0] === '--self-test';
  if (selfTest)
    argv = argv.slice(1);
  if (argv.length !== 2)
    usage();
  const exp = loadExpected(argv[0]);
  const run = loadRun(argv[1]);
  const {bad, tolerated} = compare(exp, run, argv[1]);
  const counts = {};
  for (const c of run.cases.values())
    counts[c.verdict] = (counts[c.verdict] || 0) + 1;
  process.stdout.write(`npm qemu-qmp: ${run.cases.size} cases: ` +
                       Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(' ') + '\n');
  for (const t of tolerated)
    process.stdout.write(`note: ${t}\n`);
  if (bad.length) {
    process.stdout.write(`${bad.length} case(s) differ from ${argv[0]}:\n`);
    for (const b of bad)
      process.stdout.write(`  ${b}\n`);
    process.stdout.write('If the change is understood, update the file and ' +
                         'docs/notes/adapter-npm-qemu-qmp.md (check-verdicts.js --print DIR).\n');
    return 1;
  }
  process.stdout.write(`verdicts as expected (${exp.size} cases)\n`);
  if (selfTest) {
    /* the comparison must notice a flipped verdict, both ways */
    for (const want of ['PASS', 'FAIL']) {
      const flipped = new Map(exp);
      const [id, e] = [...exp].find(([, v]) => v.verdict !== want && v.whole !== want);
      flipped.set(id, Object.assign({}, e, {verdict: want, whole: want}));
      if (!compare(flipped, run, argv[1]).bad.length) {
        process.stdout.write(`self-test: expecting ${id} to ${want} was not noticed\n`);
        return 1;
      }
    }
    process.stdout.write('self-test: flipped expectations are noticed\n');
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
