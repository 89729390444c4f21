'use strict';

// Runs every benchmark in its own process, one after another (they compete for the
// same two cores otherwise). `npm run bench -- rate-limiter json` runs a subset;
// benchmark/compare.js alternates the same benchmarks between two checkouts.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const only = process.argv.slice(2);
const files = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.js') && !['index.js', 'support.js', 'compare.js'].includes(f))
  .filter((f) => only.length === 0 || only.includes(path.basename(f, '.js')))
  .sort();

let failed = 0;
for (const f of files) {
  console.log(`\n### ${f}`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`### ${f} failed (status ${r.status})`);
  }
}
process.exitCode = failed ? 1 : 0;
