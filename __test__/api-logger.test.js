'use strict';

// Logging: entries, the lazy thenable logger, files created on first write
// (size-based and daily rotation with QERRORS_LOG_MAX_DAYS), redaction before writing.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const q = require('..');
const root = path.resolve(__dirname, '..');

test('createEnhancedLogEntry: key order, level names, memory for WARN and above', () => {
  const e = q.createEnhancedLogEntry('info', 'hello token=abc', { a: 1, password: 'p' }, 'req-1');
  assert.deepEqual(Object.keys(e), ['timestamp', 'level', 'message', 'service', 'version', 'environment', 'pid', 'hostname', 'requestId', 'context']);
  assert.equal(e.level, 'INFO');
  assert.equal(e.message, 'hello token=[REDACTED]');
  assert.deepEqual(e.context, { a: 1, password: '[REDACTED]' });
  assert.equal(e.pid, process.pid);
  assert.equal(e.hostname, os.hostname());
  assert.equal(e.service, process.env.QERRORS_SERVICE_NAME || 'qerrors');
  const w = q.createEnhancedLogEntry('WARN', 'w', {});
  assert.deepEqual(Object.keys(w).slice(-1), ['memory']);
  assert.deepEqual(Object.keys(w.memory), ['heapUsed', 'heapTotal', 'external', 'rss']);
  assert.equal('context' in w, false, 'empty context omitted');
  assert.equal('requestId' in w, false);
  for (const lvl of ['ERROR', 'FATAL', 'AUDIT']) assert.ok('memory' in q.createEnhancedLogEntry(lvl, 'x'), lvl);
  assert.equal('memory' in q.createEnhancedLogEntry('DEBUG', 'x'), false);
  assert.equal(q.createEnhancedLogEntry('custom', 'x').level, 'custom', 'unknown levels kept');
  assert.equal(q.createEnhancedLogEntry(42, 'x').level, '42', 'non-string levels coerced');
  assert.equal(Date.parse(e.timestamp) > 0, true);
});

test('LOG_LEVELS table', () => {
  assert.deepEqual(q.LOG_LEVELS.DEBUG, { priority: 10, color: '\x1b[36m', name: 'DEBUG' });
  assert.deepEqual(Object.keys(q.LOG_LEVELS), ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'AUDIT']);
  assert.deepEqual(Object.values(q.LOG_LEVELS).map((l) => l.priority), [10, 20, 30, 40, 50, 60]);
  assert.deepEqual(Object.values(q.LOG_LEVELS).map((l) => l.color), ['\x1b[36m', '\x1b[32m', '\x1b[33m', '\x1b[31m', '\x1b[35m', '\x1b[34m']);
});

test('log functions hand redacted entries to the main logger and never reject', async () => {
  const main = await q.logger;
  const Transport = require('winston').Transport;
  const seen = [];
  class Capture extends Transport {
    log(info, cb) {
      seen.push(info);
      cb();
    }
  }
  const capture = new Capture({ level: 'debug' });
  const wasSilent = main.silent;
  const consoles = main.transports.filter((x) => x.name === 'console');
  for (const c of consoles) c.silent = true;
  main.silent = false;
  main.level = 'debug';
  main.add(capture);
  try {
    const cyclic = { token: 'secret-value' };
    cyclic.self = cyclic;
    await q.logInfo('user a@b.co logged in', cyclic, 'r-9');
    await q.logAudit('audit');
    await q.logFatal('fatal');
    await q.logDebug('debug');
    await q.logger.logStart('fn', { x: 1 });
    await q.logger.logReturn('fn', 1n);
    main.error({ message: 'direct', password: 'p', nested: { apiKey: 'k', note: 'card 4111 1111 1111 1111' } });
    main.warn(new Error('thrown token=abc'));
    assert.equal(seen[0].message, 'user [EMAIL-REDACTED] logged in');
    assert.deepEqual(seen[0].context, { token: '[REDACTED]', self: '[Circular]' });
    assert.deepEqual([seen[0].level, seen[0].logLevel, seen[0].requestId], ['info', 'INFO', 'r-9']);
    assert.deepEqual(seen.slice(1, 4).map((i) => [i.level, i.logLevel]), [['info', 'AUDIT'], ['error', 'FATAL'], ['debug', 'DEBUG']]);
    assert.equal(seen[4].message, 'fn start {"x":1}');
    assert.equal(seen[5].message, 'fn return [Unserializable]');
    assert.deepEqual([seen[6].password, seen[6].nested], ['[REDACTED]', { apiKey: '[REDACTED]', note: 'card [CARD-REDACTED]' }]);
    assert.equal(seen[7].message, 'thrown token=[REDACTED]');
    assert.equal(seen[7].stack.includes('abc'), false);
  } finally {
    main.remove(capture);
    main.level = 'info';
    main.silent = wasSilent;
    for (const c of consoles) c.silent = false;
  }
});

