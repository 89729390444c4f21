#!/usr/bin/env node
'use strict';

// Compares two builds of the addon on a few hot calls, e.g. the local `release` build
// against the published `dist` build (docs/packaging.md):
//
//   node scripts/compare-profiles.js qerrors.linux-x64-gnu.node npm/linux-x64-gnu/qerrors.linux-x64-gnu.node [rounds]
//
// Each round runs each addon in a fresh process (QERRORS_NATIVE_LIBRARY_PATH), the two
// alternating so that machine noise hits both; it prints the median ns per call.

const { spawnSync } = require('node:child_process');
const path = require('node:path');

/** ns per call of `fn(iterations)`, after a short warm-up. */
function measure(iterations, fn) {
  fn(Math.min(iterations, 20_000));
  const started = process.hrtime.bigint();
  fn(iterations);
  return Number(process.hrtime.bigint() - started) / iterations;
}

/** One process's measurements, printed as JSON. */
function child() {
  const native = require('../native');
  const { sanitizeMessage } = require('../index');
  const keys = Array.from({ length: 10_000 }, (_, i) => `client-${i}`);
  const limiter = new native.RateLimiter({ limit: 10_000_000, windowMs: 60_000 });
  const cache = new native.LruCache({ max: keys.length });
  for (const k of keys) cache.set(k, `value-${k}`);
  const doc = JSON.stringify({
    choices: [{ message: { content: 'x'.repeat(2000) } }],
    usage: { total_tokens: 42 },
    list: Array.from({ length: 200 }, (_, i) => ({ i, s: `item${i}` })),
  });
  const message = 'db error password=hunter2 token=abc.def.ghi user=alice@example.com at /srv/app.js:10';
  const result = {
    'limiter.check': measure(2e6, (n) => { for (let i = 0; i < n; i++) limiter.check(keys[i % keys.length]); }),
    'cache.get': measure(2e6, (n) => { for (let i = 0; i < n; i++) cache.get(keys[i % keys.length]); }),
    'json.extractSync (8 KB)': measure(2e4, (n) => { for (let i = 0; i < n; i++) native.json.extractSync(doc, '/usage/total_tokens'); }),
    'json.parseSync (8 KB)': measure(2e4, (n) => { for (let i = 0; i < n; i++) native.json.parseSync(doc); }),
    sanitizeMessage: measure(2e5, (n) => { for (let i = 0; i < n; i++) sanitizeMessage(message); }),
  };
  console.log(JSON.stringify(result));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function main() {
  const [a, b, roundsArg] = process.argv.slice(2);
  if (!a || !b) throw new Error('usage: compare-profiles.js <addon-a.node> <addon-b.node> [rounds]');
  const rounds = Number(roundsArg || 5);
  const runs = { [a]: [], [b]: [] };
  for (let r = 0; r < rounds; r++) {
    for (const addon of [a, b]) {
      const out = spawnSync(process.execPath, [__filename, '--child'], {
        encoding: 'utf8',
        env: { ...process.env, NODE_ENV: 'test', QERRORS_NATIVE_LIBRARY_PATH: path.resolve(addon) },
      });
      if (out.status !== 0) throw new Error(`${addon}: ${out.stderr}`);
      runs[addon].push(JSON.parse(out.stdout));
    }
  }
  const names = Object.keys(runs[a][0]);
  console.log(`median ns per call over ${rounds} rounds; A = ${a}, B = ${b}`);
  console.log(`${'call'.padEnd(24)}  ${'A'.padStart(10)}  ${'B'.padStart(10)}`);
  for (const name of names) {
    const ma = median(runs[a].map((x) => x[name]));
    const mb = median(runs[b].map((x) => x[name]));
    console.log(`${name.padEnd(24)}  ${ma.toFixed(1).padStart(10)}  ${mb.toFixed(1).padStart(10)}`);
  }
}

if (process.argv.includes('--child')) child();
else main();
