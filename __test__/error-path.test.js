'use strict';

// The log thread (lib/logging/nativeSink.js, src/core/error_log): its lines are the
// JavaScript writer's byte for byte, what it accepted is in the files after process.exit(),
// its queue is bounded with drops counted and reported once, and a broken log file is
// reported once without harming the process. Each case runs in a child process: the
// logger reads its settings once per process.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');

/** Runs `code` in a child in a fresh directory with `env`; returns its output and directory. */
function runChild(code, env) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-error-path-'));
  const r = spawnSync(process.execPath, ['-e', code, ROOT], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, NODE_ENV: 'production', QERRORS_LOG_DIR: 'logs', ...env },
  });
  return { ...r, dir };
}

function read(dir, name) {
  return fs.readFileSync(path.join(dir, 'logs', name), 'utf8');
}

// Errors whose lines exercise every field and escape: control characters, quotes, non-ASCII,
// a code, a 4xx (logged as a warning: not in error.log), an object context, a request.
const VARIED = `
const qerrors = require(process.argv[1]);
const logger = require(process.argv[1] + '/lib/logging/logger');
(async () => {
  const e1 = new Error('boom "q" \\\\ back\\nnew\\ttab \\u0001 é € 😀 password=hunter2 jane@example.com');
  e1.code = 'ECONNREFUSED';
  await qerrors(e1, 'orders');
  const e2 = new Error('not found'); e2.statusCode = 404;
  await qerrors(e2, { user: 'x', requestId: 'r-1', nested: { b: 1, a: [1, 'two', null] } });
  const e3 = new TypeError('type'); e3.stack = undefined;
  await qerrors(e3);
  await qerrors(new Error('lone \\ud800 surrogate'), 'ctx');
  const req = { method: 'POST', url: '/x?token=abc', originalUrl: '/x?token=abc', headers: { 'x-request-id': 'req-7' }, get() {} };
  await qerrors(new Error('with req'), 'route', req, { headersSent: true });
  await logger.logInfo('plain entry', { k: 1 });
  await new Promise((r) => setImmediate(r));
  console.log('STATS ' + JSON.stringify(logger._logThreadStats()));
  process.exit(0);
})();
`;

/** A line without what differs between two runs: ids, times, pid, memory, fingerprints. */
function normalize(text) {
  return text
    .replace(/"memory":\{[^}]*\}/g, '')
    .replace(/"(id|uniqueErrorName|timestamp|fingerprint)":"[^"]*"/g, '"$1":""')
    .replace(/"pid":\d+/g, '')
    .replace(/AI advice for error [0-9a-f]+/g, 'AI advice');
}

test('the log thread writes the lines, console included, the JavaScript writer writes', () => {
  const native = runChild(VARIED, { QERRORS_LOG_THREAD: 'true' });
  const js = runChild(VARIED, { QERRORS_LOG_THREAD: 'false' });
  assert.strictEqual(native.status, 0, native.stderr);
  assert.strictEqual(js.status, 0, js.stderr);
  assert.match(native.stdout, /STATS \{"accepted":\d+/);
  assert.match(js.stdout, /STATS null/);
  for (const file of ['error.log', 'combined.log']) {
    const a = read(native.dir, file);
    const b = read(js.dir, file);
    assert.ok(a.length > 0);
    assert.strictEqual(normalize(a), normalize(b), file);
  }
  // error.log: the four 5xx errors, not the warning nor the info entries.
  assert.strictEqual(read(native.dir, 'error.log').trim().split('\n').length, 4);
  assert.match(read(native.dir, 'combined.log'), /"level":"warn","logLevel":"WARN"/);
  // Without the times, the error ids and the stats line.
  const consoleText = (r) => normalize(r.stdout.replace(/^STATS.*\n/m, '').replace(/^\S+ /gm, '').replace(/error [0-9a-f]{12}/g, 'error ID'));
  assert.strictEqual(consoleText(native), consoleText(js));
});

test('a repeated stack, its frames escaped once and shared, is written byte for byte', () => {
  // Frames seen twice are escaped once and shared by later entries (src/core/error_log/frames.rs).
  const code = `
const qerrors = require(process.argv[1]);
(async () => {
  const frames = '\\n    at handler (C:\\\\srv\\\\"quoted" dir\\\\app.js:10:5)\\n    at \\u0001ctl \\t(é€.js:2:3)'.repeat(6);
  for (let i = 0; i < 4; i++) {
    const e = new Error('again "' + i + '"');
    e.stack = 'Error: again "' + i + '"' + frames;
    await qerrors(e, 'loop');
  }
  process.exit(0);
})();
`;
  const native = runChild(code, { QERRORS_LOG_THREAD: 'true' });
  const js = runChild(code, { QERRORS_LOG_THREAD: 'false' });
  assert.strictEqual(native.status, 0, native.stderr);
  assert.strictEqual(js.status, 0, js.stderr);
  const a = read(native.dir, 'combined.log');
  const lines = a.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.error);
  assert.strictEqual(lines.length, 4, a);
  for (const [i, l] of lines.entries()) assert.match(l.error.stack, new RegExp(`^Error: again "${i}"\\n    at handler \\(C:\\\\srv`));
  assert.strictEqual(new Set(lines.map((l) => l.error.stack.slice(l.error.stack.indexOf('\n')))).size, 1);
  assert.strictEqual(normalize(a), normalize(read(js.dir, 'combined.log')));
});

