'use strict';

// The call that hands a handled error's entry to the log thread
// (`ErrorLog.entryWriter().writeError`, src/binding/error_path.rs), its stack passed as a
// string against `true` (the stack the intake kept natively, lib/native/keptStack.js), in
// one process, rounds alternating. A one-slot queue keeps the thread out of the timing:
// every entry after the first is read, refused and counted, so what is timed is the
// event loop's part, reading the 18 arguments. The kept slot is empty here (no intake ran),
// so the `true` side reads no stack at all, as when the intake has kept it.
//
//   node benchmark/log-entry.js [--calls 100000] [--rounds 5] [--frames 10]
//
// --frames: the stack's depth; 10 is what Node keeps by default (Error.stackTraceLimit).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const native = require('../lib/native/loader');
const { median, numberArg } = require('./support');

const CALLS = numberArg('calls', 100000);
const ROUNDS = numberArg('rounds', 5);
const FRAMES = numberArg('frames', 10);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-log-entry-'));
const log = new native.ErrorLog({ dir, errorFile: 'error.log', combinedFile: 'combined.log', maxSize: 1e9, maxFiles: 2, queue: 1, hostname: 'h', pid: 1, service: 's', version: '1' });
const { writeError } = log.entryWriter();

const frames = Array.from({ length: FRAMES }, (_, i) => `    at handler${i} (/srv/app/src/routes/orders/handler${i}.js:${10 + i}:${5 + i})`);
const stack = `Error: connect ECONNREFUSED 10.0.0.1:5000\n${frames.join('\n')}`;
const contextJson = JSON.stringify({ location: 'orders', user: 'u-1' });

function round(stackArg) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) {
    writeError(false, contextJson, 'ECONNREFUSED', '0123456789abcdef', 'abcdef012345', true, 'connect ECONNREFUSED 10.0.0.1:5000', 'Error', 'medium', stackArg, 500, 'ERROR:Error_1', '{"heapUsed":10}', 'Error: connect ECONNREFUSED 10.0.0.1:5000', 'GET', 'req-1', '2026-12-04T11:00:00.000Z', '/orders');
  }
  return Number(process.hrtime.bigint() - t) / CALLS / 1000;
}

const sides = { [`stack as a string (${stack.length} chars)`]: stack, 'stack kept by the intake (true)': true };
const times = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
round(stack); // warm-up
for (let r = 0; r < ROUNDS; r++) for (const [label, arg] of Object.entries(sides)) times[label].push(round(arg));
log.close();
fs.rmSync(dir, { recursive: true, force: true });

console.log(`writeError, ${CALLS} calls x ${ROUNDS} rounds, a stack of ${FRAMES} frames (median µs per call)`);
for (const [label, ts] of Object.entries(times)) console.log(`| ${label} | ${median(ts).toFixed(2)} |`);
const [a, b] = Object.values(times).map(median);
console.log(`ratio kept/string: ${(b / a).toFixed(2)}`);
