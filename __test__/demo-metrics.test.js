'use strict';

// The metrics endpoint of a live Express app using qerrors, read as JSON and as Prometheus
// text, and `bin/qerrors-monitor --once` against it.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { execFile } = require('node:child_process');
const express = require('express');

const { qerrors } = require('..');
const { metricsHandler, aiPipeline } = require('../native');

const BIN = path.join(__dirname, '..', 'bin', 'qerrors-monitor');

function listen(app) {
  return new Promise((resolve) => {
    const server = http.createServer(app).listen(0, '127.0.0.1', () => resolve(server));
  });
}

function monitor(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

test('the metrics endpoint shows errorsHandled and the ai component; the monitor prints the cache hit rate', async (t) => {
  const saved = { provider: process.env.QERRORS_AI_PROVIDER, openai: process.env.OPENAI_API_KEY, gemini: process.env.GEMINI_API_KEY };
  delete process.env.OPENAI_API_KEY;
  delete process.env.GEMINI_API_KEY;
  delete process.env.QERRORS_AI_PROVIDER;
  aiPipeline.configure({ provider: 'offline' });

  const app = express();
  app.get('/metrics', metricsHandler());
  app.get('/boom/:n', (req) => {
    // Two signatures: most requests fail the same way, a few another way.
    if (req.params.n % 5 === 0) throw new RangeError('page size out of range');
    return req.user.id;
  });
  app.use(qerrors.middleware());
  const server = await listen(app);
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await aiPipeline.shutdown();
    for (const [k, v] of [['QERRORS_AI_PROVIDER', saved.provider], ['OPENAI_API_KEY', saved.openai], ['GEMINI_API_KEY', saved.gemini]]) {
      if (v !== undefined) process.env[k] = v;
    }
  });
  const base = `http://127.0.0.1:${server.address().port}`;

  const before = await (await fetch(`${base}/metrics?format=json`)).json();
  for (let n = 1; n <= 20; n++) {
    const res = await fetch(`${base}/boom/${n}`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 500);
    await res.text();
  }

  const snap = await (await fetch(`${base}/metrics`, { headers: { accept: 'application/json' } })).json();
  assert.equal(snap.qerrors.errorsHandled - before.qerrors.errorsHandled, 20);
  assert.ok(snap.qerrors.latencyP99Ms > 0);
  const ai = snap.components.ai;
  assert.ok(ai, 'the AI pipeline reports as component ai');
  assert.equal(ai.provider, 'offline');
  assert.equal(ai.cacheMisses, 2, 'one miss per signature');
  assert.equal(ai.cacheHits, 18);
  assert.equal(ai.lastError, undefined, 'free text stays out of the metrics');
  assert.ok(snap.components.memory, 'the memory-pressure policy reports as component memory');

  const prom = await (await fetch(`${base}/metrics`)).text();
  assert.match(prom, /^qerrors_errors_handled_total \d+$/m);
  assert.match(prom, /^qerrors_component_cache_hits_total\{component="ai"\} 18$/m);
  assert.match(prom, /^qerrors_component_info\{component="memory",field="level",value="normal"\} 1$/m);

  const r = await monitor([`${base}/metrics`, '--once', '--sample-ms', '50']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cache +hit rate 90\.0%/);
  assert.match(r.stdout, /errors +handled \d+/);
  assert.match(r.stdout, /pressure +level normal +shrinks 0 +restores 0/);
  assert.match(r.stdout, /ALERT latency|alerts +none|ALERT heap/);

  const j = await monitor([`${base}/metrics`, '--once', '--json', '--sample-ms', '50']);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(JSON.parse(j.stdout).cacheHitRate, 0.9);
});
