'use strict';

// The first errors a process handles. `require('qerrors')` starts nothing, so the first
// qerrors() call loads the addon, starts the log thread, compiles the redaction rules and
// creates the AI pipeline; in an incident that call lands on the event loop at the worst
// moment. Each side runs in fresh processes (alternating), after `require` and after a
// first `Date` (which a service has used before its first error), with file logs on and an
// AI provider configured (at a closed local port: the background calls fail, as they may).
//
//   node benchmark/first-error.js [--rounds 10] [--base <another checkout>]
//
// `--base` adds a side for another checkout of this package (a before/after comparison).
// Reported per side: the first call's synchronous time, the time until its promise settled,
// and the synchronous time of the next 99 calls (20 signatures, first seen among them).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { median, argOf, numberArg } = require('./support');

const root = path.resolve(__dirname, '..');
const ROUNDS = Math.max(1, numberArg('rounds', 10));
const BASE = argOf('base', null);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-first-'));

// The child: 100 errors of 20 signatures, thrown 10-40 frames deep, stacks formatted first.
const CHILD = `
const { performance } = require('node:perf_hooks');
const WORDS = ['ledger', 'invoice', 'session', 'upload', 'catalog', 'payment', 'inventory', 'shipment', 'profile', 'search',
  'report', 'billing', 'export', 'import', 'webhook', 'mailer', 'cache', 'queue', 'auth', 'render'];
function makeError(sig, variant) {
  const word = WORDS[sig];
  const thrower = { [word + 'Handler'](n) { return n === 0 ? new Error('connect ECONNREFUSED 10.0.' + variant + '.1:' + (5000 + sig) + ' (' + word + ')') : thrower[word + 'Handler'](n - 1); } };
  return thrower[word + 'Handler'](10 + ((sig * 7) % 31));
}
const errors = [];
for (let i = 0; i < 100; i++) { const e = makeError(i % 20, i); void e.stack; errors.push(e); }
new Date().toISOString();
const { qerrors } = require(process.env.FIRST_ERROR_SPEC);
(async () => {
  const t0 = performance.now();
  const p = qerrors(errors[0], { route: '/first', attempt: 0 });
  const t1 = performance.now();
  await p;
  const t2 = performance.now();
  for (let i = 1; i < errors.length; i++) qerrors(errors[i], { route: '/first', attempt: i % 3 });
  const t3 = performance.now();
  process.stdout.write(JSON.stringify({ first: t1 - t0, settled: t2 - t0, next: t3 - t2 }) + '\\n');
  process.exit(0);
})();
`;

function probe(spec, round) {
  const r = spawnSync(process.execPath, ['-e', CHILD], {
    cwd: scratch,
    encoding: 'utf8',
    env: {
      ...process.env,
      NODE_PATH: path.join(root, 'node_modules'),
      NODE_ENV: 'production',
      FIRST_ERROR_SPEC: spec,
      QERRORS_LOG_DIR: path.join(scratch, `logs-${round}`),
      QERRORS_VERBOSE: 'false',
      QERRORS_AI_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-benchmark',
      QERRORS_OPENAI_URL: 'http://127.0.0.1:1/v1',
    },
    timeout: 30000,
  });
  if (r.status !== 0) throw new Error(`probe ${spec} failed: ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"first":'));
  if (!line) throw new Error(`probe ${spec} printed no result: ${r.stdout.slice(0, 500)}`);
  return JSON.parse(line);
}

const sides = { 'qerrors() of this checkout': root };
if (BASE) sides[`qerrors() of ${path.basename(path.resolve(BASE))} (--base)`] = path.resolve(BASE);
sides['qerrors() 1.2.7'] = 'qerrors-legacy';

const results = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
for (const spec of Object.values(sides)) probe(spec, 'warm'); // the file system cache
for (let i = 0; i < ROUNDS; i++) {
  for (const [name, spec] of Object.entries(sides)) results[name].push(probe(spec, i));
}
fs.rmSync(scratch, { recursive: true, force: true });

const fmt = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
console.log(`First errors of a process, ${ROUNDS} fresh processes per side (alternating), node ${process.version}, ${os.cpus().length} cpus`);
console.log('| side | first call ms, median (min-max) | until its promise settled ms | next 99 calls ms |');
console.log('| --- | --- | --- | --- |');
for (const [name, rs] of Object.entries(results)) {
  console.log(`| ${name} | ${fmt(rs.map((r) => r.first))} | ${fmt(rs.map((r) => r.settled))} | ${fmt(rs.map((r) => r.next))} |`);
}
const m = (name, k) => median(results[name].map((r) => r[k]));
const ours = Object.keys(sides)[0];
console.log(`\nfirst call ratio ours/1.2.7: ${(m(ours, 'first') / m('qerrors() 1.2.7', 'first')).toFixed(2)}x (until settled ${(m(ours, 'settled') / m('qerrors() 1.2.7', 'settled')).toFixed(2)}x)`);
if (BASE) {
  const base = Object.keys(sides)[1];
  console.log(`first call ratio this checkout/--base: ${(m(ours, 'first') / m(base, 'first')).toFixed(2)}x`);
}
