'use strict';

// Runs lru-cache's own tap suite against LruCache, through a plain re-export:
//   node compat/run.js lru-cache --suite <checkout of node-lru-cache at the tag below>
// The checkout must have its devDependencies installed and be built (`npm install`,
// `npm run prepare`) so that the suite also runs against lru-cache itself. Its tests
// are copied into <suite>/test-qerrors with the imports of lru-cache's class pointed at
// a shim that only re-exports ours; nothing else in them is changed. Results go to
// docs/compatibility.md between the lru-cache markers.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { pathToFileURL } = require('node:url');

const TAG = 'v11.3.6';
const REPO = path.resolve(__dirname, '..', '..');
const DOC = path.join(REPO, 'docs', 'compatibility.md');
const BEGIN = '<!-- lru-cache:begin -->';
const END = '<!-- lru-cache:end -->';

// Tests that read lru-cache's private internals or its build, with the reason. Keys are
// `<file> > <top-level test name>`, or `<file>` for every test of a file.
const NOT_APPLICABLE = {
  'test/avoid-tla.ts': 'checks how lru-cache is bundled (no top-level await in its build)',
  'test/dummy-diagnostics-channel.ts': "lru-cache's internal diagnostics-channel shim",
  'test/perf.ts': "lru-cache's internal clock module (src/perf.js)",
  'test/tracing.ts': "lru-cache's diagnostics_channel tracing events",
  'test/esm-load.mjs': "loads lru-cache's build outputs",
  'test/import.mjs': "loads lru-cache's build outputs",
  'test/basic.ts > verify require works as expected': "resolves lru-cache's package entry points",
  'test/lost-background-fetch.ts': "imports lru-cache's source (src/index.ts) directly",
};

const INTERNALS = "reads lru-cache's private fields through LRUCache.unsafeExposeInternals";

