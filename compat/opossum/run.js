'use strict';

// opossum's own tape suite (tag v9.0.0) against our CircuitBreaker. The suite's tests
// `require('../')` (and `../lib/status.js`, `../lib/cache`); for our run they are copied
// into a temporary directory whose index.js re-exports our class and whose lib/ files
// re-export our Status and MemoryCache: the plain re-export a user would write. The peer
// run executes the same files in the checkout itself. tape comes from our devDependencies.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseTap } = require('./tap');
const notApplicable = require('./not-applicable');
const { writeSection } = require('./report');

const REPO = path.resolve(__dirname, '..', '..');
const TAG = 'v9.0.0';
const FILE_TIMEOUT_MS = 120000;

/** The suite's test files (common.js holds helpers, not tests). */
function testFiles(suite) {
  const dir = path.join(suite, 'test');
  if (!fs.existsSync(dir)) throw new Error(`${dir} not found: --suite must be a checkout of opossum ${TAG}`);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.js') && f !== 'common.js')
    .sort();
}

/** Runs one test file with node; returns its tests as parsed from the TAP output. */
function runFile(dir, file) {
  const r = spawnSync(process.execPath, [path.join('test', file)], {
    cwd: dir,
    env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules'), NODE_ENV: 'test' },
    encoding: 'utf8',
    timeout: FILE_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const tests = parseTap(r.stdout || '');
  const crashed = r.status !== 0 && tests.every((t) => t.ok);
  if (crashed) tests.push({ name: `(file exited with ${r.status ?? r.signal})`, ok: false, failures: [(r.stderr || '').split('\n')[0]] });
  return tests;
}

/** A copy of the suite's tests next to shims that re-export our classes. */
function ourTree(suite) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-compat-opossum-'));
  fs.cpSync(path.join(suite, 'test'), path.join(dir, 'test'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'lib'));
  const pkg = JSON.stringify(REPO);
  fs.writeFileSync(path.join(dir, 'index.js'), `module.exports = require(${pkg}).CircuitBreaker;\n`);
  fs.writeFileSync(path.join(dir, 'lib', 'status.js'), `module.exports = require(${pkg}).CircuitBreaker.Status;\n`);
  fs.writeFileSync(path.join(dir, 'lib', 'cache.js'), `module.exports = require(${pkg}).CircuitBreaker.MemoryCache;\n`);
  return dir;
}

/** Keys tests by file and position among same-named tests (names repeat). */
function keyed(file, tests) {
  const seen = new Map();
  return tests.map((t) => {
    const n = seen.get(t.name) ?? 0;
    seen.set(t.name, n + 1);
    return { ...t, key: `${file}\u0000${t.name}\u0000${n}`, file };
  });
}

async function run({ suite, write }) {
  const pkg = JSON.parse(fs.readFileSync(path.join(suite, 'package.json'), 'utf8'));
  if (pkg.name !== 'opossum' || `v${pkg.version}` !== TAG) {
    console.warn(`warning: the suite is ${pkg.name}@${pkg.version}, the recorded tag is ${TAG}`);
  }
  const files = testFiles(suite);
  const tree = ourTree(suite);
  const peer = new Map();
  const ours = new Map();
  const rows = [];
  try {
    for (const file of files) {
      const p = keyed(file, runFile(suite, file));
      const o = keyed(file, runFile(tree, file));
      for (const t of p) peer.set(t.key, t);
      for (const t of o) ours.set(t.key, t);
      const na = notApplicable[file] || {};
      for (const t of p) {
        const reason = na['*'] || na[t.name];
        const mine = ours.get(t.key);
        rows.push({ file, name: t.name, peerOk: t.ok, oursOk: Boolean(mine && mine.ok), failures: mine ? mine.failures : ['did not run'], reason });
      }
      const applicable = rows.filter((r) => r.file === file && !r.reason);
      console.log(`${file}: ${p.length} tests, peer ${p.filter((t) => t.ok).length}, ours ${applicable.filter((r) => r.oursOk).length}/${applicable.length} applicable`);
    }
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
  const applicable = rows.filter((r) => !r.reason);
  const summary = {
    total: rows.length,
    peerPass: rows.filter((r) => r.peerOk).length,
    applicable: applicable.length,
    oursPass: applicable.filter((r) => r.oursOk).length,
    notApplicable: rows.length - applicable.length,
  };
  console.log(
    `opossum ${TAG}: ${summary.total} tests, ${summary.peerPass} pass on opossum, ${summary.oursPass} of ${summary.applicable} applicable pass on ours, ${summary.notApplicable} not applicable`
  );
  for (const r of applicable.filter((x) => !x.oursOk)) console.log(`  FAIL ${r.file}: ${r.name}: ${r.failures[0] ?? ''}`);
  if (write) writeSection(path.join(REPO, 'docs', 'compatibility.md'), TAG, summary, rows);
  return summary.oursPass === summary.applicable ? 0 : 1;
}

/**
 * Reads `--suite <dir>` (required) and `--write` (regenerate opossum's section of
 * docs/compatibility.md), then runs the suite.
 * @param {string[]} argv
 */
function main(argv) {
  let suite;
  let write = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--suite') suite = argv[++i];
    else if (argv[i] === '--write') write = true;
    else throw new Error(`unknown argument ${argv[i]} (expected --suite <dir> [--write])`);
  }
  if (!suite) throw new Error('--suite <dir> is required: a checkout of opossum ' + TAG);
  return run({ suite: path.resolve(suite), write });
}

module.exports = { main, run };
