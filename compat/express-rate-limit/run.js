'use strict';

// Runs express-rate-limit's own jest suite twice: once against express-rate-limit itself
// ("pass on the peer") and once with the suite's imports of the library mapped to
// shim/*.cjs, plain re-exports of qerrors' `rateLimit` and `RateLimiterStore` ("pass on
// ours"). Tests of the peer's private internals are listed in not-applicable.js with the
// reason. The table goes into docs/compatibility.md between the express-rate-limit markers.
//
// node compat/run.js express-rate-limit --suite <dir> [--no-docs]
//   <dir>: a checkout of the tag below with its devDependencies installed (see
//   docs/compatibility.md). Nothing is fetched at run time.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { NOT_APPLICABLE, DIFFERENCES } = require('./not-applicable');

const TAG = 'v8.6.2';
const ROOT = path.resolve(__dirname, '..', '..');
const DOC = path.join(ROOT, 'docs', 'compatibility.md');
const BEGIN = '<!-- express-rate-limit:begin -->';
const END = '<!-- express-rate-limit:end -->';

/** @param {string[]} args */
function parseArgs(args) {
  const out = { suite: undefined, docs: true };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--suite') out.suite = args[++i];
    else if (args[i] === '--no-docs') out.docs = false;
    else throw new Error(`unknown argument ${args[i]}`);
  }
  if (!out.suite) throw new Error('--suite <dir> is required: a checkout of express-rate-limit ' + TAG);
  out.suite = path.resolve(out.suite);
  return out;
}

/**
 * Runs jest in the suite and returns Map<"file › full name", status>.
 * @param {string} suite @param {object | null} config @param {Record<string,string>} env
 */
function runJest(suite, config, env) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'erl-compat-'));
  const out = path.join(tmp, 'result.json');
  const args = ['--coverage=false', '--json', `--outputFile=${out}`, '--runInBand'];
  if (config) {
    const cfgFile = path.join(tmp, 'jest.config.json');
    fs.writeFileSync(cfgFile, JSON.stringify(config));
    args.push('--config', cfgFile);
  }
  const jest = path.join(suite, 'node_modules', 'jest', 'bin', 'jest.js');
  const r = spawnSync(process.execPath, [jest, ...args], {
    cwd: suite,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!fs.existsSync(out)) throw new Error(`jest produced no results:\n${r.stderr}`);
  const json = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(tmp, { recursive: true, force: true });
  const results = new Map();
  for (const file of json.testResults) {
    const base = path.basename(file.name);
    for (const a of file.assertionResults) {
      // Some tests share a name (the suite repeats a few); number the repeats.
      let id = `${base} › ${a.fullName}`;
      for (let n = 2; results.has(id); n++) id = `${base} › ${a.fullName} #${n}`;
      results.set(id, { status: a.status, message: (a.failureMessages || []).join('\n') });
    }
  }
  return results;
}

/** The suite's jest config with the library's entry points mapped to the shim. */
function oursConfig(suite) {
  const base = JSON.parse(fs.readFileSync(path.join(suite, 'jest.config.json'), 'utf8'));
  const shim = path.join(__dirname, 'shim');
  return {
    ...base,
    rootDir: suite,
    collectCoverage: false,
    moduleNameMapper: {
      '^\\.\\./\\.\\./source/index(\\.js)?$': path.join(shim, 'index.cjs'),
      '^\\.\\./\\.\\./source/memory-store(\\.js)?$': path.join(shim, 'memory-store.cjs'),
      ...base.moduleNameMapper,
    },
  };
}

/** @param {string} id */
function notApplicable(id, list = NOT_APPLICABLE) {
  for (const [pattern, reason] of list) {
    if (typeof pattern === 'string' ? id.startsWith(pattern) : pattern.test(id)) return reason;
  }
  return undefined;
}

async function main(args) {
  const opts = parseArgs(args);
  const pkg = JSON.parse(fs.readFileSync(path.join(opts.suite, 'package.json'), 'utf8'));
  if (`v${pkg.version}` !== TAG) console.warn(`warning: the suite is express-rate-limit ${pkg.version}, the table is for ${TAG}`);

  const peer = runJest(opts.suite, null, {});
  // A service's own fake-timer tests set this too (docs/rate-limiter.md, "Clock").
  const ours = runJest(opts.suite, oursConfig(opts.suite), { QERRORS_LIMITER_CLOCK: 'js' });
  // The same run on the default native clock, which jest's fake timers cannot move.
  const coarse = runJest(opts.suite, oursConfig(opts.suite), { QERRORS_LIMITER_CLOCK: 'coarse' });

  const rows = [];
  for (const [id, p] of peer) {
    const o = ours.get(id) || { status: 'missing', message: '' };
    rows.push({ id, peer: p.status, ours: o.status, message: o.message, na: notApplicable(id), diff: notApplicable(id, DIFFERENCES) });
  }
  const total = rows.length;
  const peerPass = rows.filter((r) => r.peer === 'passed').length;
  const applicable = rows.filter((r) => !r.na);
  const oursPass = applicable.filter((r) => r.ours === 'passed').length;
  const failing = applicable.filter((r) => r.ours !== 'passed');
  // Failures we chose on purpose still count as failures; only others fail the run.
  const unexpected = failing.filter((r) => !r.diff);
  const coarsePass = applicable.filter((r) => (coarse.get(r.id) || {}).status === 'passed').length;

  console.log(`express-rate-limit ${TAG}: ${total} tests, ${peerPass} pass on the peer, ${oursPass} of ${applicable.length} applicable pass on qerrors (${coarsePass} on the default coarse clock), ${total - applicable.length} not applicable`);
  for (const r of unexpected) {
    console.log(`\nFAIL ${r.id} (${r.ours})\n${r.message.split('\n').slice(0, 12).join('\n')}`);
  }
  if (opts.docs) writeDocs({ total, peerPass, applicable: applicable.length, oursPass, coarsePass, rows, failing });
  return unexpected.length === 0 ? 0 : 1;
}

