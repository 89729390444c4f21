'use strict';

// The README's "In your own service" snippet, extracted from README.md and run verbatim as a
// service in a child process (with `require('qerrors')` and `require('express')` resolving to
// this repository and its Express 4), then asked real HTTP requests.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { spawn } = require('node:child_process');

const root = path.resolve(__dirname, '..');

function readmeSnippet() {
  const text = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const m = /In your own service[^\n]*\n\n```js\n([\s\S]*?)^```$/m.exec(text);
  assert.ok(m, 'README.md has the "In your own service" JavaScript snippet');
  return m[1];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once the port accepts connections (the child is listening), retrying every 50 ms. */
async function waitForPort(port, child) {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the snippet exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.destroy();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("the README's JavaScript snippet runs verbatim and answers as documented", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-readme-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'qerrors'), 'dir');
  fs.symlinkSync(path.dirname(require.resolve('express/package.json')), path.join(dir, 'node_modules', 'express'), 'dir');
  fs.writeFileSync(path.join(dir, 'server.js'), readmeSnippet());
  const port = await freePort();
  const child = spawn(process.execPath, ['server.js'], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), NODE_ENV: 'production', QERRORS_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // A kill switch, not a timing assertion: a snippet that never listens fails instead of hanging.
  const killer = setTimeout(() => child.kill('SIGKILL'), 30000);
  t.after(() => {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  await waitForPort(port, child);
  const base = `http://127.0.0.1:${port}`;

  const ok = await fetch(`${base}/orders/42`);
  assert.deepEqual([ok.status, await ok.json()], [200, { id: 42 }]);

  const bad = await fetch(`${base}/orders/abc`, { headers: { 'x-request-id': 'readme-1' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('x-request-id'), 'readme-1');
  const body = await bad.json();
  assert.deepEqual(
    { code: body.error.code, message: body.error.message, status: body.error.status, requestId: body.error.requestId, details: body.error.details },
    { code: 'VALIDATION_ERROR', message: 'id must be a number', status: 400, requestId: 'readme-1', details: { field: 'id' } }
  );

  const missing = await fetch(`${base}/nope`, { headers: { accept: 'application/json' } });
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'NOT_FOUND');

  const metrics = await fetch(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /qerrors_errors_handled_total/);

  // The validation error's JSON log line, with the request id the client saw.
  for (let i = 0; i < 100 && !stdout.includes('readme-1'); i++) await new Promise((r) => setTimeout(r, 20));
  const line = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((e) => e.requestId === 'readme-1');
  assert.ok(line, stdout);
  assert.deepEqual([line.level, line.method, line.url, line.status, line.error.id], ['warn', 'GET', '/orders/abc', 400, body.error.id]);
  assert.equal(stderr, '');
});