test('createPerformanceTimer: callable with the members of both historical shapes', async () => {
  const timer = q.createPerformanceTimer('opX', 'rid');
  assert.equal(typeof timer, 'function');
  assert.equal(typeof timer.elapsed(), 'number');
  assert.match(timer.elapsedFormatted(), /^\d+\.\d\dms$/);
  assert.equal(timer.logPerformance, timer);
  const ctx = await timer(true, { extra: 1 });
  assert.deepEqual(Object.keys(ctx), ['operation', 'duration_ms', 'success', 'extra', 'memory_delta']);
  assert.deepEqual(Object.keys(ctx.memory_delta), ['heapUsed', 'external']);
  assert.equal(ctx.operation, 'opX');
  assert.equal((await timer.end()).success, true);
  assert.equal((await timer.logPerformance(false)).success, false);
});

test('simpleLogger and createSimpleWinstonLogger are real winston loggers', () => {
  const winston = require('winston');
  assert.equal(q.simpleLogger, q.logger.simpleLogger);
  assert.equal(q.simpleLogger.level, 'info');
  assert.equal(q.simpleLogger.transports.length, 1);
  assert.ok(q.simpleLogger.transports[0] instanceof winston.transports.Console);
  const a = q.createSimpleWinstonLogger();
  assert.notEqual(a, q.createSimpleWinstonLogger());
  assert.ok(a instanceof winston.Logger || typeof a.add === 'function');
  const extra = new winston.transports.Stream({ stream: new (require('node:stream').PassThrough)() });
  a.add(extra);
  assert.equal(a.transports.length, 2, 'users can add transports');
});

function runChild(t, env, code) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-logs-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 20000,
    env: { ...process.env, NODE_ENV: 'production', QERRORS_VERBOSE: 'false', ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return { dir, stdout: r.stdout };
}

const WRITE_LOGS = `
  const fs = require('fs');
  const q = require(${JSON.stringify(root)});
  const before = fs.existsSync(process.env.QERRORS_LOG_DIR || 'logs');
  (async () => {
    await q.logInfo('info user=bob password=hunter2');
    await q.logError('failure for a@b.co', { apiKey: 'k-123' });
    await q.qerrors(new Error('handled token=zzz'), 'ctx');
    const main = await q.logger;
    await new Promise((r) => setTimeout(r, 300));
    main.close();
    await new Promise((r) => setTimeout(r, 100));
    console.log(JSON.stringify({ before }));
  })();
`;