function writeDocs(s) {
  const reasons = new Map();
  // Jest finishes files in varying order; the page lists them by name so reruns do not churn.
  for (const r of [...s.rows].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
    if (!r.na) continue;
    if (!reasons.has(r.na)) reasons.set(r.na, []);
    reasons.get(r.na).push(r.id);
  }
  const lines = [
    BEGIN,
    '## express-rate-limit',
    '',
    `Suite: express-rate-limit ${TAG}, \`test/library/*-test.ts\` (jest + ts-jest), run by`,
    '`node compat/run.js express-rate-limit --suite <dir>`; the suite\'s imports of the library',
    '(`source/index`, `source/memory-store`) are mapped to `compat/express-rate-limit/shim/`, plain',
    're-exports of `rateLimit` (default and named export), `RateLimiterStore` (as `MemoryStore`) and `ipKeyGenerator`.',
    'The run sets `QERRORS_LIMITER_CLOCK=js`, as a service\'s own fake-timer tests would, so that',
    'jest\'s fake `Date.now()` drives the limiter (docs/rate-limiter.md, "Clock").',
    '',
    '| peer (tag) | tests | pass on the peer | applicable | pass on ours | not applicable |',
    '| --- | --- | --- | --- | --- | --- |',
    `| express-rate-limit ${TAG} (jest) | ${s.total} | ${s.peerPass} | ${s.applicable} | ${s.oursPass} | ${s.total - s.applicable} |`,
    '',
    `On the default coarse native clock (no \`QERRORS_LIMITER_CLOCK\`), ${s.coarsePass} of the ${s.applicable} applicable tests`,
    'pass: the others advance jest\'s fake timers and expect the limiter to follow.',
    '',
  ];
  if (s.failing.length) {
    lines.push('Applicable tests that fail on ours, with the reason where the difference is deliberate:', '');
    const byReason = new Map();
    // Sorted like the list below, so reruns do not churn.
    for (const r of [...s.failing].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
      const why = r.diff || 'not yet compatible';
      if (!byReason.has(why)) byReason.set(why, []);
      byReason.get(why).push(r.id);
    }
    for (const [why, ids] of byReason) {
      lines.push(`- ${why} (${ids.length}):`);
      for (const id of ids) lines.push(`  - ${id}`);
    }
    lines.push('');
  }
  lines.push('Not applicable, with the reason:', '');
  for (const [reason, ids] of reasons) {
    const files = [...new Set(ids.map((id) => id.split(' › ')[0]))];
    // A reason covering whole files names the files, not each of their tests.
    const whole = files.every((f) => s.rows.filter((r) => r.id.startsWith(`${f} › `)).every((r) => r.na === reason));
    if (whole) {
      lines.push(`- ${files.map((f) => `all of ${f}`).join(', ')} (${ids.length}): ${reason}`);
      continue;
    }
    lines.push(`- ${reason} (${ids.length}):`);
    for (const id of ids) lines.push(`  - ${id}`);
  }
  lines.push(
    '',
    'Getting the suite (once; nothing is fetched when the script runs): check out the tag',
    `\`${TAG}\` of the express-rate-limit repository into a folder outside this repository, then in`,
    'that folder install the devDependencies the tests need: `jest`, `ts-jest`, `@jest/globals`,',
    '`typescript`, `express`, `supertest`, `ratelimit-header-parser`, the `@types/*` packages, `debug`,',
    '`ip-address` and `@express-rate-limit/tsconfig` at the versions its package.json pins (the',
    'pinned `@express-rate-limit/tsconfig@1.0.5` was not published; 1.0.2 works). The tooling-only',
    'devDependencies (linters, docs site, bundlers) are not needed.',
    END
  );
  const section = lines.join('\n');
  let doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '# Compatibility with peer libraries\n\n';
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a !== -1 && b > a) doc = doc.slice(0, a) + section + doc.slice(b + END.length);
  else doc = `${doc.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(DOC, doc);
  console.log(`updated ${path.relative(ROOT, DOC)}`);
}

module.exports = { main };
