'use strict';

// Process hygiene (docs/api.md, "Requiring the package"): requiring qerrors does no I/O and leaves
// nothing running; a process that handled errors (with the AI pipeline active) exits by
// itself; SIGTERM still terminates it and no signal handlers were added.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function scratchDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-hygiene-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// File logging on (NODE_ENV is not 'test'), console quiet.
const childEnv = (extra = {}) => ({ ...process.env, NODE_ENV: 'production', QERRORS_VERBOSE: 'false', ...extra });

test('require creates no logs directory, adds no signal handlers and starts nothing', (t) => {
  const dir = scratchDir(t);
  const code = `
    const before = ['SIGTERM', 'SIGINT', 'beforeExit', 'exit'].map((s) => process.listenerCount(s));
    const q = require(${JSON.stringify(root)});
    const after = ['SIGTERM', 'SIGINT', 'beforeExit', 'exit'].map((s) => process.listenerCount(s));
    const handles = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    console.log(JSON.stringify({ before, after, handles, keys: Object.keys(q).length }));
  `;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: dir, env: childEnv(), encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.after, out.before);
  assert.deepEqual(out.handles, []);
  assert.equal(out.keys, 111);
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing written in the cwd');
});

test('a process that handled errors and called every function exits by itself within a second', async (t) => {
  const dir = scratchDir(t);
  const code = `
    const q = require(${JSON.stringify(root)});
    process.on('unhandledRejection', (e) => { console.error('UNHANDLED', e); process.exitCode = 3; });
    (async () => {
      const res = { headersSent: false, status() { return res; }, json() { res.headersSent = true; }, send() { res.headersSent = true; } };
      for (let i = 0; i < 20; i++) await q.qerrors(new Error('boom ' + (i % 3)), 'loop', { headers: {} }, res);
      const rec = await q.qerrors(new TypeError('type'), 'ctx');
      // The AI pipeline took the error (it returns the error's 16-hex fingerprint).
      if (!/^[0-9a-f]{16}$/.test(rec.fingerprint)) { console.error('NO PIPELINE', rec.fingerprint); process.exitCode = 4; }
      await q.logInfo('info line', { token: 'x' });
      await q.logError('error line');
      const cb = q.createCircuitBreaker(async () => 1, 'svc');
      await cb.execute();
      const limit = q.createLimiter(2);
      await Promise.all([1, 2, 3].map((n) => limit(async () => n)));
      // Every top-level function once, without arguments; failures are expected and ignored.
      const saved = { log: console.log, warn: console.warn, error: console.error, info: console.info };
      console.log = console.warn = console.error = console.info = () => {};
      for (const [name, fn] of Object.entries(q)) {
        if (typeof fn !== 'function' || /^class /.test(Function.prototype.toString.call(fn))) continue;
        try {
          const r = fn();
          if (r && typeof r.then === 'function') await Promise.resolve(r).catch(() => {});
        } catch {}
      }
      q.stopQueueMetrics();
      Object.assign(console, saved);
      await new Promise((r) => setTimeout(r, 50));
      process.stdout.write('done\\n');
    })();
  `;
  const child = spawn(process.execPath, ['-e', code], { cwd: dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const result = await new Promise((resolve) => {
    let doneAt = null;
    let killer = null;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (doneAt === null && stdout.includes('done')) {
        doneAt = Date.now();
        killer = setTimeout(() => child.kill('SIGKILL'), 1000);
      }
    });
    child.on('exit', (status, signal) => {
      if (killer) clearTimeout(killer);
      resolve({ status, signal, afterDoneMs: doneAt === null ? null : Date.now() - doneAt });
    });
  });
  assert.ok(stdout.includes('done'), `work finished (stderr: ${stderr})`);
  assert.equal(result.signal, null, `exited by itself (stderr: ${stderr})`);
  assert.equal(result.status, 0, stderr);
  assert.ok(result.afterDoneMs < 1000, `exit ${result.afterDoneMs} ms after its work`);
  assert.equal(stderr.includes('UNHANDLED'), false);
});

test('SIGTERM still terminates a process using qerrors', async (t) => {
  const dir = scratchDir(t);
  const code = `
    const q = require(${JSON.stringify(root)});
    q.qerrors(new Error('x'), 'ctx').then(() => {
      setInterval(() => {}, 1000);
      console.log(JSON.stringify({ sigterm: process.listenerCount('SIGTERM'), sigint: process.listenerCount('SIGINT') }));
    });
  `;
  const child = spawn(process.execPath, ['-e', code], { cwd: dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const listeners = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n')) resolve(JSON.parse(stdout));
    });
    child.on('exit', () => reject(new Error('exited early')));
  });
  assert.deepEqual(listeners, { sigterm: 0, sigint: 0 });
  const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
  child.kill('SIGTERM');
  const [status, signal] = await new Promise((resolve) => child.on('exit', (s, sig) => resolve([s, sig])));
  clearTimeout(killer);
  assert.equal(signal, 'SIGTERM');
  assert.equal(status, null);
});