test('with a custom pattern, the thread and the JavaScript writer write the same message', () => {
  // The entry's message is composed on the thread only when no custom pattern may change it.
  const code = VARIED.replace(
    "const logger = require(process.argv[1] + '/lib/logging/logger');",
    "const logger = require(process.argv[1] + '/lib/logging/logger');\nqerrors.addCustomSanitizationPattern(/boom|TypeError: /g, '[custom]');"
  );
  assert.notStrictEqual(code, VARIED);
  const native = runChild(code, { QERRORS_LOG_THREAD: 'true' });
  const js = runChild(code, { QERRORS_LOG_THREAD: 'false' });
  assert.strictEqual(native.status, 0, native.stderr);
  assert.strictEqual(js.status, 0, js.stderr);
  const a = read(native.dir, 'combined.log');
  assert.match(a, /"message":"Error: \[custom\] \\"q\\"/);
  // The pattern spans the name and the message: only the entry's own message shows it.
  assert.match(a, /"message":"\[custom\]type"/);
  assert.strictEqual(normalize(a), normalize(read(js.dir, 'combined.log')));
});

test('every accepted entry of 100 000 errors is in the files after process.exit()', () => {
  const code = `
const qerrors = require(process.argv[1]);
const logger = require(process.argv[1] + '/lib/logging/logger');
const errors = Array.from({ length: 20 }, (_, i) => new Error('storm ' + i));
let p;
for (let i = 0; i < 100000; i++) p = qerrors(errors[i % 20], 'storm');
p.then(() => {
  const s = logger._logThreadStats();
  process.stdout.write('STATS ' + JSON.stringify(s) + '\\n');
  process.exit(0);
});
`;
  const r = runChild(code, { QERRORS_VERBOSE: 'false', QERRORS_LOG_MAXSIZE: String(2 ** 40), QERRORS_LOG_QUEUE: '200000' });
  assert.strictEqual(r.status, 0, r.stderr);
  const stats = JSON.parse(/STATS (.*)/.exec(r.stdout)[1]);
  const lines = read(r.dir, 'combined.log').split('\n').filter((l) => l.includes('"message":"Error: storm'));
  assert.strictEqual(stats.dropped, 0);
  assert.strictEqual(stats.accepted, 100000);
  assert.strictEqual(lines.length, 100000);
  assert.strictEqual(read(r.dir, 'error.log').split('\n').filter(Boolean).length, 100000);
});

test('a full queue drops entries, counts them and reports once; what it accepted is written', () => {
  const code = `
const qerrors = require(process.argv[1]);
const logger = require(process.argv[1] + '/lib/logging/logger');
let p;
for (let i = 0; i < 20000; i++) p = qerrors(new Error('burst ' + i), 'burst');
p.then(() => {
  process.stdout.write('STATS ' + JSON.stringify(logger._logThreadStats()) + '\\n');
  process.exit(0);
});
`;
  const r = runChild(code, { QERRORS_VERBOSE: 'false', QERRORS_LOG_QUEUE: '4', QERRORS_LOG_MAXSIZE: String(2 ** 40) });
  assert.strictEqual(r.status, 0, r.stderr);
  const stats = JSON.parse(/STATS (.*)/.exec(r.stdout)[1]);
  assert.ok(stats.dropped > 0, JSON.stringify(stats));
  assert.strictEqual(stats.accepted + stats.dropped, 20000);
  assert.strictEqual(r.stderr.match(/the log queue is full/g).length, 1);
  const lines = read(r.dir, 'combined.log').split('\n').filter((l) => l.includes('"message":"Error: burst'));
  assert.strictEqual(lines.length, stats.accepted);
});

test('a log directory that is now a file is reported once; the process goes on', () => {
  const code = `
const fs = require('node:fs');
fs.writeFileSync('logs', 'not a directory');
const qerrors = require(process.argv[1]);
(async () => {
  for (let i = 0; i < 50; i++) await qerrors(new Error('after the break ' + i), 'x');
  await new Promise((r) => setTimeout(r, 50));
  console.log('ALIVE');
  process.exit(0);
})();
`;
  const r = runChild(code, { QERRORS_VERBOSE: 'false' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /ALIVE/);
  assert.strictEqual((r.stderr.match(/qerrors: log transport failed/g) || []).length, 1, r.stderr);
});

test('a log file deleted while it is written: the process goes on, later lines go to the open file', () => {
  const code = `
const fs = require('node:fs');
const qerrors = require(process.argv[1]);
const logger = require(process.argv[1] + '/lib/logging/logger');
(async () => {
  await qerrors(new Error('first'), 'x');
  await new Promise((r) => setTimeout(r, 50));
  fs.rmSync('logs', { recursive: true });
  for (let i = 0; i < 20; i++) await qerrors(new Error('after ' + i), 'x');
  process.stdout.write('STATS ' + JSON.stringify(logger._logThreadStats()) + '\\n');
  process.exit(0);
})();
`;
  const r = runChild(code, { QERRORS_VERBOSE: 'false' });
  assert.strictEqual(r.status, 0, r.stderr);
  const stats = JSON.parse(/STATS (.*)/.exec(r.stdout)[1]);
  assert.strictEqual(stats.dropped, 0);
  assert.ok(stats.accepted >= 21);
});

// The intake keeps the redacted stack natively for the entry (lib/native/keptStack.js): a
// qerrors() call made from a hook between another call's intake and its entry must leave
// each entry its own stack.
const NESTED = `
const qerrors = require(process.argv[1]);
const logger = require(process.argv[1] + '/lib/logging/logger');
const handler = qerrors.middleware({
  shouldLog(err) {
    if (err.message === 'outer') qerrors(function innerFrame() { return new Error('inner from hook'); }());
    return err.message !== 'quiet';
  },
});
const res = () => ({ headersSent: false, statusCode: 200, headers: {}, status(c) { this.statusCode = c; return this; }, setHeader(k, v) { this.headers[k] = v; }, getHeader() {}, json() { this.headersSent = true; return this; }, send() { this.headersSent = true; return this; }, end() { this.headersSent = true; } });
const req = { method: 'GET', url: '/n', originalUrl: '/n', headers: {}, get() {} };
(async () => {
  handler(function outerFrame() { return new Error('outer'); }(), req, res(), () => {});
  handler(function quietFrame() { return new Error('quiet'); }(), req, res(), () => {});
  await qerrors(function lastFrame() { return new Error('last'); }(), 'after');
  await new Promise((r) => setImmediate(r));
  console.log('STATS ' + JSON.stringify(logger._logThreadStats()));
  process.exit(0);
})();
`;

test('an error handled from a hook keeps each entry its own stack', () => {
  const native = runChild(NESTED, { QERRORS_LOG_THREAD: 'true' });
  const js = runChild(NESTED, { QERRORS_LOG_THREAD: 'false' });
  assert.strictEqual(native.status, 0, native.stderr);
  assert.strictEqual(js.status, 0, js.stderr);
  assert.match(native.stdout, /STATS \{"accepted":\d+/);
  const lines = read(native.dir, 'error.log').trim().split('\n').map((l) => JSON.parse(l));
  const byMessage = Object.fromEntries(lines.map((l) => [l.error.message, l.error.stack]));
  assert.deepStrictEqual(Object.keys(byMessage).sort(), ['inner from hook', 'last', 'outer']);
  assert.match(byMessage['inner from hook'], /innerFrame/);
  assert.match(byMessage.outer, /outerFrame/);
  assert.doesNotMatch(byMessage.outer, /innerFrame/);
  assert.match(byMessage.last, /lastFrame/);
  // The middleware generates the request ids.
  const same = (dir) => normalize(read(dir, 'error.log')).replace(/"requestId":"[^"]*"/g, '');
  assert.strictEqual(same(native.dir), same(js.dir));
});
