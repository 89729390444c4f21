'use strict';

// Before/after: runs benchmarks from two checkouts of this repository, alternating per
// benchmark (A then B), so that both sides see the same machine at nearly the same time.
//   node benchmark/compare.js <checkout A> <checkout B> [benchmark names...]
// Each checkout needs its own built addon (`npm install` or `npm run build` there). A
// benchmark missing from either side is skipped with a note. Output is each run's own
// report, headed by the side, the time and the load average.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const [a, b, ...only] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node benchmark/compare.js <checkout A> <checkout B> [benchmark names...]');
  process.exit(2);
}
const NOT_BENCHMARKS = new Set(['index.js', 'support.js', 'compare.js']);
const names = (dir) =>
  fs
    .readdirSync(path.join(dir, 'benchmark'))
    .filter((f) => f.endsWith('.js') && !NOT_BENCHMARKS.has(f))
    .map((f) => path.basename(f, '.js'));
const wanted = only.length ? only : [...new Set([...names(a), ...names(b)])].sort();

let failed = 0;
for (const name of wanted) {
  for (const [label, dir] of [['A', a], ['B', b]]) {
    const file = path.join(dir, 'benchmark', `${name}.js`);
    if (!fs.existsSync(file)) {
      console.log(`\n### ${name} ${label}: not in ${dir}, skipped`);
      continue;
    }
    const load = os.loadavg()[0].toFixed(2);
    console.log(`\n### ${name} ${label} (${dir}) at ${new Date().toISOString()}, load average ${load}`);
    const r = spawnSync(process.execPath, ['--expose-gc', file], { cwd: dir, stdio: 'inherit' });
    if (r.status !== 0) {
      failed++;
      console.log(`### ${name} ${label} failed (status ${r.status})`);
    }
  }
}
process.exitCode = failed ? 1 : 0;
