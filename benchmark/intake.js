'use strict';

// qerrors()'s per-error redaction + AI hand-off, side by side in one process on the same
// 10 000 errors (20 messages with a varying port, stacks from one call site, as in an
// error storm), offline advisor:
//
//   separate: sanitizeMessage(message) + sanitizeMessage(stack) + aiPipeline.schedule()
//   intake:   aiPipeline._intake(), one native call that also redacts (stack line by line
//             through the cache of recent lines)
//
// Both must give the same fingerprints and redacted texts (checked first). Reported: µs per
// error, median of alternating rounds over warm caches and JIT.
//
//   NODE_ENV=production node --expose-gc benchmark/intake.js [--errors 10000] [--rounds 5]

const { performance } = require('node:perf_hooks');
const { median, numberArg } = require('./support');

const ERRORS = numberArg('errors', 10000);
const ROUNDS = numberArg('rounds', 5);

const ai = require('../lib/native/ai');
const { sanitizeMessage } = require('../lib/policy/redaction');

ai.configure({ provider: 'offline' });

/** What qerrors() reads: message and stack cut to 10 000 and 20 000 characters. */
function storm(offset) {
  const out = [];
  for (let i = 0; i < ERRORS; i++) {
    const err = new Error('failure ' + (i % 20) + ' at port ' + (3000 + offset + i));
    out.push({ err, ctx: { route: '/storm', attempt: i % 3 }, message: err.message.slice(0, 10000), stack: err.stack.slice(0, 20000) });
  }
  return out;
}

function separate(list) {
  let n = 0;
  for (const { err, ctx, message, stack } of list) {
    const m = sanitizeMessage(message);
    const s = sanitizeMessage(stack);
    const fp = ai.schedule(err, ctx);
    n += m.length + s.length + fp.length;
  }
  return n;
}

function intake(list) {
  let n = 0;
  for (const { err, ctx, message, stack } of list) {
    const r = ai._intake(err, ctx, message, stack);
    n += r.message.length + r.stack.length + r.fp.length;
  }
  return n;
}

function check(list) {
  for (const { err, ctx, message, stack } of list) {
    const r = ai._intake(err, ctx, message, stack);
    const want = { fp: ai.schedule(err, ctx), message: sanitizeMessage(message), stack: sanitizeMessage(stack) };
    if (!r || r.fp !== want.fp || r.message !== want.message || r.stack !== want.stack) {
      throw new Error(`outputs differ for ${JSON.stringify(message)}: ${JSON.stringify(r)} vs ${JSON.stringify(want)}`);
    }
  }
}

function time(fn, list) {
  if (global.gc) global.gc();
  const t0 = performance.now();
  const n = fn(list);
  const us = ((performance.now() - t0) * 1000) / list.length;
  if (n <= 0) throw new Error('no work done');
  return us;
}

const warm = storm(100000);
check(warm);
separate(warm);
intake(warm);
const list = storm(0);
const results = { separate: [], intake: [] };
for (let r = 0; r < ROUNDS; r++) {
  results.separate.push(time(separate, list));
  results.intake.push(time(intake, list));
}
const stackChars = median(list.map((x) => x.stack.length));
console.log(`${ERRORS} errors, stacks of ${stackChars} characters (median), ${ROUNDS} rounds, NODE_ENV=${process.env.NODE_ENV || ''}, provider ${ai.stats().provider}`);
for (const [name, xs] of Object.entries(results)) {
  console.log(`${name.padEnd(9)} ${median(xs).toFixed(2)} µs/error (rounds: ${xs.map((x) => x.toFixed(2)).join(', ')})`);
}
ai.shutdown();
