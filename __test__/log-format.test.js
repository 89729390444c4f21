'use strict';

// Logging as containers and log platforms expect it, each case in a child process with a
// production environment: QERRORS_LOG_FORMAT=json (JSON lines on stdout, no files), 4xx at
// warn and 5xx at error, the request id, method, url and status of a handled request, the
// service's own version, breaker transitions through the logger, and the process-failure
// handlers logging redacted entries while the service keeps its own exit policy.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Runs `code` in a fresh directory holding a package.json of version 3.4.5. */
function runChild(t, env, code, expectStatus = 0) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-fmt-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'svc', version: '3.4.5' }));
  const childEnv = { ...process.env, NODE_ENV: 'production', ...env };
  delete childEnv.npm_package_version;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: dir, encoding: 'utf8', timeout: 30000, env: childEnv });
  assert.equal(r.status, expectStatus, r.stderr);
  return { dir, stdout: r.stdout, stderr: r.stderr };
}

const SERVER = `
  const q = require(${JSON.stringify(root)});
  const express = require(${JSON.stringify(require.resolve('express'))});
  const http = require('node:http');
  const app = express();
  app.get('/missing', () => { throw q.ErrorFactory.notFound('User'); });
  app.get('/down', () => { throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432 password=pg-secret'), { code: 'ECONNREFUSED' }); });
  app.use(q.middleware());
  const get = (port, p, headers) => new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: p, headers }, (res) => { res.resume(); res.on('end', resolve); }));
  const server = app.listen(0, '127.0.0.1', async () => {
    const { port } = server.address();
    await get(port, '/missing', { 'x-request-id': 'req-404' });
    await get(port, '/down?token=abc', { 'x-request-id': 'req-502' });
    const b = q.createCircuitBreaker(async () => { throw new Error('x'); }, 'payments', { failureThreshold: 1, recoveryTimeoutMs: 60000 });
    await b.execute().catch(() => {});
    b.shutdown();
    server.close();
    await new Promise((r) => setTimeout(r, 200));
  });
`;

test('QERRORS_LOG_FORMAT=json: JSON lines on stdout, no files, levels by status, request fields', (t) => {
  const { dir, stdout } = runChild(t, { QERRORS_LOG_FORMAT: 'json', QERRORS_VERBOSE: 'false' }, SERVER);
  assert.deepEqual(fs.readdirSync(dir), ['package.json'], 'no logs directory');
  const lines = stdout.trim().split('\n');
  const entries = lines.map((l) => JSON.parse(l)); // every stdout line is JSON
  const notFound = entries.find((e) => e.requestId === 'req-404');
  const down = entries.find((e) => e.requestId === 'req-502');
  assert.ok(notFound && down, stdout);
  assert.equal(notFound.level, 'warn', 'a 4xx is the client’s error: warn');
  assert.equal(down.level, 'error');
  assert.deepEqual([notFound.method, notFound.url, notFound.status], ['GET', '/missing', 404]);
  assert.deepEqual([down.method, down.url, down.status], ['GET', '/down?token=[REDACTED]', 502]);
  assert.match(down.error.id, /^[0-9a-f]{12}$/);
  assert.equal(down.error.code, 'ECONNREFUSED');
  assert.equal(down.version, '3.4.5', "the service's own package.json");
  assert.match(down.timestamp, ISO);
  assert.equal(typeof down.context, 'object');
  assert.equal('context' in down.context, false, 'no context.context');
  assert.equal(stdout.includes('pg-secret'), false);
  const breaker = entries.find((e) => e.message === '[CircuitBreaker] payments: transitioning to OPEN');
  assert.ok(breaker, 'breaker transitions go through the logger');
  assert.equal(breaker.context.breaker, 'payments');
});

test('text format: a console line with ids and the files; breaker transitions reach the files too', (t) => {
  const { dir, stdout } = runChild(t, {}, SERVER);
  const consoleLines = stdout.trim().split('\n');
  const down = consoleLines.find((l) => l.includes('request req-502'));
  assert.match(down, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error: Error: connect ECONNREFUSED .* \(error [0-9a-f]{12}, request req-502, GET \/down\?token=\[REDACTED\] -> 502\)$/);
  assert.ok(consoleLines.some((l) => /warn: ServiceError: User not found \(error [0-9a-f]{12}, request req-404, GET \/missing -> 404\)/.test(l)), stdout);
  assert.ok(consoleLines.includes('[CircuitBreaker] payments: transitioning to OPEN'), 'the breaker keeps its own console line');
  const read = (f) => fs.readFileSync(path.join(dir, 'logs', f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const errors = read('error.log');
  assert.deepEqual(
    errors.map((e) => e.requestId),
    ['req-502'],
    'the 4xx is not in error.log'
  );
  const combined = read('combined.log');
  assert.ok(combined.some((e) => e.requestId === 'req-404' && e.level === 'warn'));
  assert.ok(combined.some((e) => e.message === '[CircuitBreaker] payments: transitioning to OPEN'), 'the transition is in the files');
});

test('QERRORS_LOG_FORMAT with an invalid value warns once and keeps the text format', (t) => {
  const { stderr, dir } = runChild(t, { QERRORS_LOG_FORMAT: 'yaml', QERRORS_VERBOSE: 'false' }, `
    const q = require(${JSON.stringify(root)});
    q.logInfo('one'); q.logInfo('two');
  `);
  assert.equal(stderr.match(/QERRORS_LOG_FORMAT/g).length, 1, stderr);
  assert.ok(fs.existsSync(path.join(dir, 'logs', 'combined.log')));
});

test('uncaughtException: logged through qerrors, redacted; the service exits as it decides', (t) => {
  const { stdout } = runChild(
    t,
    { QERRORS_LOG_FORMAT: 'json' },
    `
    const q = require(${JSON.stringify(root)});
    process.on('uncaughtException', (err, origin) => {
      q.logUncaughtException(err, origin);
      process.exit(7);
    });
    setTimeout(() => { throw new Error('crash with token=tok-secret-123'); }, 1);
  `,
    7
  );
  const entry = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((e) => e.context && e.context.source === 'uncaughtException');
  assert.ok(entry, stdout);
  assert.equal(entry.level, 'error');
  assert.equal(entry.error.message, 'crash with token=[REDACTED]');
  assert.equal(stdout.includes('tok-secret-123'), false);
});

test('unhandledRejection from an unwrapped Express 4 async route: logged (redacted), the process keeps serving', (t) => {
  const { stdout } = runChild(
    t,
    { QERRORS_LOG_FORMAT: 'json' },
    `
    const q = require(${JSON.stringify(root)});
    const express = require(${JSON.stringify(require.resolve('express'))});
    const http = require('node:http');
    process.on('unhandledRejection', q.logUnhandledRejection);
    const app = express();
    app.get('/unwrapped', async (req, res) => { throw new Error('Bearer abc.def.ghi secret'); });
    app.get('/ok', (req, res) => res.send('ok'));
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      const req = http.get({ host: '127.0.0.1', port, path: '/unwrapped', timeout: 300 });
      req.on('timeout', () => req.destroy());
      req.on('error', () => {
        http.get({ host: '127.0.0.1', port, path: '/ok' }, (res) => {
          res.resume();
          res.on('end', () => { console.log(JSON.stringify({ alive: res.statusCode })); server.close(); });
        });
      });
    });
  `
  );
  const entries = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(entries.some((e) => e.alive === 200), 'still serving');
  const entry = entries.find((e) => e.context && e.context.source === 'unhandledRejection');
  assert.ok(entry, stdout);
  assert.equal(entry.error.message, 'Bearer [REDACTED] secret');
});