function readLines(file) {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

test('size-based files: created on first write, JSON lines, secrets redacted', (t) => {
  const { dir, stdout } = runChild(t, {}, WRITE_LOGS);
  assert.deepEqual(JSON.parse(stdout), { before: false });
  const logs = path.join(dir, 'logs');
  assert.deepEqual(fs.readdirSync(logs).sort(), ['combined.log', 'error.log']);
  // The AI pipeline may add an info line with its (offline) advice for the handled error.
  const combined = readLines(path.join(logs, 'combined.log')).filter((l) => !l.message.startsWith('AI advice'));
  const errors = readLines(path.join(logs, 'error.log'));
  assert.equal(combined.length, 3);
  assert.equal(errors.length, 2, 'only error-level entries in error.log');
  const text = fs.readFileSync(path.join(logs, 'combined.log'), 'utf8');
  for (const secret of ['hunter2', 'a@b.co', 'k-123', 'zzz']) assert.equal(text.includes(secret), false, secret);
  assert.equal(combined[0].message, 'info user=bob password=[REDACTED]');
  assert.equal(combined[0].service, 'qerrors');
  // ISO 8601 in UTC with milliseconds, as winston's and pino's JSON lines carry.
  assert.match(combined[0].timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.match(errors[1].message, /^Error: handled token=\[REDACTED\]$/);
  assert.match(errors[1].error.id, /^[0-9a-f]{12}$/);
  assert.equal(errors[1].status, 500);
  assert.equal(errors[1].context, 'ctx');
  // The version npm reports (under `npm test`), else the service's own package.json: the child's
  // cwd has none, so 'unknown'.
  assert.equal(combined[0].version, process.env.npm_package_version || 'unknown');
});

test('QERRORS_LOG_MAX_DAYS > 0: daily rotated files with that retention, in QERRORS_LOG_DIR', (t) => {
  const { dir } = runChild(t, { QERRORS_LOG_MAX_DAYS: '3', QERRORS_LOG_DIR: 'custom/dir', QERRORS_SERVICE_NAME: 'svc-a' }, WRITE_LOGS);
  const logs = path.join(dir, 'custom', 'dir');
  const files = fs.readdirSync(logs);
  const day = /^(error|combined)-\d{4}-\d\d-\d\d\.log$/;
  assert.equal(files.filter((f) => day.test(f)).length, 2, files.join(','));
  const audits = files.filter((f) => f.endsWith('-audit.json')).map((f) => JSON.parse(fs.readFileSync(path.join(logs, f), 'utf8')));
  assert.equal(audits.length, 2);
  for (const a of audits) assert.deepEqual(a.keep, { days: true, amount: 3 });
  const combined = readLines(path.join(logs, files.find((f) => f.startsWith('combined-'))));
  assert.equal(combined[0].service, 'svc-a');
});

test('QERRORS_DISABLE_FILE_LOGS: no directory at all', (t) => {
  const { dir } = runChild(t, { QERRORS_DISABLE_FILE_LOGS: '1' }, WRITE_LOGS);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a transport added by the application receives entries, and file lines keep one shape', (t) => {
  const code = `
    const q = require(${JSON.stringify(root)});
    const winston = require(${JSON.stringify(require.resolve('winston'))});
    const { PassThrough } = require('node:stream');
    (async () => {
      await q.logError('before the app changed the logger', { n: 1 });
      const main = await q.logger;
      const seen = [];
      const sink = new PassThrough({ objectMode: true });
      sink.on('data', (info) => seen.push(info.message));
      main.add(new winston.transports.Stream({ stream: sink }));
      await q.logError('after the app added a transport', { n: 2 });
      await q.qerrors(new Error('handled after'), 'ctx');
      await new Promise((r) => setTimeout(r, 300));
      main.close();
      await new Promise((r) => setTimeout(r, 100));
      console.log(JSON.stringify(seen));
    })();
  `;
  const { dir, stdout } = runChild(t, {}, code);
  const seen = JSON.parse(stdout);
  assert.ok(seen.includes('after the app added a transport'), stdout);
  assert.ok(seen.includes('Error: handled after'), stdout);
  assert.ok(!seen.includes('before the app changed the logger'), 'the transport was added later');
  const lines = readLines(path.join(dir, 'logs', 'error.log'));
  const before = lines.find((l) => l.message === 'before the app changed the logger');
  const after = lines.find((l) => l.message === 'after the app added a transport');
  assert.ok(before && after, 'both entries reached the file');
  // The direct path and winston's own path write the same fields, in the same order.
  assert.deepEqual(Object.keys(before), Object.keys(after));
  assert.equal(before.service, 'qerrors');
  assert.match(before.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('entries are written after the call returns, as they were when logged', (t) => {
  const code = `
    const q = require(${JSON.stringify(root)});
    (async () => {
      const record = await q.qerrors(new Error('original message'), { route: '/a' });
      const queued = q.logger._pendingCount();
      const asReturned = JSON.parse(JSON.stringify(record));
      await q.qerrors(new Error('index keys'), { 10: 'ten', 2: 'two', b: 'b' });
      record.message = 'changed';
      record.context.route = '/changed';
      delete record.stack;
      for (let i = 0; i < 5000; i++) q.logInfo('burst ' + i);
      const afterBurst = q.logger._pendingCount();
      await new Promise((r) => setTimeout(r, 300));
      console.log(JSON.stringify({ queued, afterBurst, drained: q.logger._pendingCount(), asReturned }));
    })();
  `;
  const { dir, stdout } = runChild(t, {}, code);
  const counts = JSON.parse(stdout);
  // The error's entry (and the offline advisor's advice entry) wait for the end of the turn.
  assert.ok(counts.queued >= 1, stdout);
  assert.ok(counts.afterBurst > 0 && counts.afterBurst < 1024, `a burst is written in bounded batches (${counts.afterBurst} waiting)`);
  assert.equal(counts.drained, 0);
  const [line] = readLines(path.join(dir, 'logs', 'error.log'));
  const { context: returnedContext, timestamp, ...returnedError } = counts.asReturned;
  assert.deepEqual(line.error, returnedError, 'the entry holds the whole record as it was returned');
  assert.deepEqual(line.context, returnedContext);
  assert.equal(line.timestamp, timestamp, "the entry's time is the record's");
  assert.equal(line.error.message, 'original message');
  const raw = fs.readFileSync(path.join(dir, 'logs', 'error.log'), 'utf8');
  assert.ok(raw.includes('"context":{"10":"ten","2":"two","b":"b"}'), 'keys in the order winston json() writes them');
  assert.deepEqual(line.context, { route: '/a' }, 'the context once, never context.context');
  assert.match(line.error.stack, /^Error: original message\n/);
  const combined = readLines(path.join(dir, 'logs', 'combined.log')).filter((l) => l.message.startsWith('burst '));
  assert.equal(combined.length, 5000);
  assert.deepEqual(
    combined.slice(0, 3).map((l) => l.message),
    ['burst 0', 'burst 1', 'burst 2'],
    'in order'
  );
});

test('entries still queued when the process exits are written before it ends', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-exit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const code = `
    const q = require(${JSON.stringify(root)});
    q.logInfo('before exit');
    q.qerrors(new Error('handled just before exit'), 'cli').then(() => process.exit(3));
  `;
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 20000,
    env: { ...process.env, NODE_ENV: 'production', QERRORS_VERBOSE: 'false' },
  });
  assert.equal(r.status, 3, r.stderr);
  const errors = readLines(path.join(dir, 'logs', 'error.log'));
  assert.deepEqual(
    errors.map((l) => l.message),
    ['Error: handled just before exit']
  );
  const combined = readLines(path.join(dir, 'logs', 'combined.log')).map((l) => l.message);
  assert.deepEqual(combined.slice(0, 2), ['before exit', 'Error: handled just before exit'], 'in order');
});
