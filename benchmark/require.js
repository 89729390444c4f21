'use strict';

// Cost of `require('qerrors')` (this package) next to the published qerrors 1.2.7
// (`qerrors-legacy`): wall time of the require call and RSS right after it, each in a
// fresh process (a module is loaded once per process), alternating peers, medians with
// min-max. An empty process gives the RSS baseline. Also checks that neither exits late:
// 1.2.7 keeps its process alive, so its child is killed after the measurement.

const { spawnSync } = require('node:child_process');
const path = require('node:path');
const os = require('node:os');
const fs = require('node:fs');

const ROUNDS = Number(process.env.ROUNDS || 15);
const root = path.resolve(__dirname, '..');

// Runs in a scratch directory: 1.2.7 creates `logs/` in the cwd at require time.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-require-'));

function probe(spec, firstError = false) {
  // firstError: also handle one error (no response), which loads the logger and, for this
  // package, the native addon and the AI pipeline; console output is discarded.
  const code =
    `const t0 = process.hrtime.bigint();` +
    (spec ? `const m0 = require(${JSON.stringify(spec)});` : '') +
    `(async () => {` +
    (firstError ? `await m0.qerrors(new Error('first'), 'ctx');` : '') +
    `const ms = Number(process.hrtime.bigint() - t0) / 1e6;` +
    `globalThis.gc && gc();` +
    `const m = process.memoryUsage();` +
    `process.stdout.write(JSON.stringify({ ms, rss: m.rss, heap: m.heapUsed }) + '\\n');` +
    `process.exit(0);` +
    `})();`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', code], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: path.join(root, 'node_modules'), NODE_ENV: 'production', QERRORS_DISABLE_FILE_LOGS: '1' },
    timeout: 20000,
  });
  if (r.status !== 0) throw new Error(`probe ${spec} failed: ${r.stderr}`);
  // The handled error's log lines share stdout (flushed at exit, after the result line).
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"ms":'));
  if (!line) throw new Error(`probe ${spec} printed no result: ${r.stdout.slice(0, 500)}`);
  return JSON.parse(line);
}

const peers = {
  baseline: [null],
  'qerrors (this package)': [root],
  'qerrors 1.2.7': ['qerrors-legacy'],
  'this package: require + first error': [root, true],
  '1.2.7: require + first error': ['qerrors-legacy', true],
};

const results = Object.fromEntries(Object.keys(peers).map((k) => [k, []]));
probe(root); // warm the file system cache
probe('qerrors-legacy');
for (let i = 0; i < ROUNDS; i++) {
  for (const [name, args] of Object.entries(peers)) results[name].push(probe(...args));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const fmt = (xs, f) => `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
const ms = (x) => x.toFixed(1);
const mb = (x) => (x / 1048576).toFixed(1);

console.log(`require() cost, ${ROUNDS} fresh processes each, node ${process.version}, ${os.cpus().length} cpus`);
console.log('| peer | ms until done, median (min-max) | RSS MB after | heap used MB after |');
console.log('| --- | --- | --- | --- |');
for (const [name, rows] of Object.entries(results)) {
  console.log(
    `| ${name} | ${name === 'baseline' ? '-' : fmt(rows.map((r) => r.ms), ms)} | ${fmt(rows.map((r) => r.rss), mb)} | ${fmt(rows.map((r) => r.heap), mb)} |`
  );
}
const ours = median(results['qerrors (this package)'].map((r) => r.ms));
const legacy = median(results['qerrors 1.2.7'].map((r) => r.ms));
const base = median(results.baseline.map((r) => r.rss));
const oursRss = median(results['qerrors (this package)'].map((r) => r.rss)) - base;
const legacyRss = median(results['qerrors 1.2.7'].map((r) => r.rss)) - base;
console.log(`\nrequire time ratio ours/1.2.7: ${(ours / legacy).toFixed(2)}x; RSS added over an empty process: ${mb(oursRss)} MB vs ${mb(legacyRss)} MB`);
fs.rmSync(scratch, { recursive: true, force: true });
