'use strict';

// The AI advice cache shared through a real redis-server: processes of one service make one
// provider call per error between them, and a Redis outage degrades to the local cache.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');

const { startRedis, redisSkip, freePort } = require('./redis-server');
const { startMock } = require('./helpers/ai-mock');

const root = path.resolve(__dirname, '..');
const lib = JSON.stringify(path.join(root, 'lib', 'native', 'ai.js'));
const skip = redisSkip();

// The same error in every process: a fixed stack gives one fingerprint.
const child = `
  const ai = require(${lib});
  const e = new Error('payment gateway refused the charge');
  e.stack = 'Error: payment gateway refused the charge\\n    at charge (/srv/app/billing.js:41:11)';
  ai.analyze(e).then((a) => {
    const s = ai.stats();
    console.log(JSON.stringify({ advice: a && a.advice, sharedHits: s.sharedHits, providerCalls: s.providerCalls, redisUp: s.redisUp }));
  });`;

function runChild(env) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', child],
      {
        cwd: root,
        timeout: 15000,
        env: { PATH: process.env.PATH || '', NODE_ENV: 'test', QERRORS_AI_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-test', ...env },
      },
      (err, stdout, stderr) => resolve({ code: err ? err.code ?? 'killed' : 0, stdout, stderr })
    );
  });
}

test('two processes sharing the advice cache through Redis make one provider call', { skip }, async (t) => {
  const server = await startRedis();
  const mock = await startMock('openai');
  t.after(async () => {
    await mock.close();
    await server.stop();
  });
  mock.fallback = { delayMs: 300, content: JSON.stringify({ advice: 'retry the charge with an idempotency key' }) };
  const env = { QERRORS_OPENAI_URL: mock.url, QERRORS_REDIS_URL: server.url };
  const [a, b] = await Promise.all([runChild(env), runChild(env)]);
  for (const r of [a, b]) assert.equal(r.code, 0, r.stderr);
  const ra = JSON.parse(a.stdout);
  const rb = JSON.parse(b.stdout);
  // The children's stderr says why when they did not share (a Redis outage line).
  assert.equal(mock.requests.length, 1, `one provider call between the two processes; stderr: ${a.stderr} | ${b.stderr}`);
  assert.equal(ra.advice, 'retry the charge with an idempotency key');
  assert.equal(rb.advice, ra.advice);
  assert.equal(ra.providerCalls + rb.providerCalls, 1);
  assert.equal(ra.sharedHits + rb.sharedHits, 1, 'the other process used the shared advice');
  const keys = await server.command('KEYS', 'qerrors:advice:*');
  assert.equal(keys.length, 1, `only the advice remains, the in-flight marker is released: ${keys}`);
  const ttl = await server.command('PTTL', keys[0]);
  assert.ok(ttl > 0 && ttl <= 86400000, `shared advice expires with the cache TTL, got ${ttl}`);

  // A third process later finds the advice in Redis and calls nobody.
  const c = await runChild(env);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(JSON.parse(c.stdout).sharedHits, 1);
  assert.equal(mock.requests.length, 1);
});

test('with Redis unreachable, each process analyses locally and logs the outage once', async (t) => {
  const mock = await startMock('openai');
  t.after(() => mock.close());
  mock.fallback = { content: JSON.stringify({ advice: 'local advice' }) };
  const port = await freePort();
  const r = await runChild({ QERRORS_OPENAI_URL: mock.url, QERRORS_REDIS_URL: `redis://127.0.0.1:${port}` });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.advice, 'local advice');
  assert.equal(out.redisUp, false);
  assert.equal(mock.requests.length, 1);
  const lines = r.stderr.split('\n').filter((l) => l.includes('qerrors redis:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /unavailable .*using the local advice cache/);
});

test('an invalid QERRORS_REDIS_URL warns once and keeps the cache local', async (t) => {
  const mock = await startMock('openai');
  t.after(() => mock.close());
  const r = await runChild({ QERRORS_OPENAI_URL: mock.url, QERRORS_REDIS_URL: 'http://not-redis' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).advice, 'default mock advice');
  assert.equal(r.stderr.match(/QERRORS_REDIS_URL="http:\/\/not-redis" \(not a redis:\/\/ URL\)/g)?.length, 1, r.stderr);
});
