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
    if (/\bexpose\(/.test(outside.replace(/^import .*$/gm, ''))) found.add(`test/${f}`);
    starts.forEach((m, i) => {
      const block = text.slice(m.index, i + 1 < starts.length ? starts[i + 1].index : undefined);
      if (/\bexpose\(/.test(block)) found.add(`test/${f} > ${m[2]}`);
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
  const rewrite = (file, to) => {
    const text = fs.readFileSync(file, 'utf8');
    const out = text
      .split("'../dist/esm/node/index.js'").join(`'${to}'`)
      .split("'../../dist/esm/node/index.js'").join(`'${to}'`)
      .split("'../src/index.js'").join(`'${to}'`);
    fs.writeFileSync(file, out);
  };
  for (const f of fs.readdirSync(dst)) {
    if (/\.(ts|mjs)$/.test(f) && f !== 'qerrors-shim.mjs') rewrite(path.join(dst, f), './qerrors-shim.mjs');
  }
  const fixtures = path.join(dst, 'fixtures');
  if (fs.existsSync(fixtures)) {
    for (const f of fs.readdirSync(fixtures)) rewrite(path.join(fixtures, f), '../qerrors-shim.mjs');
  }
  return dst;
}

/**
 * Runs tap on the files of `dir` and returns the top-level tests of each file.
 * @returns {Map<string, boolean>} `<file> > <name>` -> passed
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
  const results = new Map();
  let file = null;
  let inSubtest = false;
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
      continue;
    }
    const m = /^ {4}(not )?ok \d+ - (.*?)(?: # (?:time|SKIP|TODO).*)?$/.exec(line);
    if (m && file) {
      if (inSubtest) {
        let key = `${file} > ${m[2]}`;
        for (let n = 2; results.has(key); n++) key = `${file} > ${m[2]} (${n})`;
        results.set(key, !m[1]);
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

function section(peer, ours, internals) {
  const keys = [...new Set([...peer.keys(), ...ours.keys()])].sort();
  let na = 0;
  let applicable = 0;
  let peerPass = 0;
  let oursPass = 0;
  let oursApplicablePass = 0;
  const naRows = [];
  const failing = [];
  for (const k of keys) {
    const [file, ...rest] = k.split(' > ');
    const reason = notApplicable(internals, file, rest.join(' > '));
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
    'Not applicable (tests of lru-cache internals or its build):',
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