/** A call of the `expose` fixture, with or without type arguments (`expose<K, V>(c)`). */
const EXPOSE_CALL = /\bexpose\s*(?:<[^()]*?>)?\s*\(/;

/**
 * Top-level tests (and files) of the suite that call the `expose` fixture, which reads
 * lru-cache's private fields: found in the test source, not from results.
 * @param {string} suite
 * @returns {Set<string>} `<file> > <name>` or `<file>` when code outside any test uses it
 */
function exposeUsers(suite) {
  const found = new Set();
  const dir = path.join(suite, 'test');
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const starts = [...text.matchAll(/^t\.test\(\s*(['"`])(.*?)\1/gm)];
    const outside = starts.length ? text.slice(0, starts[0].index) : text;
    if (EXPOSE_CALL.test(outside.replace(/^import .*$/gm, ''))) found.add(`test/${f}`);
    starts.forEach((m, i) => {
      const block = text.slice(m.index, i + 1 < starts.length ? starts[i + 1].index : undefined);
      if (EXPOSE_CALL.test(block)) found.add(`test/${f} > ${m[2]}`);
    });
  }
  return found;
}

/** @param {Set<string>} internals @param {string} file @param {string} name */
function notApplicable(internals, file, name) {
  const listed = NOT_APPLICABLE[`${file} > ${name}`] || NOT_APPLICABLE[file];
  if (listed) return listed;
  return internals.has(file) || internals.has(`${file} > ${name}`) ? INTERNALS : undefined;
}

/** @param {string[]} argv */
function parseArgs(argv) {
  const i = argv.indexOf('--suite');
  if (i < 0 || !argv[i + 1]) {
    throw new Error(
      `usage: node compat/run.js lru-cache --suite <dir> (a node-lru-cache checkout at ${TAG}, ` +
        'devDependencies installed, built with npm run prepare)'
    );
  }
  return { suite: path.resolve(argv[i + 1]), write: !argv.includes('--no-write') };
}

/** Copies the suite's tests to test-qerrors with lru-cache's class imports rewritten. */
function makeShimmedCopy(suite) {
  const src = path.join(suite, 'test');
  const dst = path.join(suite, 'test-qerrors');
  fs.rmSync(dst, { recursive: true, force: true });
  fs.cpSync(src, dst, { recursive: true });
  // tap looks snapshots up by test path: the copies use the suite's own snapshots.
  const snaps = path.join(suite, 'tap-snapshots');
  fs.rmSync(path.join(snaps, 'test-qerrors'), { recursive: true, force: true });
  if (fs.existsSync(path.join(snaps, 'test'))) {
    fs.mkdirSync(path.join(snaps, 'test-qerrors'));
    for (const f of fs.readdirSync(path.join(snaps, 'test'))) {
      const text = fs.readFileSync(path.join(snaps, 'test', f), 'utf8');
      fs.writeFileSync(
        path.join(snaps, 'test-qerrors', f),
        text.split('exports[`test/').join('exports[`test-qerrors/')
      );
    }
  }
  const shim = pathToFileURL(path.join(REPO, 'lib', 'native', 'cache', 'index.js')).href;
  fs.writeFileSync(
    path.join(dst, 'qerrors-shim.mjs'),
    `export { LruCache as LRUCache } from ${JSON.stringify(shim)}\n`
  );
  // The CommonJS build is loaded by `t.mockRequire` (a fresh module, so its once-per-process
  // warning fires again): its shim re-exports ours the same way.
  fs.writeFileSync(
    path.join(dst, 'qerrors-shim.cjs'),
    `module.exports = { LRUCache: require(${JSON.stringify(path.join(REPO, 'lib', 'native', 'cache', 'index.js'))}).LruCache }\n`
  );
  const rewrite = (file, dir) => {
    const text = fs.readFileSync(file, 'utf8');
    const out = text
      .split("'../dist/esm/node/index.js'").join(`'${dir}/qerrors-shim.mjs'`)
      .split("'../../dist/esm/node/index.js'").join(`'${dir}/qerrors-shim.mjs'`)
      .split("'../src/index.js'").join(`'${dir}/qerrors-shim.mjs'`)
      .split("'../dist/commonjs/node/index.js'").join(`'${dir}/qerrors-shim.cjs'`);
    fs.writeFileSync(file, out);
  };
  for (const f of fs.readdirSync(dst)) {
    if (/\.(ts|mjs)$/.test(f) && f !== 'qerrors-shim.mjs') rewrite(path.join(dst, f), '.');
  }
  const fixtures = path.join(dst, 'fixtures');
  if (fs.existsSync(fixtures)) {
    for (const f of fs.readdirSync(fixtures)) rewrite(path.join(fixtures, f), '..');
  }
  return dst;
}

/**
 * How far every failure of a top-level test is a clock shift of its snapshots, from its
 * tap output: each failing assertion's diff changes only `start` and `now` fields, all
 * by one constant (expected minus actual, ms). Such a test passes everything else;
 * its snapshots were recorded after clock moves an earlier test makes (see `section`).
 * @param {string[]} body the test's output lines
 * @returns {number | undefined} the shift, or undefined when any failure is anything else
 */
function clockShift(body) {
  let shift;
  let failures = 0;
  for (let i = 0; i < body.length; i++) {
    if (!/^ {8}not ok /.test(body[i])) continue;
    failures++;
    let j = i + 1;
    while (j < body.length && !/^ {10}diff: /.test(body[j]) && !/^ {8}\S/.test(body[j])) j++;
    if (j === body.length || !/^ {10}diff: /.test(body[j])) return undefined;
    /** @type {number[]} */
    const minus = [];
    /** @type {number[]} */
    const plus = [];
    for (j++; j < body.length && /^ {12}/.test(body[j]); j++) {
      const d = body[j].slice(12);
      if (/^(---|\+\+\+|@@)/.test(d) || !/^[-+]/.test(d)) continue;
      const f = /^([-+])\s+"(?:start|now)": (-?\d+(?:\.\d+)?),?$/.exec(d);
      if (!f) return undefined;
      (f[1] === '-' ? minus : plus).push(Number(f[2]));
    }
    if (minus.length === 0 || minus.length !== plus.length) return undefined;
    for (let k = 0; k < minus.length; k++) {
      const d = minus[k] - plus[k];
      if (shift === undefined) shift = d;
      else if (d !== shift) return undefined;
    }
  }
  return failures > 0 ? shift : undefined;
}

/**
 * Runs tap on the files of `dir` and returns the top-level tests of each file, with the
 * clock shift of those whose only failures are one (see clockShift).
 * @returns {Map<string, boolean> & { shifts: Map<string, number> }} `<file> > <name>` -> passed
 */
function runTap(suite, dir) {
  const files = fs
    .readdirSync(path.join(suite, dir))
    .filter((f) => /\.(ts|mjs)$/.test(f) && f !== 'qerrors-shim.mjs')
    .map((f) => `${dir}/${f}`);
  const r = spawnSync(
    path.join(suite, 'node_modules', '.bin', 'tap'),
    ['--reporter=tap', '--disable-coverage', '--allow-empty-coverage', '-t', '60', ...files],
    { cwd: suite, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NODE_ENV: 'test' } }
  );
  const results = /** @type {Map<string, boolean> & { shifts: Map<string, number> }} */ (new Map());
  results.shifts = new Map();
  let file = null;
  let inSubtest = false;
  /** @type {string[]} the running top-level test's lines */
  let body = [];
  /** @type {boolean | null} every top-level assertion of the file so far passed */
  let loose = null;
  const endFile = () => {
    if (file !== null && loose !== null) results.set(`${file} > (top-level assertions)`, loose);
    loose = null;
  };
  for (const line of r.stdout.split('\n')) {
    const sub = /^# Subtest: (\S+)/.exec(line);
    if (sub) {
      endFile();
      file = sub[1].replace(/^test-qerrors\//, 'test/');
      continue;
    }
    if (/^ {4}# Subtest: /.test(line)) {
      inSubtest = true;
      body = [];
      continue;
    }
    if (inSubtest) body.push(line);
    const m = /^ {4}(not )?ok \d+ - (.*?)(?: # (?:time|SKIP|TODO).*)?$/.exec(line);
    if (m && file) {
      if (inSubtest) {
        let key = `${file} > ${m[2]}`;
        for (let n = 2; results.has(key); n++) key = `${file} > ${m[2]} (${n})`;
        results.set(key, !m[1]);
        const shift = m[1] ? clockShift(body) : undefined;
        if (shift !== undefined) results.shifts.set(key, shift);
        inSubtest = false;
      } else {
        loose = (loose ?? true) && !m[1];
      }
      continue;
    }
    // A file that fails to load or dies reports `not ok` for the file itself.
    const top = /^(not )?ok \d+ - (\S+)/.exec(line);
    if (top && top[1] && file) {
      const anyFailed = [...results].some(([k, ok]) => k.startsWith(`${file} > `) && !ok);
      if (!anyFailed && loose !== false) results.set(`${file} > (file did not complete)`, false);
    }
  }
  endFile();
  return results;
}

/**
 * Why a test that fails on ours only by a clock shift (clockShift) is not applicable, or
 * undefined: it must pass on lru-cache, and earlier tests of its file that read
 * internals must have stopped on ours (so the clock moves they make after that read
 * never happen, while the file's snapshots were recorded with them).
 * @param {Map<string, boolean>} peer
 * @param {Map<string, boolean> & { shifts: Map<string, number> }} ours
 * @param {Set<string>} internals
 * @param {string[]} order ours' tests in the order they ran
 * @param {string} key
 */
function shifted(peer, ours, internals, order, key) {
  const shift = ours.shifts.get(key);
  if (shift === undefined || !(shift > 0) || !peer.get(key)) return undefined;
  const file = key.split(' > ')[0];
  const stopped = order
    .slice(0, order.indexOf(key))
    .filter((k) => k.startsWith(`${file} > `) && !ours.get(k) && notApplicable(internals, file, k.slice(file.length + 3)) === INTERNALS)
    .map((k) => `\`${k.slice(file.length + 3)}\``);
  if (stopped.length === 0) return undefined;
  return (
    `every assertion passes but its status snapshots' \`start\`/\`now\`, ${shift} ms early: the file's one clock ` +
    `was moved on by ${stopped.join(' and ')} (reading internals, above) past the point where they stop on ours`
  );
}

function section(peer, ours, internals) {
  const keys = [...new Set([...peer.keys(), ...ours.keys()])].sort();
  let na = 0;
  let applicable = 0;
  let peerPass = 0;
  let oursPass = 0;
  let oursApplicablePass = 0;
  const naRows = [];
  const failing = [];
  const order = [...ours.keys()];
  for (const k of keys) {
    const [file, ...rest] = k.split(' > ');
    const reason = notApplicable(internals, file, rest.join(' > ')) ?? shifted(peer, ours, internals, order, k);
    if (peer.get(k)) peerPass++;
    if (ours.get(k)) oursPass++;
    if (reason) {
      na++;
      naRows.push(`| ${k.replace(/\|/g, '\\|')} | ${reason} |`);
    } else {
      applicable++;
      if (ours.get(k)) oursApplicablePass++;
      else failing.push(`- ${k}`);
    }
  }
  return [
    BEGIN,
    '## lru-cache',
    '',
    `Suite: lru-cache's own tests (tap) at tag \`${TAG}\` of its public repository`,
    '(isaacs/node-lru-cache). Get it with `git clone` of that repository, `git checkout',
    `${TAG}\`, \`npm install\` and \`npm run prepare\` (tap 21.7.4 with \`@tapjs/clock\``,
    '3.3.10 where the locked tap cannot load the clock plugin), then run',
    '`node compat/run.js lru-cache --suite <checkout>`. A test is one top-level `t.test`',
    'of a file; the assertions a file makes outside any `t.test` count as one more.',
    'Ours runs through a shim that only re-exports `LruCache` as',
    '`LRUCache`.',
    '',
    '| tests | pass on lru-cache | not applicable | applicable | pass on ours (applicable) |',
    '| --- | --- | --- | --- | --- |',
    `| ${keys.length} | ${peerPass} | ${na} | ${applicable} | ${oursApplicablePass} (${oursPass} in all) |`,
    '',
    'Not applicable (tests of lru-cache internals or its build, and tests whose only failures',
    'are snapshot times shifted by such a test; the runner checks each diff):',
    '',
    '| test | reason |',
    '| --- | --- |',
    ...naRows,
    '',
    'Applicable tests failing on ours:',
    '',
    ...(failing.length ? failing : ['- none']),
    END,
  ].join('\n');
}

function writeSection(text) {
  let doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '# Compatibility with peer test suites\n';
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  if (b >= 0 && e > b) doc = doc.slice(0, b) + text + doc.slice(e + END.length);
  else doc = `${doc.trimEnd()}\n\n${text}\n`;
  fs.writeFileSync(DOC, doc);
}

/** @param {string[]} argv */
function main(argv) {
  const { suite, write } = parseArgs(argv);
  if (!fs.existsSync(path.join(suite, 'dist'))) {
    throw new Error(`${suite} is not built: run npm install and npm run prepare there first`);
  }
  makeShimmedCopy(suite);
  const peer = runTap(suite, 'test');
  const ours = runTap(suite, 'test-qerrors');
  const text = section(peer, ours, exposeUsers(suite));
  if (write) writeSection(text);
  console.log(text);
  return 0;
}

module.exports = { main };
